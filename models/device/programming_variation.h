// Programming (write) variation of a cell's conductance.
//
// Two forms, both common in the literature and in aihwkit's presets: multiplicative log-normal
// (G = G_target * exp(sigma_ln * z), as reported for RRAM/PCM write noise) and additive Gaussian
// with a std relative to g_max (G = G + sigma * g_max * z, NeuroSim's "device-to-device variation"
// as a fraction of the on-state conductance). Defaults are 0 (ideal); the presets cite their values.
// The result is clamped to the programmable range [0, g_max].
#pragma once

#include <cstdint>

#include "core/rng.h"

namespace cimsim {

struct ProgrammingVariation {
  double additive_sigma = 0;   // fraction of g_max
  double lognormal_sigma = 0;  // sigma of ln G

  // `index` identifies the cell within the streams (see docs/numerics.md, "Device draws").
  double program(double target, double g_max, const CounterRng& additive, const CounterRng& lognormal,
                 uint64_t index) const;
};

}  // namespace cimsim
