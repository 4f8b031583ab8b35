// Counter-based random numbers: every draw is a pure function of (seed, stream path, index).
//
// Why counter-based: a device draw or a read-noise draw must not depend on the order in which
// the simulator visits cells or on how a run is cut into batches, so the same seed gives the
// same chip and the same noisy outputs for any batch size. The generator is SplitMix64's
// output function (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014) applied to a Weyl sequence; docs/numerics.md gives the exact recipe.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace cimsim {

// SplitMix64 finaliser: a bijective 64-bit mix.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden64 = 0x9E3779B97F4A7C15ULL;

// Tags that name what a stream of draws is for; they are part of the documented key.
enum class RngTag : uint64_t {
  kProgramAdditive = 1,
  kProgramLognormal = 2,
  kStuckAt = 3,
  kReadNoise = 4,
  kAdcThermal = 5,
  kTestData = 99,
};

class CounterRng {
 public:
  // key = mix64(seed + golden); then for each path element v: key = mix64(key ^ v) + golden.
  CounterRng(uint64_t seed, std::initializer_list<uint64_t> path);

  uint64_t key() const { return key_; }
  // bits(i) = mix64(key + (i + 1) * golden)
  uint64_t bits(uint64_t index) const { return mix64(key_ + (index + 1) * kGolden64); }
  // uniform(i) = ((bits(i) >> 12) + 0.5) * 2^-52, strictly inside (0, 1): 52 bits plus the half
  // keep every value exactly representable (53 bits would round the largest one up to 1).
  double uniform(uint64_t index) const { return (static_cast<double>(bits(index) >> 12) + 0.5) * 0x1.0p-52; }
  // Box-Muller: sqrt(-2 ln u(2i)) * cos(2 pi u(2i+1)).
  double normal(uint64_t index) const;

 private:
  uint64_t key_;
};

}  // namespace cimsim
