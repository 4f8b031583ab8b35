// The layer engine alone, driven by a testbench thread: its outputs against the plain-loop
// reference of docs/numerics.md and its cycles against the closed form of docs/timing.md; and
// the fast (lock-step, numerics after the pass) and accurate (traced, numerics per transaction)
// modes side by side in one simulation, with every device and converter effect on: equal outputs
// and statistics, bit for bit.
#include <gtest/gtest.h>

#include "../support/random_operands.h"
#include "../support/reference_mvm.h"
#include "../support/test_configs.h"
#include "layer_engine.h"

namespace cimsim {
namespace {

using testing::HwParams;

using testing::Operands;

TraceWindow window_of(const HwConfig& hw, bool accurate, int64_t from, int64_t to) {
  return TraceWindow::for_run(hw, accurate ? "unused.vcd" : "", from, to);
}

// Runs each engine over the same inputs in its own thread.
struct Bench : sc_core::sc_module {
  std::vector<std::unique_ptr<LayerEngine>> engines;
  std::vector<Eigen::MatrixXd> outputs;
  const InputMatrix* inputs = nullptr;
  int batch = 1;
  SC_HAS_PROCESS(Bench);
  Bench(sc_core::sc_module_name n, const HwConfig& hw, const Operands& o, int batch_,
        std::vector<bool> accurate, int64_t from = 0, int64_t to = -1)
      : sc_module(n), inputs(&o.inputs), batch(batch_) {
    const LayerMapping mapping =
        map_layer(int(o.weights.rows()), int(o.weights.cols()),
                  plain_row_groups(int(o.weights.rows()), hw.macro.rows_per_cycle), hw.macro);
    for (std::size_t e = 0; e < accurate.size(); ++e) {
      const std::string name = "engine" + std::to_string(e);
      engines.push_back(std::make_unique<LayerEngine>(name.c_str(), hw, o.weights, mapping,
                                                      hw.interval_for("layer"), 3, 0,
                                                      window_of(hw, accurate[e], from, to)));
    }
    outputs.resize(accurate.size());
    for (std::size_t e = 0; e < accurate.size(); ++e) sc_core::sc_spawn([this, e] { run(e); });
  }
  void run(std::size_t e) { engines[e]->process(*inputs, outputs[e], batch); }
};

TEST(LayerEngineModule, OutputsAndCyclesMatchTheReferences) {
  HwParams p;
  p.adc_bits = 4;
  p.interval = "{lo: -6, hi: 9}";
  const HwConfig hw = testing::make_hw(p);
  const int K = 37, N = 9, B = 5;  // 3 row tiles x 3 column tiles
  const Operands o = testing::random_operands(p, K, N, B, 5);
  Bench bench("bench", hw, o, 2, {false});
  sc_core::sc_start();
  testing::ReferenceSpec r{p.rows,     p.rows_per_cycle, p.weight_bits, p.input_bits,
                           p.dac_bits, p.cell_bits,      p.adc_bits};
  r.adc_ideal = false;
  r.lo = -6;
  r.hi = 9;
  const auto expected = testing::reference_mvm(r, o.W, o.X);
  for (int b = 0; b < B; ++b)
    for (int n = 0; n < N; ++n) ASSERT_EQ(bench.outputs[0](b, n), expected[std::size_t(b)][std::size_t(n)]);
  // docs/timing.md: 16 x 24 macros, A = 8: row tiles of 2, 2, 1 groups x 4 phases; t_a = 1,
  // t_b = min(4 / 2, 4 outputs x 3 slices) x 4 = 8; the slowest macro has n = 8 steps:
  // 1 + 7 x 8 + 8 + 1 = 66, plus ceil(log2 3) = 2 adder-tree cycles.
  const LayerEngine& engine = *bench.engines[0];
  EXPECT_EQ(engine.cycles_per_mvm(), 68);
  EXPECT_EQ(engine.transactions(), 3);
  EXPECT_EQ(sc_core::sc_time_stamp(), 3 * 68 * sc_core::sc_time(10, sc_core::SC_NS));
  // Cross-macro additions: (row tiles - 1) x N per vector, on top of the macros' shift-adds.
  const ConversionStats stats = engine.merged_stats();
  EXPECT_EQ(stats.events.shift_add_ops - stats.events.adc_conversions, int64_t(2) * N * B);
}

struct ModesCase {
  std::string name;
  bool noisy;        // variation, read and converter noise; else ideal devices (integer sums)
  int64_t from, to;  // the accurate engine's trace window (to < 0: to the end)
};

void PrintTo(const ModesCase& c, std::ostream* os) { *os << c.name; }

class LayerEngineModes : public ::testing::TestWithParam<ModesCase> {};

TEST_P(LayerEngineModes, FastAndAccurateModesGiveIdenticalResults) {
  const ModesCase& mc = GetParam();
  HwParams p;
  p.adc_bits = 4;
  p.interval = "{lo: -3, hi: 4}";  // partial sums reach +-8: both ends clip
  if (mc.noisy) {
    p.device_extra = "  program_lognormal_sigma: 0.1\n  read_noise_sigma: 0.3\n";
    p.adc_extra = "  thermal_sigma_lsb: 0.4\n  offset_lsb: 0.2\n";
  }
  const HwConfig hw = testing::make_hw(p);
  const int K = 45, N = 11, B = 70;  // several macros; batches of 33: two slices and a remainder
  const testing::Operands o = testing::random_operands(p, K, N, B, 5);
  Bench bench("bench", hw, o, 33, {false, true}, mc.from, mc.to);
  sc_core::sc_start();
  ASSERT_EQ(bench.outputs[0].rows(), B);
  EXPECT_TRUE(bench.outputs[0] == bench.outputs[1]) << "outputs differ between the modes";
  const ConversionStats fast = bench.engines[0]->merged_stats(), accurate = bench.engines[1]->merged_stats();
  EXPECT_EQ(fast.adc.conversions, accurate.adc.conversions);
  EXPECT_EQ(fast.adc.clipped_low, accurate.adc.clipped_low);
  EXPECT_EQ(fast.adc.clipped_high, accurate.adc.clipped_high);
  EXPECT_GT(fast.adc.clipped_low + fast.adc.clipped_high, 0) << "the case should clip";
  EXPECT_EQ(fast.histogram.counts(), accurate.histogram.counts());
  EXPECT_EQ(fast.histogram.underflow(), accurate.histogram.underflow());
  EXPECT_EQ(fast.histogram.overflow(), accurate.histogram.overflow());
  EXPECT_EQ(fast.histogram.total(), fast.adc.conversions);
  EXPECT_EQ(fast.error.count, accurate.error.count);
  EXPECT_EQ(fast.error.sum, accurate.error.sum);
  EXPECT_EQ(fast.error.sum_sq, accurate.error.sum_sq);
  EXPECT_EQ(fast.error.signal_sq, accurate.error.signal_sq);
  EXPECT_GT(fast.error.sum_sq, 0.0) << "quantization and noise should make errors";
  EXPECT_EQ(fast.residual.count, mc.noisy ? fast.error.count : 0) << "against programmed cells only";
  EXPECT_EQ(fast.residual.sum, accurate.residual.sum);
  EXPECT_EQ(fast.residual.sum_sq, accurate.residual.sum_sq);
  EXPECT_EQ(bench.engines[0]->level_errors().empty(), !mc.noisy);
  EXPECT_EQ(fast.events.dac_row_drives, accurate.events.dac_row_drives);
  EXPECT_EQ(fast.events.cell_reads, accurate.events.cell_reads);
  EXPECT_EQ(fast.events.adc_conversions, accurate.events.adc_conversions);
  EXPECT_EQ(fast.events.shift_add_ops, accurate.events.shift_add_ops);
  const int64_t c = bench.engines[0]->cycles_per_mvm();
  EXPECT_EQ(bench.engines[1]->cycles_per_mvm(), c);
  if (mc.to >= 0)
    EXPECT_TRUE(2 * c <= mc.from && mc.to < 3 * c) << "the window should see the third transaction only";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LayerEngineModes,
    ::testing::Values(ModesCase{"noisy_whole_run", true, 0, -1},
                      // Integer partial sums: the fast path's fused lookup-and-add against the
                      // accurate mode's unfused conversion of the probed slice.
                      ModesCase{"ideal_devices_whole_run", false, 0, -1},
                      // Transactions of ~70 cycles: the window sees the third only; the first is
                      // converted at its start (its length is not known yet), the second waits and
                      // is converted with the third, at the third's start.
                      ModesCase{"noisy_partial_window", true, 150, 160}),
    [](const ::testing::TestParamInfo<ModesCase>& info) { return info.param.name; });

}  // namespace
}  // namespace cimsim
