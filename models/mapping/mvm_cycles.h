// The cycles of one layer MVM by the closed form of docs/timing.md ("One macro, one MVM", "One
// layer MVM"), from the mapping alone: what the SystemC model takes, known before it runs (used to
// choose weight duplication; tests/sim/test_pipeline.cpp checks it against the simulation).
#pragma once

#include <cstdint>

#include "config/hw_config.h"
#include "mapping/layer_mapping.h"

namespace cimsim {

// max over macros of t_a + (n - 1) max(t_a, t_b) + t_b + t_sa, plus ceil(log2(row tiles)).
int64_t mvm_cycles(const HwConfig& hw, const LayerMapping& mapping);

}  // namespace cimsim
