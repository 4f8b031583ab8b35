// MacroNumerics, a macro's one arithmetic path, alone (no SystemC): its shift-add registers
// against the plain-loop reference of docs/numerics.md, its energy event counts against closed
// forms, and what it records of vector 0 for a traced run.
#include <gtest/gtest.h>

#include <functional>

#include "../support/random_operands.h"
#include "../support/reference_mvm.h"
#include "../support/test_configs.h"
#include "device/array_programming.h"
#include "macro/macro_numerics.h"

namespace cimsim {
namespace {

using testing::HwParams;

// One macro holding a whole K x N layer, with random operands.
struct OneMacro {
  HwConfig hw;
  testing::Operands operands;
  LayerMapping mapping;
  std::unique_ptr<AdcTransfer> adc;
  std::unique_ptr<MacroNumerics> numerics;

  OneMacro(const HwParams& p, int K, int N, int B)
      : hw(testing::make_hw(p)), operands(testing::random_operands(p, K, N, B, 99)) {
    mapping = map_layer(K, N, plain_row_groups(K, hw.macro.rows_per_cycle), hw.macro);
    adc = std::make_unique<AdcTransfer>(hw.macro, hw.adc, hw.interval_for("layer"));
    adc->build_table(int(hw.full_interval().lo), int(hw.full_interval().hi));
    numerics = std::make_unique<MacroNumerics>(hw, mapping, 0, operands.weights, *adc, 7, 0);
  }
  const std::vector<std::vector<int>>& W() const { return operands.W; }
  const std::vector<std::vector<int>>& X() const { return operands.X; }

  MvmJob job() const {
    return MvmJob{&operands.inputs, 0, int(operands.inputs.rows()), next_job_serial(), 0, 1};
  }
};

struct Converted {
  Eigen::MatrixXd registers;
  ConversionStats stats;
  ErrorSums error;
  std::vector<StepProbe> probe;
};

// Every slice of `job`, in slice order, as the layer engine converts a transaction.
Converted convert_all(const MacroNumerics& n, const MvmJob& job, bool probe) {
  Converted c;
  c.registers.setZero(job.batch, n.col_tile().col_count);
  c.stats = n.empty_stats();
  InputDigits digits;
  for (int s = 0; s < MacroNumerics::slices_of(job.batch); ++s) {
    ErrorSums e;
    n.convert(job, s, {&c.registers, &c.stats, &e}, digits, probe ? &c.probe : nullptr);
    c.error.merge(e);
  }
  return c;
}

struct Case {
  std::string name;
  HwParams hw;
};

class MacroNumericsTest : public ::testing::TestWithParam<Case> {};

// K = 16 rows (two row groups of 8), N = 4 outputs: one 16 x 24 macro; 70 vectors: three slices.
constexpr int kK = 16, kN = 4, kB = 70;

TEST_P(MacroNumericsTest, RegistersMatchReference) {
  const HwParams& p = GetParam().hw;
  OneMacro m(p, kK, kN, kB);
  ASSERT_EQ(m.mapping.macros(), 1);
  const Converted c = convert_all(*m.numerics, m.job(), false);
  testing::ReferenceSpec r{p.rows,     p.rows_per_cycle, p.weight_bits, p.input_bits,
                           p.dac_bits, p.cell_bits,      p.adc_bits};
  r.digital = p.subtraction == "digital";
  r.adc_ideal = p.adc_ideal;
  r.lo = m.adc->lo();
  r.hi = m.adc->hi();
  r.accumulator_bits = p.accumulator_bits == "none" ? 0 : std::stoi(p.accumulator_bits);
  const auto expected = testing::reference_mvm(r, m.W(), m.X());
  if (m.adc->has_thermal_noise()) {
    // The reference has no converter noise: the noise must change some outputs, not all.
    int differ = 0;
    for (int b = 0; b < kB; ++b)
      for (int n = 0; n < kN; ++n) differ += c.registers(b, n) != expected[std::size_t(b)][std::size_t(n)];
    EXPECT_GT(differ, 0);
    EXPECT_LT(differ, kB * kN);
    return;
  }
  for (int b = 0; b < kB; ++b)
    for (int n = 0; n < kN; ++n)
      ASSERT_EQ(c.registers(b, n), expected[std::size_t(b)][std::size_t(n)]) << b << "," << n;
}

TEST_P(MacroNumericsTest, EventCountsFollowClosedForm) {
  const HwParams& p = GetParam().hw;
  OneMacro m(p, kK, kN, kB);
  const Converted c = convert_all(*m.numerics, m.job(), false);
  const int phases = (p.input_bits + p.dac_bits - 1) / p.dac_bits;
  const int slices = (p.weight_bits - 1 + p.cell_bits - 1) / p.cell_bits;
  const int per_pair = p.subtraction == "digital" ? 2 : 1;
  const int groups = (kK + p.rows_per_cycle - 1) / p.rows_per_cycle;
  // Every row driven once per phase and vector; every used bit line of a driven row read.
  EXPECT_EQ(c.stats.events.dac_row_drives, int64_t(kK) * phases * kB);
  EXPECT_EQ(c.stats.events.cell_reads, int64_t(kK) * (kN * 2 * slices) * phases * kB);
  // One conversion per ADC input, step and vector; each result accumulated once.
  const int64_t conversions = int64_t(kN) * slices * per_pair * groups * phases * kB;
  EXPECT_EQ(c.stats.events.adc_conversions, conversions);
  EXPECT_EQ(c.stats.events.shift_add_ops, conversions);
  EXPECT_EQ(int(m.numerics->steps().size()), groups * phases);
  EXPECT_EQ(m.numerics->signals(), kN * slices * per_pair);
  // The data-dependent counts by hand: a drive whose digit is not 0, and its reads of cells at a
  // level above 0 (ideal devices: a cell conducts when its level is not 0).
  int64_t drives = 0, reads = 0;
  for (int b = 0; b < kB; ++b)
    for (int phase = 0; phase < phases; ++phase)
      for (int k = 0; k < kK; ++k) {
        if (((m.X()[std::size_t(b)][std::size_t(k)] >> (phase * p.dac_bits)) & ((1 << p.dac_bits) - 1)) == 0)
          continue;
        ++drives;
        for (int n = 0; n < kN; ++n)
          for (int s = 0; s < slices; ++s)
            reads += weight_slice(std::abs(m.W()[std::size_t(k)][std::size_t(n)]), s, p.cell_bits) != 0;
      }
  EXPECT_GT(drives, 0);
  EXPECT_LT(drives, c.stats.events.dac_row_drives);  // the operands hold zero digits
  EXPECT_EQ(c.stats.events.dac_nonzero_drives, drives);
  EXPECT_EQ(c.stats.events.conducting_cell_reads, reads);
}

// A cell conducts when its programmed conductance is above 0: stuck at g_max every cell of a
// driven row conducts, stuck at 0 none does.
TEST(MacroNumerics, ConductingCellsFollowTheProgrammedConductance) {
  for (const bool stuck_high : {true, false}) {
    HwParams p;
    p.device_extra = stuck_high ? "  stuck_at_1: 1.0\n" : "  stuck_at_0: 1.0\n";
    OneMacro m(p, kK, kN, kB);
    const Converted c = convert_all(*m.numerics, m.job(), false);
    const int64_t bitlines = int64_t(kN) * 2 * m.hw.macro.slices();
    EXPECT_GT(c.stats.events.dac_nonzero_drives, 0);
    EXPECT_EQ(c.stats.events.conducting_cell_reads,
              stuck_high ? c.stats.events.dac_nonzero_drives * bitlines : 0)
        << p.device_extra;
  }
}

TEST_P(MacroNumericsTest, ProbeRecordsVectorZeroAndChangesNothing) {
  const HwParams& p = GetParam().hw;
  OneMacro m(p, kK, kN, kB);
  const Converted plain = convert_all(*m.numerics, m.job(), false);
  const Converted probed = convert_all(*m.numerics, m.job(), true);
  // Recording takes the unfused path for integer partial sums: the same values and counts.
  ASSERT_TRUE(plain.registers == probed.registers);
  EXPECT_EQ(plain.stats.events.shift_add_ops, probed.stats.events.shift_add_ops);
  EXPECT_EQ(plain.stats.tally.active(), probed.stats.tally.active());
  if (plain.stats.tally.active()) {
    const int32_t lo = plain.stats.tally.lo();
    for (int32_t v = lo; v < lo + int32_t(m.adc->table_size()); ++v)
      EXPECT_EQ(plain.stats.tally.count(v), probed.stats.tally.count(v)) << v;
  }
  EXPECT_EQ(plain.stats.histogram.counts(), probed.stats.histogram.counts());
  EXPECT_EQ(plain.stats.adc.conversions, probed.stats.adc.conversions);
  EXPECT_EQ(plain.stats.adc.clipped_low, probed.stats.adc.clipped_low);
  EXPECT_EQ(plain.stats.adc.clipped_high, probed.stats.adc.clipped_high);
  EXPECT_EQ(plain.error.ideal.sum, probed.error.ideal.sum);
  EXPECT_EQ(plain.error.ideal.sum_sq, probed.error.ideal.sum_sq);
  EXPECT_EQ(plain.error.programmed.sum_sq, probed.error.programmed.sum_sq);

  const auto& steps = m.numerics->steps();
  ASSERT_EQ(probed.probe.size(), steps.size());
  const int slices = m.hw.macro.slices();
  const int per_pair = m.hw.macro.signals_per_pair();
  for (const Step& step : steps) {
    const StepProbe& sp = probed.probe[std::size_t(step.index)];
    ASSERT_EQ(int(sp.analog.size()), m.numerics->signals());
    // Ideal devices: each ADC input samples the exact partial sum of vector 0 over the group.
    const RowGroup& g = m.mapping.groups[std::size_t(step.group)];
    for (int o = 0; o < kN; ++o) {
      for (int s = 0; s < slices; ++s) {
        long plus = 0, minus = 0;
        for (int k = g.begin; k < g.begin + g.size; ++k) {
          const int digit = (m.X()[0][std::size_t(k)] >> (step.phase * p.dac_bits)) & ((1 << p.dac_bits) - 1);
          const int w = m.W()[std::size_t(k)][std::size_t(o)];
          const int level = weight_slice(std::abs(w), s, p.cell_bits);
          (w > 0 ? plus : minus) += (w == 0 ? 0 : long(digit) * level);
        }
        const int pair = o * slices + s;
        if (per_pair == 1) {
          EXPECT_EQ(sp.analog[std::size_t(pair)], float(plus - minus));
        } else {
          EXPECT_EQ(sp.analog[std::size_t(2 * pair)], float(plus));
          EXPECT_EQ(sp.analog[std::size_t(2 * pair + 1)], float(minus));
        }
      }
    }
    for (std::size_t c = 0; c < sp.codes.size(); ++c) {
      // With thermal noise the code has the conversion's own draw: the value the conversion
      // used must be that code's level.
      if (!m.adc->has_thermal_noise()) EXPECT_EQ(sp.codes[c], m.adc->code_of(sp.analog[c]));
      if (!p.adc_ideal) EXPECT_EQ(sp.values[c], m.adc->lo() + sp.codes[c] * m.adc->step()) << c;
    }
  }
  // After the last step the registers hold vector 0's outputs.
  const StepProbe& last = probed.probe.back();
  for (int o = 0; o < kN; ++o) EXPECT_EQ(last.registers[std::size_t(o)], probed.registers(0, o));
}

HwParams with(const std::function<void(HwParams&)>& f) {
  HwParams p;
  f(p);
  return p;
}

INSTANTIATE_TEST_SUITE_P(Configs, MacroNumericsTest,
                         ::testing::Values(Case{"sar_5bit", HwParams{}},
                                           Case{"ideal_adc", with([](HwParams& p) { p.adc_ideal = true; })},
                                           Case{"digital_subtraction", with([](HwParams& p) {
                                                  p.subtraction = "digital";
                                                  p.adc_bits = 4;
                                                  p.interval = "{lo: 0, hi: 8}";
                                                })},
                                           Case{"saturating_accumulator",
                                                with([](HwParams& p) { p.accumulator_bits = "7"; })},
                                           // Non-integer conversions (thermal noise, offset): the error
                                           // sums and the probe's recomputed thermal draws.
                                           Case{"thermal_noise", with([](HwParams& p) {
                                                  p.adc_bits = 4;
                                                  p.interval = "{lo: -4, hi: 5}";
                                                  p.adc_extra =
                                                      "  thermal_sigma_lsb: 0.7\n  offset_lsb: 0.3\n";
                                                })},
                                           Case{"wide_digits_clipping", with([](HwParams& p) {
                                                  p.weight_bits = 6;
                                                  p.input_bits = 5;
                                                  p.dac_bits = 2;
                                                  p.cell_bits = 2;
                                                  p.cols = 32;
                                                  p.adc_bits = 4;
                                                  p.interval = "{lo: -20, hi: 25}";
                                                })}),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

// A duplicate of a tile (chip.duplicate) has its own device draws: copy 0 is the tile itself,
// copy 1 differs when the devices vary, and equals it when they are ideal.
TEST(MacroNumerics, CopiesDrawTheirOwnDevices) {
  for (const bool varied : {true, false}) {
    testing::HwParams p;
    if (varied) p.device_extra = "  program_lognormal_sigma: 0.1\n";
    const HwConfig hw = testing::make_hw(p);
    const testing::Operands ops = testing::random_operands(p, kK, kN, kB, 99);
    const LayerMapping mapping = map_layer(kK, kN, plain_row_groups(kK, hw.macro.rows_per_cycle), hw.macro);
    AdcTransfer adc(hw.macro, hw.adc, hw.interval_for("layer"));
    adc.build_table(int(hw.full_interval().lo), int(hw.full_interval().hi));
    const MvmJob job{&ops.inputs, 0, int(ops.inputs.rows()), next_job_serial(), 0, 1};
    const MacroNumerics plain(hw, mapping, 0, ops.weights, adc, 7, 0);
    const MacroNumerics copy0(hw, mapping, 0, ops.weights, adc, 7, 0, 0);
    const MacroNumerics copy1(hw, mapping, 0, ops.weights, adc, 7, 0, 1);
    const Eigen::MatrixXd a = convert_all(plain, job, false).registers;
    EXPECT_TRUE(convert_all(copy0, job, false).registers == a);
    EXPECT_EQ(convert_all(copy1, job, false).registers == a, !varied) << "varied " << varied;
  }
}

}  // namespace
}  // namespace cimsim
