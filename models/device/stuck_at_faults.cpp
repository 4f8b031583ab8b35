#include "device/stuck_at_faults.h"

namespace cimsim {

StuckAtFaults::State StuckAtFaults::state(const CounterRng& rng, uint64_t index) const {
  if (p_stuck_at_0 == 0 && p_stuck_at_1 == 0) return State::kHealthy;
  const double u = rng.uniform(index);
  if (u < p_stuck_at_0) return State::kStuckAt0;
  if (u < p_stuck_at_0 + p_stuck_at_1) return State::kStuckAt1;
  return State::kHealthy;
}

double StuckAtFaults::apply(double g, double g_max, const CounterRng& rng, uint64_t index) const {
  switch (state(rng, index)) {
    case State::kStuckAt0:
      return 0.0;
    case State::kStuckAt1:
      return g_max;
    case State::kHealthy:
      break;
  }
  return g;
}

}  // namespace cimsim
