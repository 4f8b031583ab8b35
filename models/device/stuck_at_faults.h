// Stuck-at faults: a cell that reads G = 0 (stuck-at-0, "stuck off") or G = g_max (stuck-at-1,
// "stuck on") whatever was programmed. One uniform draw u per cell: u < p0 gives stuck-at-0,
// p0 <= u < p0 + p1 gives stuck-at-1. Rates for RRAM arrays of ~1-10% are reported by Chen et al.,
// "RRAM defect modeling and failure analysis based on march test", DATE 2015; defaults are 0.
#pragma once

#include <cstdint>

#include "core/rng.h"

namespace cimsim {

struct StuckAtFaults {
  double p_stuck_at_0 = 0;
  double p_stuck_at_1 = 0;

  enum class State { kHealthy, kStuckAt0, kStuckAt1 };
  State state(const CounterRng& rng, uint64_t index) const;
  // The conductance the cell reads after faults.
  double apply(double g, double g_max, const CounterRng& rng, uint64_t index) const;
};

}  // namespace cimsim
