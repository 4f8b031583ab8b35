// VCD traces: written only inside the requested cycle window, with an explicit time unit, plus
// a .gtkw save file naming every traced signal.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../support/random_operands.h"
#include "../support/test_configs.h"
#include "core/error.h"
#include "mvm_run.h"
#include "vcd_trace.h"

namespace cimsim {
namespace {

// A VCD file read back: every signal by its full name (scopes below "SystemC" joined by dots)
// with its value changes. Values: 0/1 for bits, two's complement for 32-bit vectors, reals.
struct Vcd {
  std::string timescale;
  std::map<std::string, std::string> id_of;                                // full name -> identifier
  std::map<std::string, std::vector<std::pair<int64_t, double>>> changes;  // identifier -> (ps, value)
  std::set<int64_t> times;                                                 // every time stamp written

  bool has(const std::string& name) const { return id_of.count(name) > 0; }
  // The value `name` holds at time t (ps): its last change at or before t.
  double at(const std::string& name, int64_t t) const {
    const auto& c = changes.at(id_of.at(name));
    double v = 0;
    for (const auto& [when, value] : c)
      if (when <= t) v = value;
    return v;
  }
};

double vcd_value(const std::string& text) {
  if (text[0] == 'r') return std::stod(text.substr(1));
  if (text[0] == 'b') {
    const std::string bits = text.substr(1);
    uint64_t u = 0;
    for (char c : bits) u = u << 1 | uint64_t(c == '1');
    if (bits.size() == 32 && bits[0] == '1') return double(int32_t(uint32_t(u)));
    return double(u);
  }
  return text[0] == '1' ? 1.0 : 0.0;
}

Vcd parse_vcd(const std::string& path) {
  std::ifstream in(path);
  Vcd v;
  std::string line;
  bool in_header = true, in_timescale = false;
  std::vector<std::string> scopes;
  int64_t now = -1;  // values before the first time stamp are the initial dump
  while (std::getline(in, line)) {
    if (in_header) {
      std::istringstream s(line);
      std::string word;
      s >> word;
      if (word == "$timescale") {
        in_timescale = true;
      } else if (in_timescale && word == "$end") {
        in_timescale = false;
      } else if (in_timescale) {
        v.timescale = line.substr(line.find_first_not_of(" \t"));
      } else if (word == "$scope") {
        std::string kind, name;
        s >> kind >> name;
        scopes.push_back(name);
      } else if (word == "$upscope") {
        scopes.pop_back();
      } else if (word == "$var") {
        std::string type, width, id, name;
        s >> type >> width >> id >> name;
        std::string full;
        for (std::size_t i = 1; i < scopes.size(); ++i) full += scopes[i] + ".";
        v.id_of[full + name] = id;
      } else if (word == "$enddefinitions") {
        in_header = false;
      }
      continue;
    }
    if (line.empty() || line[0] == '$') continue;
    if (line[0] == '#') {
      now = std::stoll(line.substr(1));
      v.times.insert(now);
      continue;
    }
    std::string value = line, id;
    if (line[0] == 'b' || line[0] == 'r') {
      const std::size_t space = line.find(' ');
      value = line.substr(0, space);
      id = line.substr(space + 1);
    } else {
      value = line.substr(0, 1);
      id = line.substr(1);
    }
    v.changes[id].push_back({now, vcd_value(value)});
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

  const Vcd v = parse_vcd(options.trace_path);
  EXPECT_EQ(v.timescale, "1 ps");
  for (const char* s :
       {"clock.clk", "layer.active", "layer.vector", "layer.batch", "layer.macro_r0_c0.row_group",
        "layer.macro_r0_c0.phase", "layer.macro_r0_c0.adc_busy", "layer.macro_r0_c0.adc_step",
        "layer.macro_r0_c0.adc0_bitline", "layer.macro_r0_c0.adc0_analog", "layer.macro_r0_c0.adc0_sar",
        "layer.macro_r0_c0.adc0_code", "layer.macro_r0_c0.adc0_value", "layer.macro_r0_c0.adc0_valid",
        "layer.macro_r0_c0.shift_add0", "layer.macro_r0_c0.output_valid"}) {
    EXPECT_TRUE(v.has(s)) << s;
  }
  EXPECT_FALSE(v.has("layer.macro_r0_c0.adc1_code")) << "only ADC 0 is traced by default";
  // Cycles 30..90 are times [30 T, 91 T); a strobe raised in cycle 90 falls at 91 T.
  int inside = 0;
  std::set<int64_t> change_times;
  for (const auto& [name, id] : v.id_of) {
    for (const auto& [t, value] : v.changes.at(id)) {
      if (t < 0) continue;  // the initial dump
      change_times.insert(t);
      EXPECT_GE(t, 30 * 10000) << name << " changed before the window at " << t << " ps";
      const bool strobe_falls = t == 91 * 10000 && value == 0 && name.find("valid") != std::string::npos;
      if (!strobe_falls) EXPECT_LT(t, 91 * 10000) << name << " changed after the window at " << t << " ps";
      ++inside;
    }
  }
  EXPECT_GT(inside, 10);
  EXPECT_GT(change_times.size(), 5u) << "signals should change at several times inside the window";
  // The clock: high in the first half of every cycle of the window.
  for (int64_t c = 30; c <= 90; ++c) {
    EXPECT_EQ(v.at("clock.clk", c * 10000), 1.0) << c;
    EXPECT_EQ(v.at("clock.clk", c * 10000 + 5000), 0.0) << c;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "run.gtkw"));
  std::ifstream gtkw(dir_ / "run.gtkw");
  const std::string text((std::istreambuf_iterator<char>(gtkw)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("[dumpfile]"), std::string::npos);
  EXPECT_NE(text.find("SystemC.layer.macro_r0_c0.adc0_code[31:0]"), std::string::npos);
  for (const auto& [name, id] : v.id_of) EXPECT_NE(text.find("SystemC." + name), std::string::npos) << name;
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
  const Vcd v = parse_vcd(options.trace_path);
  // At the window's start (during step 0's second conversion) the busy flag, the step and the
  // multiplexer position show as they stand.
  EXPECT_EQ(v.at("layer.macro_r0_c0.adc_busy", 6 * 10000), 1.0);
  EXPECT_EQ(v.at("layer.macro_r0_c0.adc_step", 6 * 10000), 0.0);
  EXPECT_EQ(v.at("layer.macro_r0_c0.adc0_bitline", 6 * 10000), 2.0);
  for (const auto& [name, id] : v.id_of)
    for (const auto& [t, value] : v.changes.at(id)) EXPECT_TRUE(t < 0 || t >= 6 * 10000) << name << " " << t;
}

TEST_F(VcdTraceTest, ConversionSignalsMatchAnIndependentComputation) {
  // One 16 x 24 macro (K = 16, N = 4 outputs x 3 slices = 12 ADC inputs on 6 ADCs of 2 inputs),
  // every ADC traced. Step 0 (row group 0, phase 0) of vector 0 computed here by plain loops.
  testing::HwParams p;  // 10 ns clock, t_a = 1, 5-bit SAR, analog subtraction, 1-bit DAC and cells
  const HwConfig hw = testing::make_hw(p);
  const testing::Operands o = testing::random_operands(p, 16, 4, 2, 11);
  MvmOptions options;
  options.batch = 2;
  options.trace_path = (dir_ / "conv.vcd").string();
  options.trace_all_adcs = true;
  Eigen::MatrixXd y;
  run_mvm(hw, o.weights, o.x, y, options);
  const Vcd v = parse_vcd(options.trace_path);

  const AdcInterval iv = hw.interval_for("mvm");
  const double lsb = (iv.hi - iv.lo) / 31.0;
  const int slices = 3;
  std::vector<double> analog(12);  // ADC input o * S + s: G+ minus G- of output o, slice s
  for (int out = 0; out < 4; ++out) {
    for (int s = 0; s < slices; ++s) {
      long sum = 0;
      for (int k = 0; k < 8; ++k) {  // row group 0, phase 0: digit x & 1
        const int w = o.W[std::size_t(k)][std::size_t(out)];
        const int level = (std::abs(w) >> s) & 1;
        sum += long(o.X[0][std::size_t(k)] & 1) * level * (w > 0 ? 1 : w < 0 ? -1 : 0);
      }
      analog[std::size_t(out * slices + s)] = double(sum);
    }
  }
  auto code_of = [&](double value) {
    return std::min(31.0, std::max(0.0, std::nearbyint((value - iv.lo) / lsb)));
  };
  const std::string m = "layer.macro_r0_c0.";
  EXPECT_EQ(v.at("layer.batch", 5000), 2.0);
  EXPECT_EQ(v.at("layer.active", 5000), 1.0);
  // ADC a converts input 2a over cycles [1, 6) and 2a + 1 over [6, 11): trial k in cycle 1 + k.
  for (int a = 0; a < 6; ++a) {
    const std::string adc = m + "adc" + std::to_string(a) + "_";
    for (int j = 0; j < 2; ++j) {
      const int input = 2 * a + j;
      const int64_t start = (1 + 5 * j) * 10000, end = start + 5 * 10000;
      const double code = code_of(analog[std::size_t(input)]);
      EXPECT_EQ(v.at(adc + "bitline", start + 5000), 2.0 * input) << adc;
      EXPECT_EQ(v.at(adc + "analog", start + 5000), analog[std::size_t(input)]) << adc << " input " << input;
      int decided = 0;
      for (int k = 0; k < 5; ++k) {
        const int bit = 4 - k;
        EXPECT_EQ(v.at(adc + "sar", start + k * 10000 + 5000), double(decided | (1 << bit)))
            << adc << " trial " << k;
        decided |= int(code) & (1 << bit);
      }
      EXPECT_EQ(v.at(adc + "code", end + 5000), code) << adc << " input " << input;
      EXPECT_NEAR(v.at(adc + "value", end + 5000), iv.lo + code * lsb, 1e-12) << adc;
      EXPECT_EQ(v.at(adc + "valid", end + 5000), 1.0) << adc;
      EXPECT_EQ(v.at(adc + "valid", end - 5000), 0.0) << adc;
    }
  }
  // After step 0 the shift-add register of output 0 holds its three slices' values, 2^s each.
  double register0 = 0;
  for (int s = 0; s < slices; ++s)
    register0 += (iv.lo + code_of(analog[std::size_t(s)]) * lsb) * double(1 << s);
  EXPECT_NEAR(v.at(m + "shift_add0", 11 * 10000 + 5000), register0, 1e-9);  // the VCD holds 16 digits
  EXPECT_EQ(v.at(m + "adc_step", 11 * 10000 + 5000), 1.0);
}

TEST_F(VcdTraceTest, WindowPastTheEndIsAnErrorAndWritesNothing) {
  const HwConfig hw = testing::make_hw(testing::HwParams{});
  Eigen::MatrixXi w = Eigen::MatrixXi::Constant(16, 4, 3);
  IntMatrix x = IntMatrix::Constant(2, 16, 9);
  MvmOptions options;
  options.trace_path = (dir_ / "late.vcd").string();
  options.trace_from = 100000;
  Eigen::MatrixXd y;
  try {
    run_mvm(hw, w, x, y, options);
    FAIL() << "a window opening after the run must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the run ends at cycle"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("choose FROM below"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "late.vcd"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "late.gtkw"));
}

TEST(VcdTracePath, BareNameGoesUnderTraces) {
  EXPECT_EQ(resolve_trace_path("run.vcd"), "traces/run.vcd");
  EXPECT_EQ(resolve_trace_path("run"), "traces/run.vcd");
  EXPECT_EQ(resolve_trace_path("out/run.vcd"), "out/run.vcd");
  EXPECT_EQ(resolve_trace_path("out/run.fst"), "out/run.fst");
  EXPECT_EQ(resolve_trace_path("out/run.txt"), "out/run.txt.vcd");
}

}  // namespace
}  // namespace cimsim
