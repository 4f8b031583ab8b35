#include "core/rng.h"

namespace cimsim {

CounterRng::CounterRng(uint64_t seed, std::initializer_list<uint64_t> path) : key_(mix64(seed + kGolden64)) {
  for (uint64_t v : path) key_ = mix64(key_ ^ v) + kGolden64;
}

double CounterRng::normal(uint64_t index) const { return normal_inline(index); }

void CounterRng::normals(uint64_t first, uint64_t stride, int64_t count, double* out) const {
  // Branch-free and fully inlined, so the compiler can vectorise it across draws.
  for (int64_t i = 0; i < count; ++i) out[i] = normal_inline(first + uint64_t(i) * stride);
}

}  // namespace cimsim
