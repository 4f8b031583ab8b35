// VCD traces: written only inside the requested cycle window, with an explicit time unit, plus
// a .gtkw save file naming every traced signal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../support/test_configs.h"
#include "mvm_run.h"
#include "vcd_trace.h"

namespace cimsim {
namespace {

struct VcdSummary {
  std::string timescale;
  std::set<std::string> signals;
  std::map<int64_t, int> changes_at;  // time (ps) -> value changes written at that time
};

VcdSummary parse_vcd(const std::string& path) {
  std::ifstream in(path);
  VcdSummary v;
  std::string line;
  bool in_header = true, in_timescale = false;
  int64_t now = -1;
  while (std::getline(in, line)) {
    if (in_header) {
      if (line.find("$timescale") != std::string::npos)
        in_timescale = true;
      else if (in_timescale && line.find("$end") != std::string::npos)
        in_timescale = false;
      else if (in_timescale)
        v.timescale = line.substr(line.find_first_not_of(" \t"));
      if (line.rfind("$var", 0) == 0) {
        std::istringstream s(line);
        std::string var, type, width, id, name;
        s >> var >> type >> width >> id >> name;
        v.signals.insert(name);
      }
      if (line.find("$enddefinitions") != std::string::npos) in_header = false;
      continue;
    }
    if (line.empty() || line[0] == '$') continue;
    if (line[0] == '#') {
      now = std::stoll(line.substr(1));
      v.changes_at[now];
      continue;
    }
    if (now >= 0) v.changes_at[now] += 1;  // a value change after the initial dump
  }
  return v;
}

class VcdTraceTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ =
      std::filesystem::path(::testing::TempDir()) / ("cimsim_vcd_" + std::to_string(::getpid()));
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

TEST_F(VcdTraceTest, ChangesOnlyInsideWindow) {
  testing::HwParams p;  // 10 ns clock
  const HwConfig hw = testing::make_hw(p);
  Eigen::MatrixXi w = Eigen::MatrixXi::Constant(37, 11, 3);
  IntMatrix x = IntMatrix::Constant(4, 37, 9);
  MvmOptions options;
  options.batch = 2;
  options.trace_path = (dir_ / "run.vcd").string();
  options.trace_from = 30;
  options.trace_to = 90;
  Eigen::MatrixXd y;
  const LayerReport report = run_mvm(hw, w, x, y, options);
  ASSERT_GT(report.cycles_per_mvm * report.transactions, 90) << "the window must end before the run does";

  const VcdSummary v = parse_vcd(options.trace_path);
  EXPECT_EQ(v.timescale, "1 ps");
  for (const char* s : {"row_group", "phase", "adc_busy", "adc0_bitline", "adc0_code"}) {
    EXPECT_TRUE(v.signals.count(s)) << s;
  }
  int inside = 0;
  std::set<int64_t> change_times;
  for (const auto& [t, n] : v.changes_at) {
    if (n == 0) continue;
    change_times.insert(t);
    EXPECT_GE(t, 30 * 10000) << "change before the window at " << t << " ps";
    EXPECT_LE(t, 90 * 10000) << "change after the window at " << t << " ps";
    inside += n;
  }
  EXPECT_GT(inside, 10);
  EXPECT_GT(change_times.size(), 5u) << "signals should change at several times inside the window";
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run.gtkw"));
  std::ifstream gtkw(dir_ / "run.gtkw");
  const std::string text((std::istreambuf_iterator<char>(gtkw)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("[dumpfile]"), std::string::npos);
  EXPECT_NE(text.find("SystemC.layer.macro_r0_c0.adc0_code[31:0]"), std::string::npos);
  // No temporary left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
  }
}

TEST_F(VcdTraceTest, WindowOpeningOnAConversionBoundary) {
  // t_a = 1 and 5-cycle SAR conversions: step 0's second conversion starts at cycle 6, where the
  // window opens too. The ADC bank and the window's opening then change adc_busy and the mux in
  // the same delta cycle (each signal has one writer; two writers aborted the run).
  const HwConfig hw = testing::make_hw(testing::HwParams{});
  Eigen::MatrixXi w = Eigen::MatrixXi::Constant(37, 11, 3);
  IntMatrix x = IntMatrix::Constant(4, 37, 9);
  MvmOptions options;
  options.trace_path = (dir_ / "boundary.vcd").string();
  options.trace_from = 6;
  options.trace_to = 90;
  Eigen::MatrixXd y;
  run_mvm(hw, w, x, y, options);
  const VcdSummary v = parse_vcd(options.trace_path);
  ASSERT_TRUE(v.changes_at.count(6 * 10000));
  EXPECT_GE(v.changes_at.at(6 * 10000), 2) << "adc_busy and the mux position show at the window's start";
  for (const auto& [t, n] : v.changes_at) {
    if (t > 0 && t < 6 * 10000) EXPECT_EQ(n, 0) << t;
  }
}

TEST(VcdTracePath, BareNameGoesUnderTraces) {
  EXPECT_EQ(resolve_trace_path("run.vcd"), "traces/run.vcd");
  EXPECT_EQ(resolve_trace_path("run"), "traces/run.vcd");
  EXPECT_EQ(resolve_trace_path("out/run.vcd"), "out/run.vcd");
}

}  // namespace
}  // namespace cimsim
