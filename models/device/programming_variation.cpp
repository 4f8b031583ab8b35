#include "device/programming_variation.h"

#include <algorithm>
#include <cmath>

namespace cimsim {

double ProgrammingVariation::program(double target, double g_max, const CounterRng& additive,
                                     const CounterRng& lognormal, uint64_t index) const {
  double g = target;
  if (lognormal_sigma > 0) g *= std::exp(lognormal_sigma * lognormal.normal(index));
  if (additive_sigma > 0) g += additive_sigma * g_max * additive.normal(index);
  return std::clamp(g, 0.0, g_max);
}

}  // namespace cimsim
