// Tests of the ADC transfer function (models/adc/adc_transfer.h): quantization, round-half-even,
// clipping, converter non-idealities, thermal noise, the integer table and code_of.

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../support/test_configs.h"
#include "adc/adc_transfer.h"
#include "core/rng.h"

namespace {

using cimsim::AdcCounters;
using cimsim::AdcTransfer;
using cimsim::CounterRng;
using cimsim::HwConfig;
using cimsim::testing::HwParams;

const CounterRng kNoRng(0, {});

HwConfig make(int adc_bits, const std::string& interval, const std::string& adc_extra = "",
              bool ideal = false) {
  HwParams p;
  p.adc_bits = adc_bits;
  p.interval = interval;
  p.adc_extra = adc_extra;
  p.adc_ideal = ideal;
  return cimsim::testing::make_hw(p);
}

AdcTransfer transfer(const HwConfig& hw) { return AdcTransfer(hw.macro, hw.adc, hw.interval_for("layer")); }

// The header's formula, computed independently (no noise).
struct Expected {
  Expected(double lo_, double step_, int max_code_) : lo(lo_), step(step_), max_code(max_code_) {}
  double lo, step;
  int max_code;
  double gain = 0, offset_lsb = 0;
  std::vector<double> inl;
  double rounded(double y) const {
    return std::nearbyint(((1.0 + gain) * y + offset_lsb * step - lo) / step);
  }
  double value(double y) const {
    const double code = std::clamp(rounded(y), 0.0, double(max_code));
    return lo + (code + (inl.empty() ? 0.0 : inl[std::size_t(code)])) * step;
  }
};

std::vector<float> sweep(double from, double to, double dy) {
  std::vector<float> y;
  for (double v = from; v <= to; v += dy) y.push_back(float(v));
  return y;
}

std::vector<double> convert(const AdcTransfer& adc, const std::vector<float>& y, AdcCounters& counters,
                            const CounterRng& rng = kNoRng, uint64_t base = 0, uint64_t stride = 1) {
  std::vector<double> v(y.size());
  adc.convert(y.data(), v.data(), int64_t(y.size()), counters, rng, base, stride);
  return v;
}

TEST(AdcTransfer, StepAndAccessors) {
  const AdcTransfer adc = transfer(make(6, "{lo: -3.7, hi: 12.9}"));
  EXPECT_FALSE(adc.ideal());
  EXPECT_EQ(adc.lo(), -3.7);
  EXPECT_EQ(adc.hi(), 12.9);
  EXPECT_EQ(adc.max_code(), 63);
  EXPECT_DOUBLE_EQ(adc.step(), (12.9 - -3.7) / 63.0);
  EXPECT_FALSE(adc.has_thermal_noise());
}

TEST(AdcTransfer, SweepMatchesQuantizeFormula) {
  const AdcTransfer adc = transfer(make(6, "{lo: -3.7, hi: 12.9}"));
  const Expected e{-3.7, adc.step(), 63};
  const std::vector<float> y = sweep(-6.0, 15.0, 0.0123);
  AdcCounters c;
  const std::vector<double> v = convert(adc, y, c);
  int64_t low = 0, high = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    ASSERT_EQ(v[i], e.value(y[i])) << "y=" << y[i];
    low += e.rounded(y[i]) < 0;
    high += e.rounded(y[i]) > 63;
  }
  EXPECT_GT(low, 0);
  EXPECT_GT(high, 0);
  EXPECT_EQ(c.conversions, int64_t(y.size()));
  EXPECT_EQ(c.clipped_low, low);
  EXPECT_EQ(c.clipped_high, high);
}

TEST(AdcTransfer, ExactTiesRoundToEvenCode) {
  const AdcTransfer adc = transfer(make(4, "{lo: -8, hi: 7}"));  // step 1, code = y + 8
  ASSERT_EQ(adc.step(), 1.0);
  const std::vector<float> y = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -7.5f, 6.5f};
  const std::vector<double> want = {0.0, 2.0, 2.0, 0.0, -2.0, -8.0, 6.0};
  AdcCounters c;
  EXPECT_EQ(convert(adc, y, c), want);
  EXPECT_EQ(c.clipped_low + c.clipped_high, 0);
}

TEST(AdcTransfer, ClipCountersUseRoundedCode) {
  const AdcTransfer adc = transfer(make(4, "{lo: -8, hi: 7}"));
  // code -0.5 rounds to 0 (not clipped); -0.51 to -1; 15.5 rounds to 16 (clipped high, value hi).
  const std::vector<float> y = {-8.5f, -8.51f, -100.f, 7.49f, 7.5f, 50.f, 0.f};
  const std::vector<double> want = {-8.0, -8.0, -8.0, 7.0, 7.0, 7.0, 0.0};
  AdcCounters c;
  c.conversions = 10;  // counters accumulate
  c.clipped_low = 1;
  EXPECT_EQ(convert(adc, y, c), want);
  EXPECT_EQ(c.conversions, 17);
  EXPECT_EQ(c.clipped_low, 1 + 2);
  EXPECT_EQ(c.clipped_high, 2);
}

// The AVX-512 loop (threshold comparisons) against the division loop, bit for bit, where the CPU
// has it: random samples over and around the interval, every code boundary and its neighbouring
// floats, integers, fixed-point sums, zeros, denormals, huge values; lengths with vector tails.
TEST(AdcTransfer, VectorKernelEqualsDivisionLoop) {
  using cimsim::AdcKernel;
  if (cimsim::adc_kernel_best() == AdcKernel::kPortable) GTEST_SKIP() << "no AVX-512 on this CPU";
  const CounterRng rng(11, {uint64_t(cimsim::RngTag::kTestData)});
  const std::vector<std::string> intervals = {
      "{lo: -3.7, hi: 12.9}", "{lo: 0, hi: 64}",           "{lo: -64, hi: 64}",
      "{lo: -5, hi: 2}",      "{lo: 1000, hi: 1003.5}",    "{lo: -0.001, hi: 0.002}",
      "{lo: 2.25, hi: 3.5}",  "{lo: 1e7, hi: 1.0000001e7}"};  // the last: |lo| over 2^20 steps
  uint64_t draw = 0;
  for (int bits : {1, 2, 3, 4, 5, 6, 8}) {
    for (const std::string& interval : intervals) {
      const AdcTransfer adc = transfer(make(bits, interval));
      const double lo = adc.lo(), hi = adc.hi(), step = adc.step(), span = hi - lo;
      std::vector<float> y = {0.0f, -0.0f, 1e-40f, -1e-40f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX};
      for (int i = 0; i < 3000; ++i) y.push_back(float(lo - 2 * span + 5 * span * rng.uniform(draw++)));
      for (int k = -2; k <= adc.max_code() + 2; ++k) {
        float boundary = float(lo + (k + 0.5) * step);
        for (int u = 0; u < 3; ++u) boundary = std::nextafter(boundary, -FLT_MAX);
        for (int u = 0; u < 7; ++u, boundary = std::nextafter(boundary, FLT_MAX)) y.push_back(boundary);
      }
      for (double v = std::floor(lo - span); v <= hi + span && y.size() < 20000;
           v += std::max(1.0, span / 500))
        y.push_back(float(v));
      for (int i = 0; i < 500; ++i)
        y.push_back(float(std::ldexp(std::floor(ldexp(lo + span * rng.uniform(draw++), 16)), -16)));
      for (std::size_t n : {y.size(), std::size_t(1), std::size_t(15), std::size_t(17), std::size_t(33)}) {
        std::vector<double> fast(n), slow(n);
        AdcCounters cf, cs;
        adc.convert(y.data(), fast.data(), int64_t(n), cf, kNoRng, 0, 0, AdcKernel::kAvx512);
        adc.convert(y.data(), slow.data(), int64_t(n), cs, kNoRng, 0, 0, AdcKernel::kPortable);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(fast[i], slow[i]) << bits << " bits " << interval << " y=" << y[i];
        ASSERT_EQ(cf.clipped_low, cs.clipped_low) << bits << " bits " << interval;
        ASSERT_EQ(cf.clipped_high, cs.clipped_high) << bits << " bits " << interval;
        ASSERT_EQ(cf.conversions, cs.conversions);
      }
    }
  }
}

TEST(AdcTransfer, IdealPassesThrough) {
  const AdcTransfer adc = transfer(make(4, "{lo: -8, hi: 7}", "", true));
  EXPECT_TRUE(adc.ideal());
  const std::vector<float> y = {0.3f, -100.25f, 1e6f, 7.5f};
  AdcCounters c;
  const std::vector<double> v = convert(adc, y, c);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(v[i], double(y[i]));
  EXPECT_EQ(c.conversions, 4);
  EXPECT_EQ(c.clipped_low + c.clipped_high, 0);
}

TEST(AdcTransfer, GainErrorScalesInput) {
  const AdcTransfer adc = transfer(make(4, "{lo: -8, hi: 7}", "  gain_error: 0.1\n"));
  AdcCounters c;
  // 4 -> 4.4 -> 4; 6 -> 6.6 -> 7; -6 -> -6.6 -> -7; 7 -> 7.7 -> code 16 clipped to 7.
  EXPECT_EQ(convert(adc, {4.f, 6.f, -6.f, 7.f}, c), (std::vector<double>{4.0, 7.0, -7.0, 7.0}));
  EXPECT_EQ(c.clipped_high, 1);
  Expected e{-8, 1, 15};
  e.gain = 0.1;
  const std::vector<float> y = sweep(-10, 10, 0.037);
  const std::vector<double> v = convert(adc, y, c);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(v[i], e.value(y[i])) << "y=" << y[i];
}

TEST(AdcTransfer, OffsetIsInLsbOfStep) {
  // step 0.25: an offset of 3 LSB moves the input by 0.75.
  const AdcTransfer adc = transfer(make(5, "{lo: 0, hi: 7.75}", "  offset_lsb: 3\n"));
  ASSERT_EQ(adc.step(), 0.25);
  AdcCounters c;
  EXPECT_EQ(convert(adc, {1.0f, 0.1f, -0.75f, 7.5f}, c), (std::vector<double>{1.75, 0.75, 0.0, 7.75}));
  EXPECT_EQ(c.clipped_high, 1);
  Expected e{0, 0.25, 31};
  e.offset_lsb = 3;
  const std::vector<float> y = sweep(-2, 9, 0.0173);
  const std::vector<double> v = convert(adc, y, c);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(v[i], e.value(y[i])) << "y=" << y[i];
}

TEST(AdcTransfer, InlShiftsEachCodeLevel) {
  std::vector<double> inl(16);
  std::string list = "  inl_lsb: [";
  for (int k = 0; k < 16; ++k) {
    inl[std::size_t(k)] = 0.03 * k - 0.2;
    list += (k ? ", " : "") + std::to_string(inl[std::size_t(k)]);
  }
  list += "]\n";
  const HwConfig hw = make(4, "{lo: -4, hi: 3.5}", list);  // step 0.5
  ASSERT_EQ(hw.adc.inl_lsb.size(), 16u);
  inl = hw.adc.inl_lsb;  // exactly the parsed numbers
  const AdcTransfer adc = transfer(hw);
  AdcCounters c;
  // y = 1: code 10, value -4 + (10 + inl[10]) * 0.5.
  EXPECT_EQ(convert(adc, {1.f}, c)[0], -4.0 + (10.0 + inl[10]) * 0.5);
  Expected e{-4, 0.5, 15};
  e.inl = inl;
  const std::vector<float> y = sweep(-6, 6, 0.0191);
  const std::vector<double> v = convert(adc, y, c);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(v[i], e.value(y[i])) << "y=" << y[i];
}

TEST(AdcTransfer, ThermalNoiseReproducibleWithDocumentedDraws) {
  const AdcTransfer adc = transfer(make(10, "{lo: -512, hi: 511}", "  thermal_sigma_lsb: 1.5\n"));
  ASSERT_TRUE(adc.has_thermal_noise());
  const CounterRng rng(5, {uint64_t(cimsim::RngTag::kAdcThermal)});
  const std::vector<float> y = sweep(-20, 20, 0.01);
  AdcCounters c1, c2, c3;
  const std::vector<double> a = convert(adc, y, c1, rng, 7, 3);
  EXPECT_EQ(a, convert(adc, y, c2, rng, 7, 3));
  const std::vector<double> b = convert(adc, y, c3, rng, 8, 3);
  int64_t same = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double z = rng.normal(7 + 3 * i);
    const double code = std::clamp(std::nearbyint((double(y[i]) + 1.5 * 1.0 * z + 512.0) / 1.0), 0.0, 1023.0);
    ASSERT_EQ(a[i], -512.0 + code) << "i=" << i;
    same += a[i] == b[i];
  }
  // Other draws: equal only when both round to the same code (well under half the time at 1.5 LSB).
  EXPECT_LT(same, int64_t(y.size()) / 2);
}

TEST(AdcTransfer, ThermalNoiseStdInLsb) {
  // step 0.5, sigma 3 LSB = 1.5; quantization adds step^2 / 12 (Sheppard), exact at this sigma.
  const AdcTransfer adc = transfer(make(10, "{lo: -256, hi: 255.5}", "  thermal_sigma_lsb: 3\n"));
  ASSERT_EQ(adc.step(), 0.5);
  constexpr int kN = 200000;
  const std::vector<float> y(kN, 10.3f);
  AdcCounters c;
  const std::vector<double> v =
      convert(adc, y, c, CounterRng(6, {uint64_t(cimsim::RngTag::kAdcThermal)}), 0, 1);
  double sum = 0, sum_sq = 0;
  for (double x : v) {
    sum += (x - double(y[0])) / 0.5;
    sum_sq += (x - double(y[0])) / 0.5 * (x - double(y[0])) / 0.5;
  }
  const double mean = sum / kN, sd = std::sqrt(sum_sq / kN - mean * mean);
  const double expected_sd = std::sqrt(9.0 + 1.0 / 12.0);
  EXPECT_NEAR(mean, 0.0, 5.0 * expected_sd / std::sqrt(double(kN)));
  EXPECT_NEAR(sd, expected_sd, 5.0 * expected_sd / std::sqrt(2.0 * kN));
  EXPECT_EQ(c.clipped_low + c.clipped_high, 0);
}

TEST(AdcTransfer, TableEqualsConvertForEveryInteger) {
  for (const std::string& extra : {std::string(), std::string("  gain_error: -0.07\n  offset_lsb: 0.3\n")}) {
    const AdcTransfer base = transfer(make(4, "{lo: -8.5, hi: 6.5}", extra));
    AdcTransfer adc = base;
    adc.build_table(-30, 25);
    ASSERT_TRUE(adc.has_table()) << extra;
    ASSERT_EQ(adc.table_lo(), -30);
    ASSERT_EQ(adc.table_size(), 56u);
    int clipped = 0;
    for (int y = -30; y <= 25; ++y) {
      const float yf = float(y);
      double v = 0;
      AdcCounters c;
      base.convert(&yf, &v, 1, c, kNoRng, 0, 0);
      const std::size_t i = std::size_t(y + 30);
      ASSERT_EQ(adc.table_value()[i], v) << "y=" << y;
      const int flag = c.clipped_low ? -1 : c.clipped_high ? 1 : 0;
      ASSERT_EQ(int(adc.table_clip()[i]), flag) << "y=" << y;
      clipped += flag != 0;
    }
    EXPECT_GT(clipped, 20);
  }
}

TEST(AdcTransfer, NoTableForIdealNoisyOrHugeSpan) {
  AdcTransfer ideal = transfer(make(4, "{lo: -8, hi: 7}", "", true));
  ideal.build_table(-10, 10);
  EXPECT_FALSE(ideal.has_table());
  AdcTransfer noisy = transfer(make(4, "{lo: -8, hi: 7}", "  thermal_sigma_lsb: 0.1\n"));
  noisy.build_table(-10, 10);
  EXPECT_FALSE(noisy.has_table());
  AdcTransfer plain = transfer(make(4, "{lo: -8, hi: 7}"));
  plain.build_table(0, (1 << 20) + 1);  // span hi - lo above 2^20
  EXPECT_FALSE(plain.has_table());
  plain.build_table(0, 1 << 20);
  EXPECT_TRUE(plain.has_table());
  plain.build_table(5, 4);
  EXPECT_FALSE(plain.has_table());
}

TEST(AdcTransfer, CodeOfMatchesConvert) {
  std::string list = "  inl_lsb: [";
  for (int k = 0; k < 32; ++k) list += (k ? ", " : "") + std::to_string(0.01 * (k % 5) - 0.02);
  list += "]\n  gain_error: 0.05\n  offset_lsb: -1.25\n";
  const HwConfig hw = make(5, "{lo: -3, hi: 12.5}", list);
  const AdcTransfer adc = transfer(hw);
  const std::vector<float> y = sweep(-5, 15, 0.0137);
  AdcCounters c;
  const std::vector<double> v = convert(adc, y, c);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const int code = adc.code_of(y[i]);
    ASSERT_GE(code, 0);
    ASSERT_LE(code, 31);
    ASSERT_EQ(v[i], adc.lo() + (code + hw.adc.inl_lsb[std::size_t(code)]) * adc.step()) << "y=" << y[i];
  }
  // code_of ignores thermal noise.
  const AdcTransfer noisy = transfer(make(4, "{lo: -8, hi: 7}", "  thermal_sigma_lsb: 5\n"));
  EXPECT_EQ(noisy.code_of(2.2), 10);
  EXPECT_EQ(noisy.code_of(-100), 0);
  EXPECT_EQ(noisy.code_of(100), 15);
}

}  // namespace
