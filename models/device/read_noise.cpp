#include "device/read_noise.h"

#include <algorithm>
#include <cmath>

namespace cimsim {

void ReadNoise::apply(float* y, std::int64_t n, const CounterRng& rng, uint64_t index_base, uint64_t index_stride,
                      const double* current) const {
  if (current_sigma > 0) {
    const double s2 = sigma * sigma, c2 = current_sigma * current_sigma;
    for (std::int64_t i = 0; i < n; ++i) {
      const double std_i = std::sqrt(s2 + c2 * current[i]);
      y[i] = static_cast<float>(static_cast<double>(y[i]) +
                                std_i * rng.normal(index_base + uint64_t(i) * index_stride));
    }
    return;
  }
  if (sigma == 0) return;
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(static_cast<double>(y[i]) +
                              sigma * rng.normal(index_base + uint64_t(i) * index_stride));
  }
}

}  // namespace cimsim
