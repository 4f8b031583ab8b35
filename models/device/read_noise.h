// Read noise on a column's analog partial sum: additive Gaussian with a fixed std in MAC units
// (one input digit times one conductance level), drawn anew for every conversion. This lumps
// thermal and shot noise of the bit line and the sense path, like aihwkit's out_noise (which is
// relative to the output bound instead). Default 0.
#pragma once

#include <cstdint>

#include "core/rng.h"

namespace cimsim {

struct ReadNoise {
  double sigma = 0;
  // The part that grows with the bit line's current (device.read_noise_current_sigma): with it,
  // y[i]'s std is sqrt(sigma^2 + current_sigma^2 |current[i]|), |current| in MAC units.
  double current_sigma = 0;

  bool active() const { return sigma > 0 || current_sigma > 0; }
  // Adds noise to y[i] for i in [0, n); the draw for y[i] uses index index_base + i * index_stride.
  // `current` (n entries) is read only when current_sigma > 0.
  void apply(float* y, std::int64_t n, const CounterRng& rng, uint64_t index_base, uint64_t index_stride,
             const double* current = nullptr) const;
};

}  // namespace cimsim
