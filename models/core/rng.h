// Counter-based random numbers: every draw is a pure function of (seed, stream path, index).
//
// Why counter-based: a device draw or a read-noise draw must not depend on the order in which
// the simulator visits cells or on how a run is cut into batches, so the same seed gives the
// same chip and the same noisy outputs for any batch size. The generator is SplitMix64's
// output function (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014) applied to a Weyl sequence; docs/numerics.md gives the exact recipe.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
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
  kTrainPartialSum = 100,  // stage 2's injected partial-sum noise (training/counter_normals.h)
};

// ln(u) for 0 < u <= 1 and cos(2 pi u) for 0 <= u < 1, in plain double arithmetic with a fixed
// order of operations (docs/numerics.md, "Random draws"): at most 5e-16 from the exact values, and
// bit-identical wherever IEEE-754 double and correctly rounded sqrt/floor are available.
inline double portable_log_unit(double u) {
  uint64_t bits = 0;
  std::memcpy(&bits, &u, sizeof bits);
  const int64_t raw_exponent = int64_t((bits >> 52) & 0x7ff) - 1023;
  const uint64_t mantissa_bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m = 0;
  std::memcpy(&m, &mantissa_bits, sizeof m);  // u = m 2^e, m in [1, 2)
  // Keep m in [sqrt(1/2), sqrt(2)): halve it (exact) and bump the exponent when above sqrt(2).
  const int64_t above = m > 1.4142135623730951;
  m = m * (1.0 - 0.5 * double(above));
  const double exponent = double(raw_exponent + above);
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  // 2 atanh(s) = 2 s (1 + z/3 + z^2/5 + ... + z^10/21), Horner from the z^10 term.
  double p = 1.0 / 21.0;
  p = p * z + 1.0 / 19.0;
  p = p * z + 1.0 / 17.0;
  p = p * z + 1.0 / 15.0;
  p = p * z + 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;
  p = p * z + 1.0;
  return exponent * 0.6931471805599453 + 2.0 * s * p;
}

inline double portable_cos_two_pi(double u) {
  const double r = 4.0 * u;  // 2 pi u = (pi / 2) (q + f), q = floor(4u), f = 4u - q (both exact)
  const double q = std::floor(r);
  const double x = (r - q) * 1.5707963267948966;  // in [0, pi / 2)
  const double x2 = x * x;
  // Taylor series to x^22 (cos) and x^21 (sin) by Horner; the coefficients are the doubles
  // nearest to (-1)^k / (2k)! and (-1)^k / (2k+1)!.
  double c = -8.896791392450574e-22;
  c = c * x2 + 4.110317623312165e-19;
  c = c * x2 + -1.5619206968586225e-16;
  c = c * x2 + 4.779477332387385e-14;
  c = c * x2 + -1.1470745597729725e-11;
  c = c * x2 + 2.08767569878681e-09;
  c = c * x2 + -2.755731922398589e-07;
  c = c * x2 + 2.48015873015873e-05;
  c = c * x2 + -0.001388888888888889;
  c = c * x2 + 0.041666666666666664;
  c = c * x2 + -0.5;
  c = c * x2 + 1.0;
  double s = 1.9572941063391263e-20;
  s = s * x2 + -8.22063524662433e-18;
  s = s * x2 + 2.8114572543455206e-15;
  s = s * x2 + -7.647163731819816e-13;
  s = s * x2 + 1.6059043836821613e-10;
  s = s * x2 + -2.505210838544172e-08;
  s = s * x2 + 2.7557319223985893e-06;
  s = s * x2 + -0.0001984126984126984;
  s = s * x2 + 0.008333333333333333;
  s = s * x2 + -0.16666666666666666;
  s = s * x2 + 1.0;
  s = s * x;
  // Quadrants 0..3 give cos, -sin, -cos, sin; selected arithmetically (exact: 1 * a + 0 * b = a)
  // so the bulk loop has no branches to stop vectorisation.
  const int64_t quadrant = int64_t(q) & 3;
  const double odd = double(quadrant & 1);
  const double sign = 1.0 - 2.0 * double((quadrant ^ (quadrant >> 1)) & 1);
  return sign * (odd * s + (1.0 - odd) * c);
}

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
  // Box-Muller: sqrt(-2 ln u(2i)) * cos(2 pi u(2i+1)), with ln and cos evaluated by the
  // fixed polynomials below (no libm), so the draw is the same on every IEEE-754 platform.
  double normal(uint64_t index) const;
  // normal(first + i * stride) for i in [0, count), vectorised.
  void normals(uint64_t first, uint64_t stride, int64_t count, double* out) const;
  double normal_inline(uint64_t index) const {
    return std::sqrt(-2.0 * portable_log_unit(uniform(2 * index))) *
           portable_cos_two_pi(uniform(2 * index + 1));
  }

 private:
  uint64_t key_;
};

}  // namespace cimsim
