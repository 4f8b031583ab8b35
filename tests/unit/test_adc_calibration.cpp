// The interval-choosing methods of adc/adc_calibration.h on distributions whose answer is known.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "adc/adc_calibration.h"
#include "core/error.h"

namespace cimsim {
namespace {

// Integer partial sums in [lo, hi] with width-1 bins, as the simulator's histogram holds them.
PartialSumCounts integer_counts(int lo, int hi) {
  PartialSumCounts s;
  s.first_edge = lo - 0.5;
  s.counts.assign(std::size_t(hi - lo + 1), 0);
  return s;
}

void add(PartialSumCounts& s, int value, int64_t count = 1) {
  s.counts[std::size_t(value - int(s.first_edge + 0.5))] += count;
}

CalibrationSpec spec(CalibrationMethod method, int bits, double full) {
  CalibrationSpec c;
  c.method = method;
  c.adc_bits = bits;
  c.full_lo = -full;
  c.full_hi = full;
  return c;
}

// A narrow Gaussian (sigma 20, centred at 30) inside a full range of +-2000, 4-bit converters: the
// mse interval has less error than min/max, which has less than the full range.
TEST(AdcCalibration, MseBeatsMinMaxBeatsFullRangeOnANarrowGaussian) {
  PartialSumCounts s = integer_counts(-2000, 2000);
  std::mt19937 gen(1);
  std::normal_distribution<double> normal(30.0, 20.0);
  for (int i = 0; i < 200000; ++i) add(s, int(std::lround(normal(gen))));
  const AdcInterval minmax = calibrate_interval(s, spec(CalibrationMethod::kMinMax, 4, 2000));
  const AdcInterval mse = calibrate_interval(s, spec(CalibrationMethod::kMse, 4, 2000));
  const double e_full = quantization_mse(s, -2000, 2000, 4);
  const double e_minmax = quantization_mse(s, minmax.lo, minmax.hi, 4);
  const double e_mse = quantization_mse(s, mse.lo, mse.hi, 4);
  EXPECT_FALSE(mse.full);
  EXPECT_LT(e_mse, 0.6 * e_minmax) << "mse [" << mse.lo << ", " << mse.hi << "]";
  EXPECT_LT(e_minmax, 0.1 * e_full);
  // The optimum for a Gaussian at 16 levels clips around 2.5-3 sigma on each side, centred.
  EXPECT_NEAR((mse.lo + mse.hi) / 2, 30.0, 4.0);
  EXPECT_GT(mse.hi - mse.lo, 4 * 20.0);
  EXPECT_LT(mse.hi - mse.lo, 7 * 20.0);
  // No pair on a finer grid around it does better by more than a sliver.
  for (double dl : {-2.0, -1.0, 1.0, 2.0})
    for (double dh : {-2.0, -1.0, 1.0, 2.0})
      EXPECT_GE(quantization_mse(s, mse.lo + dl, mse.hi + dh, 4), e_mse * 0.995) << dl << " " << dh;
}

// Asymmetric: all partial sums positive (as after a ReLU with positive weights): lo moves up.
TEST(AdcCalibration, MseIntervalIsAsymmetricForAOneSidedDistribution) {
  PartialSumCounts s = integer_counts(-500, 500);
  for (int v = 0; v <= 100; ++v) add(s, v, 100 - v + 1);
  const AdcInterval mse = calibrate_interval(s, spec(CalibrationMethod::kMse, 3, 500));
  EXPECT_GE(mse.lo, -5.0);
  EXPECT_LE(mse.hi, 100.0);
  EXPECT_LT(quantization_mse(s, mse.lo, mse.hi, 3), quantization_mse(s, -100, 100, 3));
}

TEST(AdcCalibration, MinMaxIsTheOccupiedRange) {
  PartialSumCounts s = integer_counts(-100, 100);
  add(s, -17, 3);
  add(s, 5, 10);
  add(s, 42);
  const AdcInterval i = calibrate_interval(s, spec(CalibrationMethod::kMinMax, 5, 100));
  EXPECT_EQ(i.lo, -17.0);
  EXPECT_EQ(i.hi, 42.0);
  EXPECT_EQ(clip_fractions(s, i.lo, i.hi).low, 0.0);
  EXPECT_EQ(clip_fractions(s, i.lo, i.hi).high, 0.0);
}

// Uniform integers 0..999, once each: keeping 98% clips at most 1% (10 values) on each side.
TEST(AdcCalibration, PercentileReturnsTheQuantilesAndTheClipRates) {
  PartialSumCounts s = integer_counts(-1000, 1000);
  for (int v = 0; v < 1000; ++v) add(s, v);
  CalibrationSpec c = spec(CalibrationMethod::kPercentile, 5, 1000);
  c.percentile = 98;
  const AdcInterval i = calibrate_interval(s, c);
  EXPECT_EQ(i.lo, 10.0);   // 0..9 below it: 1%
  EXPECT_EQ(i.hi, 989.0);  // 990..999 above it: 1%
  const ClipFractions f = clip_fractions(s, i.lo, i.hi);
  EXPECT_DOUBLE_EQ(f.low, 0.01);
  EXPECT_DOUBLE_EQ(f.high, 0.01);
  c.percentile = 99.4;  // 0.3% of 1000: exactly 3 on each side, not 2 by rounding
  const AdcInterval three = calibrate_interval(s, c);
  EXPECT_EQ(three.lo, 3.0);
  EXPECT_EQ(three.hi, 996.0);
  c.percentile = 100;
  const AdcInterval all = calibrate_interval(s, c);
  EXPECT_EQ(all.lo, 0.0);
  EXPECT_EQ(all.hi, 999.0);
}

TEST(AdcCalibration, DegenerateAndEmptyDistributions) {
  PartialSumCounts s = integer_counts(-10, 10);
  add(s, 3, 50);
  for (CalibrationMethod m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse}) {
    const AdcInterval i = calibrate_interval(s, spec(m, 4, 10));
    EXPECT_EQ(i.lo, 2.5) << calibration_method_name(m);
    EXPECT_EQ(i.hi, 3.5) << calibration_method_name(m);
  }
  EXPECT_THROW(calibrate_interval(integer_counts(-10, 10), spec(CalibrationMethod::kMse, 4, 10)), InputError);
  CalibrationSpec zero = spec(CalibrationMethod::kPercentile, 4, 10);
  zero.percentile = 0;
  EXPECT_THROW(calibrate_interval(s, zero), InputError);
  // Everything below the full range: a unit-wide interval at its bottom, not a zero-width one.
  PartialSumCounts under = integer_counts(-10, 10);
  under.underflow = 7;
  for (CalibrationMethod m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse}) {
    const AdcInterval i = calibrate_interval(under, spec(m, 4, 10));
    EXPECT_EQ(i.lo, -10.0) << calibration_method_name(m);
    EXPECT_EQ(i.hi, -9.0) << calibration_method_name(m);
  }
  EXPECT_THROW(parse_calibration_method("mean"), InputError);
  EXPECT_EQ(parse_calibration_method("percentile"), CalibrationMethod::kPercentile);
}

TEST(AdcCalibration, ZeroLevelMovesByAtMostHalfAStepSoThatZeroIsALevel) {
  // 3 bits (n = 7) on [-3.3, 4.2]: step 7.5 / 7, -lo / step = 3.08, so level 3 becomes 0.
  double lo = -3.3, hi = 4.2;
  const double step = (hi - lo) / 7;
  ASSERT_TRUE(move_zero_onto_level(lo, hi, 3, -100, 100));
  EXPECT_NEAR(hi - lo, 7.5, 1e-12);                 // the width is kept
  EXPECT_LE(std::abs(lo - -3.3), step / 2);         // moved by at most half a step
  EXPECT_NEAR(lo + 3 * ((hi - lo) / 7), 0.0, 1e-14);  // the converter's level 3 (numerics.md section 8)
  EXPECT_EQ(lo, -3 * step);
  // 0 a fraction of a step outside: the end level becomes 0.
  lo = 0.4;
  hi = 7.4;
  ASSERT_TRUE(move_zero_onto_level(lo, hi, 3, -100, 100));
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 7.0);
  // More than half a step outside, or a move past the full range: unchanged.
  lo = 2;
  hi = 9;
  EXPECT_FALSE(move_zero_onto_level(lo, hi, 3, -100, 100));
  EXPECT_EQ(lo, 2.0);
  EXPECT_EQ(hi, 9.0);
  lo = -0.4;
  hi = 6.6;
  EXPECT_FALSE(move_zero_onto_level(lo, hi, 3, -0.45, 6.8));
  EXPECT_EQ(lo, -0.4);
  EXPECT_EQ(hi, 6.6);
}

}  // namespace
}  // namespace cimsim
