#include "device/read_noise.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cimsim {

void ReadNoise::apply(float* y, std::int64_t n, const CounterRng& rng, uint64_t index_base,
                      uint64_t index_stride, const double* current) const {
  if (!active()) return;
  const double s2 = sigma * sigma, c2 = current_sigma * current_sigma;
  // The draws in blocks through the vectorised generator (the same values as rng.normal per index).
  constexpr std::int64_t kBlock = 512;
  std::array<double, kBlock> z;
  for (std::int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::int64_t m = std::min(kBlock, n - i0);
    rng.normals(index_base + uint64_t(i0) * index_stride, index_stride, m, z.data());
    if (current_sigma > 0) {
      for (std::int64_t i = 0; i < m; ++i) {
        const double s = std::sqrt(s2 + c2 * current[i0 + i]);
        y[i0 + i] = static_cast<float>(static_cast<double>(y[i0 + i]) + s * z[std::size_t(i)]);
      }
    } else {
      for (std::int64_t i = 0; i < m; ++i)
        y[i0 + i] = static_cast<float>(static_cast<double>(y[i0 + i]) + sigma * z[std::size_t(i)]);
    }
  }
}

}  // namespace cimsim
