// Tests of the conversion statistics (models/core/conversion_stats.h): the partial-sum histogram,
// the error accumulator, the integer tally and its fold, and the energy model.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "../support/test_configs.h"
#include "adc/adc_transfer.h"
#include "core/rng.h"
#include "stats/conversion_stats.h"

namespace {

using namespace cimsim;
using cimsim::testing::HwParams;
using V = std::vector<int64_t>;

TEST(PartialSumHistogram, UnitWidthBinsCentredOnIntegers) {
  PartialSumHistogram h;
  h.init(-3, 3);
  EXPECT_EQ(h.bin_width(), 1.0);
  EXPECT_EQ(h.first_edge(), -3.5);
  EXPECT_EQ(h.counts(), V(7, 0));
  const std::vector<float> y = {-3, -3, 0, 3, 3.49f, -3.5f, -3.51f, 3.5f, 100, -100, 0.4f, 0.6f};
  h.add(y.data(), int64_t(y.size()));
  EXPECT_EQ(h.counts(), (V{3, 0, 0, 2, 1, 0, 2}));
  EXPECT_EQ(h.underflow(), 2);
  EXPECT_EQ(h.overflow(), 2);
  EXPECT_EQ(h.total(), int64_t(y.size()));
}

TEST(PartialSumHistogram, NonIntegerRangeUsesIntegersInside) {
  PartialSumHistogram h;
  h.init(-2.5, 2.7);  // integers -2..2
  EXPECT_EQ(h.first_edge(), -2.5);
  EXPECT_EQ(h.counts().size(), 5u);
}

TEST(PartialSumHistogram, WideRangeUsesWiderBins) {
  PartialSumHistogram exact;
  exact.init(0, 4095);  // 4096 integers: still one bin each
  EXPECT_EQ(exact.bin_width(), 1.0);
  EXPECT_EQ(exact.counts().size(), 4096u);
  PartialSumHistogram two;
  two.init(0, 4096);  // 4097 integers: width 2
  EXPECT_EQ(two.bin_width(), 2.0);
  EXPECT_EQ(two.counts().size(), 2049u);

  PartialSumHistogram h;
  h.init(-5000, 5000);  // 10001 integers: width ceil(10001 / 4096) = 3, 3334 bins
  EXPECT_EQ(h.bin_width(), 3.0);
  EXPECT_EQ(h.first_edge(), -5000.5);
  ASSERT_EQ(h.counts().size(), 3334u);
  const std::vector<float> y = {-5000, -4998, -4997, 0, 1, 5000, 5001, 5001.5f, -5000.6f};
  h.add(y.data(), int64_t(y.size()));
  const V c = h.counts();
  EXPECT_EQ(c[0], 2);     // [-5000.5, -4997.5)
  EXPECT_EQ(c[1], 1);     // -4997
  EXPECT_EQ(c[1666], 1);  // [-2.5, 0.5)
  EXPECT_EQ(c[1667], 1);  // [0.5, 3.5)
  EXPECT_EQ(c[3333], 2);  // [4998.5, 5001.5)
  EXPECT_EQ(h.underflow(), 1);
  EXPECT_EQ(h.overflow(), 1);
  EXPECT_EQ(h.total(), 9);
}

TEST(PartialSumHistogram, LongRunsAndAddCountAgree) {
  PartialSumHistogram a, b;
  a.init(-3, 3);
  b.init(-3, 3);
  std::vector<float> y(10007);
  V want(7, 0);
  int64_t under = 0, over = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const int v = int(i % 11) - 5;  // -5..5: two values under, two over
    y[i] = float(v);
    if (v >= -3 && v <= 3) ++want[std::size_t(v + 3)];
    under += v < -3;
    over += v > 3;
    b.add_count(double(v), 1);
  }
  a.add(y.data(), int64_t(y.size()));
  EXPECT_EQ(a.counts(), want);
  EXPECT_EQ(b.counts(), want);
  EXPECT_EQ(a.underflow(), b.underflow());
  EXPECT_EQ(a.overflow(), b.overflow());
  EXPECT_EQ(a.total(), 10007);
  EXPECT_EQ(a.underflow(), under);
  EXPECT_EQ(a.overflow(), over);
}

TEST(PartialSumHistogram, MergeAddsCounts) {
  PartialSumHistogram a, b, empty;
  a.init(-3, 3);
  b.init(-3, 3);
  const std::vector<float> ya = {-3, 0, 0, 9}, yb = {0, 2, -9, -9};
  a.add(ya.data(), 4);
  b.add(yb.data(), 4);
  empty.merge(a);  // merging into an uninitialised histogram copies
  EXPECT_EQ(empty.counts(), a.counts());
  a.merge(b);
  EXPECT_EQ(a.counts(), (V{1, 0, 0, 3, 0, 1, 0}));
  EXPECT_EQ(a.underflow(), 2);
  EXPECT_EQ(a.overflow(), 1);
  EXPECT_EQ(a.total(), 8);
}

TEST(ErrorAccumulator, MeanStdSqnrOnKnownData) {
  ErrorAccumulator e;
  const std::vector<double> value = {1, 2, 4, -2};
  const std::vector<float> ideal = {1, 1, 1, -1};  // errors 0, 1, 3, -1
  e.add(value.data(), ideal.data(), 4);
  EXPECT_EQ(e.count, 4);
  EXPECT_DOUBLE_EQ(e.mean(), 3.0 / 4);
  EXPECT_DOUBLE_EQ(e.stddev(), std::sqrt(11.0 / 4 - 9.0 / 16));
  EXPECT_DOUBLE_EQ(e.sqnr_db(), 10.0 * std::log10(4.0 / 11.0));
  ErrorAccumulator f;
  f.add(value.data(), ideal.data(), 4);
  e.merge(f);
  EXPECT_EQ(e.count, 8);
  EXPECT_DOUBLE_EQ(e.mean(), 3.0 / 4);
  EXPECT_DOUBLE_EQ(e.sqnr_db(), 10.0 * std::log10(4.0 / 11.0));
}

TEST(ErrorAccumulator, NoErrorGivesInfiniteSqnr) {
  ErrorAccumulator e;
  EXPECT_EQ(e.mean(), 0.0);
  EXPECT_EQ(e.stddev(), 0.0);
  const std::vector<double> value = {3, -5};
  const std::vector<float> ideal = {3, -5};
  e.add(value.data(), ideal.data(), 2);
  EXPECT_EQ(e.stddev(), 0.0);
  EXPECT_EQ(e.sqnr_db(), std::numeric_limits<double>::infinity());
}

TEST(IntegerTally, CountsIntegersAndLooksUpTable) {
  IntegerTally t;
  EXPECT_FALSE(t.active());
  t.init(-2, 2);
  EXPECT_TRUE(t.active());
  const std::vector<double> table = {10, 11, 12, 13, 14};
  std::vector<int32_t> y(1000);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = int32_t(i % 5) - 2;
  std::vector<double> value(y.size());
  t.add(y.data(), table.data(), value.data(), int64_t(y.size()));
  for (int v = -2; v <= 2; ++v) EXPECT_EQ(t.count(v), 200);
  EXPECT_EQ(t.count(3), 0);
  EXPECT_EQ(t.count(-3), 0);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(value[i], table[std::size_t(y[i] + 2)]);
}

// The fused lookup, tally and shift-add of `kernel` equals the plain loop of its contract bit for
// bit: columns in order, each product rounded before its sum, for lengths that are and are not
// multiples of the vector width, over [lo, hi] (the table indexed by y - lo).
void check_add_accumulate(TallyKernel kernel, int32_t lo, int32_t hi) {
  const CounterRng rng(9, {uint64_t(RngTag::kTestData)});
  std::vector<double> table(std::size_t(hi - lo + 1));
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = 0.1 * double(i) + rng.uniform(i);  // inexact sums
  for (int64_t n : {1, 7, 8, 32, 45}) {
    const int columns = 3;
    const int64_t stride = n + 5;
    std::vector<int32_t> y(std::size_t(stride * columns));
    for (std::size_t i = 0; i < y.size(); ++i)
      y[i] = lo + int32_t(rng.bits(1000 + i) % uint64_t(hi - lo + 1));
    const std::vector<double> scales = {1.0, 0.3, 2.0};  // 0.3: a fused multiply-add would differ
    std::vector<double> acc(static_cast<std::size_t>(n)), expected(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      acc[std::size_t(i)] = expected[std::size_t(i)] = rng.uniform(5000 + uint64_t(i));
    IntegerTally tally;
    tally.init(lo, hi);
    tally.add_accumulate(y.data(), stride, columns, table.data(), acc.data(), scales.data(), n, kernel);
    std::vector<int64_t> counts(table.size(), 0);
    for (int c = 0; c < columns; ++c) {
      for (int64_t i = 0; i < n; ++i) {
        const int32_t v = y[std::size_t(c * stride + i)];
        expected[std::size_t(i)] += table[std::size_t(v - lo)] * scales[std::size_t(c)];
        ++counts[std::size_t(v - lo)];
      }
    }
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(acc[std::size_t(i)], expected[std::size_t(i)]) << n << " " << i;
    for (int32_t v = lo; v <= hi; ++v) ASSERT_EQ(tally.count(v), counts[std::size_t(v - lo)]) << v;
  }
}

TEST(IntegerTally, AddAccumulateEqualsThePlainLoop) {
  // The portable loops always, the AVX-512 gathers where the CPU has them.
  std::vector<TallyKernel> kernels = {TallyKernel::kPortable};
  if (tally_kernel_best() != TallyKernel::kPortable) kernels.push_back(tally_kernel_best());
  std::cout << "IntegerTally::add_accumulate kernels checked: " << kernels.size() << "\n";
  for (TallyKernel kernel : kernels) {
    check_add_accumulate(kernel, -40, 40);
    check_add_accumulate(kernel, 3, 60);
  }
}

// Feeds the same integer partial sums through the tally + fold and through the direct path.
void check_fold_matches_direct(const std::string& adc_extra, bool exact_sums) {
  HwParams p;  // analog, A = 8, 1-bit DAC and cells: partial sums in [-8, 8]
  p.adc_bits = 3;
  p.interval = "{lo: -5, hi: 2}";
  p.adc_extra = adc_extra;
  const HwConfig hw = cimsim::testing::make_hw(p);
  AdcTransfer adc(hw.macro, hw.adc, hw.interval_for("x"));
  const AdcInterval full = hw.full_interval();
  adc.build_table(int(full.lo), int(full.hi));
  ASSERT_TRUE(adc.has_table());

  const CounterRng rng(4, {uint64_t(RngTag::kTestData)});
  std::vector<float> y(100000);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = float(std::floor(rng.uniform(i) * 17.0) - 8.0);

  ConversionStats tallied, direct;
  for (ConversionStats* s : {&tallied, &direct}) s->histogram.init(-6, 6);  // some under/overflow
  tallied.tally.init(adc.table_lo(), adc.table_lo() + int32_t(adc.table_size()) - 1);
  std::vector<double> v_tally(y.size()), v_direct(y.size());
  const std::vector<int32_t> y_int(y.begin(), y.end());
  tallied.tally.add(y_int.data(), adc.table_value(), v_tally.data(), int64_t(y.size()));
  tallied.fold(adc);
  adc.convert(y.data(), v_direct.data(), int64_t(y.size()), direct.adc, rng, 0, 0);
  direct.histogram.add(y.data(), int64_t(y.size()));
  direct.error.add(v_direct.data(), y.data(), int64_t(y.size()));

  EXPECT_EQ(v_tally, v_direct);
  EXPECT_EQ(tallied.adc.conversions, direct.adc.conversions);
  EXPECT_EQ(tallied.adc.clipped_low, direct.adc.clipped_low);
  EXPECT_EQ(tallied.adc.clipped_high, direct.adc.clipped_high);
  EXPECT_GT(direct.adc.clipped_low, 0);
  EXPECT_GT(direct.adc.clipped_high, 0);
  EXPECT_EQ(tallied.histogram.counts(), direct.histogram.counts());
  EXPECT_EQ(tallied.histogram.underflow(), direct.histogram.underflow());
  EXPECT_EQ(tallied.histogram.overflow(), direct.histogram.overflow());
  EXPECT_GT(direct.histogram.underflow(), 0);
  EXPECT_EQ(tallied.error.count, direct.error.count);
  EXPECT_EQ(tallied.error.signal_sq, direct.error.signal_sq);  // sums of integers: exact
  if (exact_sums) {
    EXPECT_EQ(tallied.error.sum, direct.error.sum);
    EXPECT_EQ(tallied.error.sum_sq, direct.error.sum_sq);
  } else {  // different summation order
    EXPECT_NEAR(tallied.error.sum, direct.error.sum, 1e-9 * direct.error.sum_sq);
    EXPECT_NEAR(tallied.error.sum_sq, direct.error.sum_sq, 1e-12 * direct.error.sum_sq);
  }

  // The tally is emptied: a second fold adds nothing.
  const int64_t before = tallied.adc.conversions;
  tallied.fold(adc);
  EXPECT_EQ(tallied.adc.conversions, before);
  EXPECT_EQ(tallied.histogram.total(), direct.histogram.total());
}

TEST(ConversionStats, FoldMatchesDirectPathPlainConverter) { check_fold_matches_direct("", true); }

TEST(ConversionStats, FoldMatchesDirectPathWithInlAndGain) {
  check_fold_matches_direct(
      "  gain_error: 0.03\n  offset_lsb: 0.2\n  inl_lsb: [0.1, -0.05, 0.02, 0, 0.3, -0.2, 0.01, 0.07]\n",
      false);
}

TEST(ConversionStats, MergeAddsEverything) {
  ConversionStats a, b;
  for (ConversionStats* s : {&a, &b}) {
    s->histogram.init(0, 3);
    s->adc = {10, 1, 2};
    s->events = {1, 2, 3, 4};
    const std::vector<float> y = {0, 1, 2, 3};
    const std::vector<double> v = {0, 1, 2, 4};
    s->histogram.add(y.data(), 4);
    s->error.add(v.data(), y.data(), 4);
  }
  a.merge(b);
  EXPECT_EQ(a.adc.conversions, 20);
  EXPECT_EQ(a.adc.clipped_low, 2);
  EXPECT_EQ(a.adc.clipped_high, 4);
  EXPECT_EQ(a.histogram.counts(), (V{2, 2, 2, 2}));
  EXPECT_EQ(a.error.count, 8);
  EXPECT_EQ(a.error.sum, 2.0);
  EXPECT_EQ(a.events.dac_row_drives, 2);
  EXPECT_EQ(a.events.cell_reads, 4);
  EXPECT_EQ(a.events.adc_conversions, 6);
  EXPECT_EQ(a.events.shift_add_ops, 8);
}

TEST(Energy, SarComponentsMatchHandComputation) {
  HwParams p;  // energy: dac 0.01, array 0.001, adc 0.1 / comparison, shift-add 0.05, leakage 0.1 mW
  p.adc_bits = 5;
  p.adc_type = "sar";
  const HwConfig hw = cimsim::testing::make_hw(p);
  const EnergyEvents ev{100, 1000, 50, 20};
  const EnergyBreakdown b = energy_of(ev, hw, 3, 2e-6);
  EXPECT_DOUBLE_EQ(b.dac_pj, 100 * 0.01);
  EXPECT_DOUBLE_EQ(b.array_pj, 1000 * 0.001);
  EXPECT_DOUBLE_EQ(b.adc_pj, 50 * 5 * 0.1);  // 5 comparisons a conversion
  EXPECT_DOUBLE_EQ(b.shift_add_pj, 20 * 0.05);
  EXPECT_DOUBLE_EQ(b.leakage_pj, 0.1e-3 * 3 * 2e-6 * 1e12);  // W x s in pJ: 600
  EXPECT_DOUBLE_EQ(b.total_pj(), 1 + 1 + 25 + 1 + 600);
  const EnergyFigures f = energy_figures(b);
  EXPECT_DOUBLE_EQ(f.adc, 25.0);
  EXPECT_DOUBLE_EQ(f.total, 628.0);
}

// energy.data_dependent: DAC energy per drive of a non-zero digit, array energy per read of a
// conducting cell; the other components as before; static and dynamic add up to the total.
TEST(Energy, DataDependentCountsOnlyNonzeroDrivesAndConductingCells) {
  HwParams p;
  p.adc_bits = 5;
  const EnergyEvents ev{100, 1000, 50, 20, 30, 200};
  const HwConfig plain = cimsim::testing::make_hw(p);
  const HwConfig sparse = parse_hw_config(cimsim::testing::hw_yaml(p) + "  data_dependent: true\n", "t.yaml");
  const EnergyBreakdown a = energy_of(ev, plain, 3, 2e-6), b = energy_of(ev, sparse, 3, 2e-6);
  EXPECT_DOUBLE_EQ(a.dac_pj, 100 * 0.01);
  EXPECT_DOUBLE_EQ(b.dac_pj, 30 * 0.01);
  EXPECT_DOUBLE_EQ(a.array_pj, 1000 * 0.001);
  EXPECT_DOUBLE_EQ(b.array_pj, 200 * 0.001);
  EXPECT_EQ(a.adc_pj, b.adc_pj);
  EXPECT_EQ(a.shift_add_pj, b.shift_add_pj);
  EXPECT_EQ(a.leakage_pj, b.leakage_pj);
  const EnergyFigures f = energy_figures(b);
  EXPECT_DOUBLE_EQ(f.dynamic, 0.3 + 0.2 + 25 + 1);
  EXPECT_DOUBLE_EQ(f.static_energy, 600);
  EXPECT_EQ(f.total, f.dynamic + f.static_energy);
}

TEST(Energy, FlashUsesTwoToBitsMinusOneComparisons) {
  HwParams p;
  p.adc_bits = 5;
  p.adc_type = "flash";
  const HwConfig hw = cimsim::testing::make_hw(p);
  const EnergyBreakdown b = energy_of(EnergyEvents{0, 0, 50, 0}, hw, 0, 1.0);
  EXPECT_DOUBLE_EQ(b.adc_pj, 50 * 31 * 0.1);
  EXPECT_EQ(b.leakage_pj, 0.0);
  EXPECT_DOUBLE_EQ(b.total_pj(), 155.0);
}

}  // namespace

namespace cimsim {
namespace {

// A value exactly on a bin's lower edge belongs to that bin, also for bin widths whose
// reciprocal is inexact (width 49 here).
TEST(PartialSumHistogramEdges, ValueOnLowerEdgeCountsInThatBin) {
  PartialSumHistogram h;
  h.init(-100000, 100000);
  ASSERT_EQ(h.bin_width(), 49.0);
  for (int j : {1, 1997, 2500, 4000}) {
    PartialSumHistogram one = h;
    const float y = float(h.first_edge() + 49.0 * j);
    ASSERT_EQ(double(y), h.first_edge() + 49.0 * j);
    one.add(&y, 1);
    EXPECT_EQ(one.counts()[std::size_t(j)], 1) << "bin " << j;
  }
}

}  // namespace
}  // namespace cimsim
