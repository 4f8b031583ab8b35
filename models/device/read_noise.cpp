#include "device/read_noise.h"

#include <algorithm>

namespace cimsim {

void ReadNoise::apply(float* y, std::int64_t n, const CounterRng& rng, uint64_t index_base,
                      uint64_t index_stride) const {
  if (sigma == 0) return;
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(static_cast<double>(y[i]) +
                              sigma * rng.normal(index_base + uint64_t(i) * index_stride));
  }
}

}  // namespace cimsim
