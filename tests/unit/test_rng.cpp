// Tests of the counter-based generator (models/core/rng.h): purity, stream separation, the
// distribution of uniform() and normal(), and the recipe of docs/numerics.md section 10 reproduced
// independently.

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace {

using cimsim::CounterRng;

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr double kPi = 3.14159265358979323846;

// SplitMix64's output function, retyped from Steele, Lea, Flood (OOPSLA 2014).
uint64_t ref_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Inverse of x -> x ^ (x >> s).
uint64_t unxorshift(uint64_t z, int s) {
  uint64_t x = z;
  for (int i = 0; i < 64 / s + 1; ++i) x = z ^ (x >> s);
  return x;
}

// Multiplicative inverse of an odd number modulo 2^64 (Newton iteration).
uint64_t inverse_mod64(uint64_t c) {
  uint64_t inv = c;  // correct to 3 bits for odd c
  for (int i = 0; i < 5; ++i) inv *= 2 - c * inv;
  return inv;
}

uint64_t ref_unmix(uint64_t z) {
  z = unxorshift(z, 31);
  z *= inverse_mod64(0x94D049BB133111EBULL);
  z = unxorshift(z, 27);
  z *= inverse_mod64(0xBF58476D1CE4E5B9ULL);
  return unxorshift(z, 30);
}

TEST(Rng, Mix64MatchesPublishedSplitMix64Outputs) {
  // splitmix64 seeded with 0 outputs mix64(golden), mix64(2 golden), ... (reference C code).
  EXPECT_EQ(cimsim::mix64(kGolden), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(cimsim::mix64(2 * kGolden), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(cimsim::mix64(3 * kGolden), 0x06C45D188009454FULL);
  EXPECT_EQ(cimsim::kGolden64, kGolden);
}

TEST(Rng, KeyDerivationFollowsHeaderRecipe) {
  const uint64_t seed = 12345;
  uint64_t key = ref_mix(seed + kGolden);
  EXPECT_EQ(CounterRng(seed, {}).key(), key);
  for (uint64_t v : {3ULL, 7ULL, 0ULL, 42ULL}) key = ref_mix(key ^ v) + kGolden;
  EXPECT_EQ(CounterRng(seed, {3, 7, 0, 42}).key(), key);
}

TEST(Rng, PathTagsHaveDocumentedValues) {
  EXPECT_EQ(uint64_t(cimsim::RngTag::kProgramAdditive), 1u);
  EXPECT_EQ(uint64_t(cimsim::RngTag::kProgramLognormal), 2u);
  EXPECT_EQ(uint64_t(cimsim::RngTag::kStuckAt), 3u);
  EXPECT_EQ(uint64_t(cimsim::RngTag::kReadNoise), 4u);
  EXPECT_EQ(uint64_t(cimsim::RngTag::kAdcThermal), 5u);
}

TEST(Rng, BitsUniformNormalFollowHeaderRecipe) {
  const CounterRng rng(2024, {4, 1, 2});
  const uint64_t key = rng.key();
  for (uint64_t i : {0ULL, 1ULL, 2ULL, 1000ULL, 123456789ULL, ~0ULL - 1}) {
    const uint64_t bits = ref_mix(key + (i + 1) * kGolden);
    EXPECT_EQ(rng.bits(i), bits) << "i=" << i;
    // ((bits >> 12) + 0.5) * 2^-52 == (2 (bits >> 12) + 1) * 2^-53: an integer below 2^53, exact.
    const double u = std::ldexp(static_cast<double>(2 * (bits >> 12) + 1), -53);
    EXPECT_EQ(rng.uniform(i), u) << "i=" << i;
  }
  for (uint64_t i : {0ULL, 5ULL, 99999ULL}) {
    const double u1 = rng.uniform(2 * i), u2 = rng.uniform(2 * i + 1);
    // ln and cos come from fixed polynomials (not libm): within 1e-14 of libm's values.
    EXPECT_NEAR(rng.normal(i), std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2), 1e-14) << "i=" << i;
  }
}

TEST(Rng, IsPureFunctionOfSeedPathIndex) {
  const CounterRng a(77, {1, 2, 3});
  std::vector<uint64_t> forward;
  for (uint64_t i = 0; i < 1000; ++i) forward.push_back(a.bits(i));
  // A separately built generator visited in reverse order gives the same draws.
  const CounterRng b(77, {1, 2, 3});
  EXPECT_EQ(a.key(), b.key());
  for (uint64_t i = 1000; i-- > 0;) {
    ASSERT_EQ(b.bits(i), forward[i]) << "i=" << i;
    ASSERT_EQ(b.normal(i), a.normal(i)) << "i=" << i;
  }
}

// Mean number of differing bits between two streams; 32 for independent streams.
double mean_bit_distance(const CounterRng& a, const CounterRng& b, uint64_t b_offset = 0) {
  constexpr int kN = 20000;
  double total = 0;
  for (uint64_t i = 0; i < kN; ++i)
    total += double(std::bitset<64>(a.bits(i) ^ b.bits(i + b_offset)).count());
  return total / kN;
}

TEST(Rng, DifferentSeedPathOrIndexGiveUnrelatedBits) {
  // Popcount of the xor of independent words: mean 32, std 4; 5 sigma of the mean of 20000.
  const double tol = 5.0 * 4.0 / std::sqrt(20000.0);
  const CounterRng base(5, {1, 2});
  EXPECT_NEAR(mean_bit_distance(base, CounterRng(6, {1, 2})), 32.0, tol);
  EXPECT_NEAR(mean_bit_distance(base, CounterRng(5, {1, 3})), 32.0, tol);
  EXPECT_NEAR(mean_bit_distance(base, CounterRng(5, {2, 2})), 32.0, tol);
  EXPECT_NEAR(mean_bit_distance(base, CounterRng(5, {2, 1})), 32.0, tol);  // order matters
  EXPECT_NEAR(mean_bit_distance(base, CounterRng(5, {1, 2, 0})), 32.0, tol);
  EXPECT_NEAR(mean_bit_distance(base, base, 1), 32.0, tol);  // neighbouring indices
  for (uint64_t i = 0; i < 1000; ++i) {
    ASSERT_NE(base.bits(i), CounterRng(6, {1, 2}).bits(i));
    ASSERT_NE(base.bits(i), CounterRng(5, {1, 3}).bits(i));
    ASSERT_NE(base.bits(i), base.bits(i + 1));
  }
}

TEST(Rng, UniformMeanAndVariance) {
  constexpr int kN = 1000000;
  const CounterRng rng(1, {99});
  double sum = 0, sum_sq = 0, lo = 1, hi = 0;
  for (uint64_t i = 0; i < kN; ++i) {
    const double u = rng.uniform(i);
    sum += u;
    sum_sq += (u - 0.5) * (u - 0.5);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_GT(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  // Var(U) = 1/12; Var((U - 1/2)^2) = 1/80 - 1/144 = 1/180.
  EXPECT_NEAR(sum / kN, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / kN));
  EXPECT_NEAR(sum_sq / kN, 1.0 / 12.0, 5.0 * std::sqrt(1.0 / 180.0 / kN));
}

TEST(Rng, UniformStrictlyInsideUnitIntervalAtExtremeBits) {
  // mix64 is a bijection, so the index whose bits are all ones (and all zeros) can be constructed.
  const CounterRng rng(3, {1});
  const uint64_t inv_golden = inverse_mod64(kGolden);
  ASSERT_EQ(kGolden * inv_golden, 1ULL);
  ASSERT_EQ(ref_mix(ref_unmix(0x0123456789ABCDEFULL)), 0x0123456789ABCDEFULL);
  auto index_with_bits = [&](uint64_t bits) { return (ref_unmix(bits) - rng.key()) * inv_golden - 1; };
  const uint64_t i_zero = index_with_bits(0), i_ones = index_with_bits(~0ULL);
  ASSERT_EQ(rng.bits(i_zero), 0ULL);
  ASSERT_EQ(rng.bits(i_ones), ~0ULL);
  // The extreme values are exactly half a grid step inside the interval.
  EXPECT_EQ(rng.uniform(i_zero), std::ldexp(1.0, -53));
  EXPECT_EQ(rng.uniform(i_ones), 1.0 - std::ldexp(1.0, -53));
  EXPECT_LT(rng.uniform(i_ones), 1.0);
}

TEST(Rng, NormalMomentsAndTail) {
  constexpr int kN = 1000000;
  const CounterRng rng(11, {4, 0});
  double sum = 0, sum_sq = 0;
  int64_t beyond2 = 0;
  for (uint64_t i = 0; i < kN; ++i) {
    const double z = rng.normal(i);
    sum += z;
    sum_sq += z * z;
    beyond2 += std::abs(z) > 2.0;
  }
  const double mean = sum / kN;
  const double var = sum_sq / kN - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(double(kN)));
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / kN));  // Var(Z^2) = 2
  const double p = std::erfc(2.0 / std::sqrt(2.0));  // 0.0455
  EXPECT_NEAR(double(beyond2) / kN, p, 5.0 * std::sqrt(p * (1 - p) / kN));
}

}  // namespace
