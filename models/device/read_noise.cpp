#include "device/read_noise.h"

#include <algorithm>
#include <array>

namespace cimsim {

void ReadNoise::apply(float* y, std::int64_t n, const CounterRng& rng, uint64_t index_base,
                      uint64_t index_stride) const {
  if (sigma == 0) return;
  // The draws in blocks through the vectorised generator (the same values as rng.normal per index).
  constexpr std::int64_t kBlock = 512;
  std::array<double, kBlock> z;
  for (std::int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::int64_t m = std::min(kBlock, n - i0);
    rng.normals(index_base + uint64_t(i0) * index_stride, index_stride, m, z.data());
    for (std::int64_t i = 0; i < m; ++i)
      y[i0 + i] = static_cast<float>(static_cast<double>(y[i0 + i]) + sigma * z[std::size_t(i)]);
  }
}

}  // namespace cimsim
