#include "core/rng.h"

#include <cmath>

namespace cimsim {

CounterRng::CounterRng(uint64_t seed, std::initializer_list<uint64_t> path) : key_(mix64(seed + kGolden64)) {
  for (uint64_t v : path) key_ = mix64(key_ ^ v) + kGolden64;
}

double CounterRng::normal(uint64_t index) const {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double u1 = uniform(2 * index);
  const double u2 = uniform(2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

}  // namespace cimsim
