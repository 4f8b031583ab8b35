// Cycles reported by the SystemC model against the closed form of docs/timing.md, written here
// independently of the simulator, over a grid of configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "../support/test_configs.h"
#include "mvm_run.h"

namespace cimsim {
namespace {

using testing::HwParams;

struct TimingCase {
  HwParams hw;
  int K, N;
};

// docs/timing.md: per macro T = t_a + (n - 1) * max(t_a, t_b) + t_b + t_sa with n = groups x
// phases, t_b = min(signals per ADC, signals used) x t_conv; the layer takes the slowest macro
// plus ceil(log2(row tiles)) adder-tree cycles.
int64_t closed_form_cycles(const TimingCase& c) {
  const HwParams& p = c.hw;
  const int phases = (p.input_bits + p.dac_bits - 1) / p.dac_bits;
  const int slices = (p.weight_bits - 1 + p.cell_bits - 1) / p.cell_bits;
  const bool analog = p.subtraction == "analog";
  const int outputs_per_macro = p.cols / (2 * slices);
  const int signals_per_adc = analog ? p.cols_per_adc / 2 : p.cols_per_adc;
  const int t_conv = p.adc_type == "sar" ? p.adc_bits : 1;
  const int groups_total = (c.K + p.rows_per_cycle - 1) / p.rows_per_cycle;
  const int groups_per_tile = p.rows / p.rows_per_cycle;
  const int row_tiles = (groups_total + groups_per_tile - 1) / groups_per_tile;
  int64_t slowest = 0;
  for (int r = 0; r < row_tiles; ++r) {
    const int groups = std::min(groups_per_tile, groups_total - r * groups_per_tile);
    for (int first = 0; first < c.N; first += outputs_per_macro) {
      const int outputs = std::min(outputs_per_macro, c.N - first);
      const int signals = outputs * slices * (analog ? 1 : 2);
      const int64_t n = int64_t(groups) * phases;
      const int64_t t_a = p.array_cycles;
      const int64_t t_b = int64_t(std::min(signals_per_adc, signals)) * t_conv;
      slowest = std::max(slowest, t_a + (n - 1) * std::max(t_a, t_b) + t_b + p.shift_add_cycles);
    }
  }
  int tree = 0;
  while ((1 << tree) < row_tiles) ++tree;
  return slowest + tree;
}

void PrintTo(const TimingCase& c, std::ostream* os) { *os << "K=" << c.K << " N=" << c.N; }

class MvmTiming : public ::testing::TestWithParam<TimingCase> {};

TEST_P(MvmTiming, CyclesEqualClosedForm) {
  const TimingCase& c = GetParam();
  const HwConfig hw = testing::make_hw(c.hw);
  Eigen::MatrixXi w = Eigen::MatrixXi::Ones(c.K, c.N);
  IntMatrix x = IntMatrix::Ones(3, c.K);
  MvmOptions options;
  options.batch = 2;  // two transactions: the second must take as long as the first
  Eigen::MatrixXd y;
  const LayerReport report = run_mvm(hw, w, x, y, options);
  const int64_t expected = closed_form_cycles(c);
  EXPECT_EQ(report.cycles_per_mvm, expected);
  EXPECT_EQ(report.total_cycles, expected * 3);
  EXPECT_EQ(report.transactions, 2);
  EXPECT_DOUBLE_EQ(report.latency_per_mvm_s(), double(expected) / (c.hw.clock_mhz * 1e6));
}

std::vector<TimingCase> timing_grid() {
  std::vector<TimingCase> cases;
  for (int rows_per_cycle : {4, 8, 16}) {
    for (int dac_bits : {1, 2, 4}) {
      for (int cols_per_adc : {2, 8}) {
        for (const char* adc_type : {"sar", "flash"}) {
          TimingCase c;
          c.hw.rows = 16;
          c.hw.cols = 24;
          c.hw.rows_per_cycle = rows_per_cycle;
          c.hw.dac_bits = dac_bits;
          c.hw.input_bits = 4;
          c.hw.cols_per_adc = cols_per_adc;
          c.hw.adc_type = adc_type;
          c.hw.array_cycles = rows_per_cycle == 16 ? 3 : 1;  // some configs array-bound
          c.K = 45;                                          // 3 row tiles
          c.N = 9;                                           // 3 column tiles of 4, 4, 1 outputs
          cases.push_back(c);
        }
      }
    }
  }
  TimingCase digital;
  digital.hw.subtraction = "digital";
  digital.hw.cols_per_adc = 3;
  digital.K = 20;
  digital.N = 5;
  cases.push_back(digital);
  TimingCase slow_array;
  slow_array.hw.array_cycles = 40;
  slow_array.hw.shift_add_cycles = 0;
  slow_array.hw.clock_mhz = 300;
  slow_array.K = 70;
  slow_array.N = 2;
  cases.push_back(slow_array);
  TimingCase one_macro;
  one_macro.K = 3;
  one_macro.N = 1;
  cases.push_back(one_macro);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Grid, MvmTiming, ::testing::ValuesIn(timing_grid()),
                         [](const ::testing::TestParamInfo<TimingCase>& info) {
                           const HwParams& p = info.param.hw;
                           std::ostringstream s;
                           s << "A" << p.rows_per_cycle << "_dac" << p.dac_bits << "_mux" << p.cols_per_adc
                             << "_" << p.adc_type << "_" << p.subtraction << "_ta" << p.array_cycles << "_K"
                             << info.param.K << "_N" << info.param.N;
                           return s.str();
                         });

}  // namespace
}  // namespace cimsim
