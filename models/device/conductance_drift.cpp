#include "device/conductance_drift.h"

#include <cmath>

namespace cimsim {

double ConductanceDrift::factor() const { return nu == 0 ? 1.0 : std::pow(t / t0, -nu); }

}  // namespace cimsim
