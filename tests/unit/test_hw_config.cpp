// Tests of the hardware-config loader (models/config/hw_config.*, yaml_section.*): the presets, every
// kind of bad input and its "<file>:<line>: <dotted.key>: <problem>; <fix>" message, --set
// overrides and the derived values. Expected line numbers are computed from the YAML text built
// here, never hard-coded.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "core/error.h"
#include "stats/energy.h"

namespace {

using cimsim::HwConfig;
using cimsim::InputError;

// A valid hardware YAML, one "key: value" per line, every section in block style, so a test can
// replace, add or delete one line by its dotted key and ask for any key's 1-based line.
class Yaml {
 public:
  Yaml()
      : lines_{
            "name: test-macro",
            "macro:",
            "  rows: 64",
            "  cols: 64",
            "  rows_per_cycle: 16",
            "  cols_per_adc: 8",
            "  weight_bits: 8",
            "  input_bits: 8",
            "  dac_bits: 2",
            "  cell_bits: 2",
            "  adc_bits: 6",
            "  adc_type: sar",
            "  subtraction: analog",
            "  accumulator_bits: none",
            "timing:",
            "  clock_mhz: 100",
            "  array_cycles: 2",
            "  shift_add_cycles: 1",
            "adc:",
            "  interval: full",
            "  offset_lsb: 0.0",
            "device:",
            "  program_sigma: 0.0",
            "energy:",
            "  dac_pj_per_row: 0.01",
            "  array_pj_per_cell: 0.002",
            "  adc_pj_per_comparison: 0.1",
            "  shift_add_pj_per_op: 0.05",
            "  leakage_mw_per_macro: 0.1",
        } {}

  // Replaces the value of `dotted` ("macro.adc_bits", "name"), or adds the key at the end of its
  // section when it is not there.
  Yaml& set(const std::string& dotted, const std::string& value) {
    const std::size_t i = find(dotted);
    if (i != kNone) {
      lines_[i] = indent(dotted) + leaf(dotted) + ": " + value;
    } else {
      add(dotted, value);
    }
    return *this;
  }
  // Adds "key: value" (possibly a key that is not valid) at the end of its section.
  Yaml& add(const std::string& dotted, const std::string& value) {
    const std::string line = indent(dotted) + leaf(dotted) + ": " + value;
    const auto dot = dotted.find('.');
    if (dot == std::string::npos) {
      lines_.push_back(line);
      return *this;
    }
    const std::size_t header = find(dotted.substr(0, dot));
    std::size_t end = header + 1;
    while (end < lines_.size() && lines_[end].rfind("  ", 0) == 0) ++end;
    lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(end), line);
    return *this;
  }
  // Deletes a key, or a whole section with its indented lines.
  Yaml& erase(const std::string& dotted) {
    const std::size_t i = find(dotted);
    std::size_t end = i + 1;
    if (dotted.find('.') == std::string::npos) {
      while (end < lines_.size() && lines_[end].rfind("  ", 0) == 0) ++end;
    }
    lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(i),
                 lines_.begin() + static_cast<std::ptrdiff_t>(end));
    return *this;
  }
  // Replaces the line of `dotted` by arbitrary text (for syntax errors).
  Yaml& replace_line(const std::string& dotted, const std::string& text) {
    lines_[find(dotted)] = text;
    return *this;
  }
  // 1-based line of a key (or section header).
  int line(const std::string& dotted) const {
    const std::size_t i = find(dotted);
    EXPECT_NE(i, kNone) << dotted << " is not in the YAML text";
    return static_cast<int>(i) + 1;
  }
  // 1-based line where a section's mapping starts (its first key): where a missing key is reported.
  // Where a missing key of `section` is reported: the section's own key line (line 1 at top level).
  int section_start(const std::string& section) const { return section.empty() ? 1 : line(section); }
  std::string text() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  static std::string leaf(const std::string& dotted) { return dotted.substr(dotted.find('.') + 1); }
  static std::string indent(const std::string& dotted) {
    return dotted.find('.') == std::string::npos ? "" : "  ";
  }
  std::size_t find(const std::string& dotted) const {
    const auto dot = dotted.find('.');
    if (dot == std::string::npos) {
      for (std::size_t i = 0; i < lines_.size(); ++i) {
        if (lines_[i].rfind(dotted + ":", 0) == 0) return i;
      }
      return kNone;
    }
    const std::size_t header = find(dotted.substr(0, dot));
    if (header == kNone) return kNone;
    for (std::size_t i = header + 1; i < lines_.size() && lines_[i].rfind("  ", 0) == 0; ++i) {
      if (lines_[i].rfind("  " + leaf(dotted) + ":", 0) == 0) return i;
    }
    return kNone;
  }
  std::vector<std::string> lines_;
};

HwConfig parse(const Yaml& y, const std::vector<std::string>& overrides = {}) {
  return cimsim::parse_hw_config(y.text(), "hw.yaml", overrides);
}

// The InputError message of parsing `text`, or "" (and a failure) when it parses.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    cimsim::parse_hw_config(text, "hw.yaml", overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError, but this parsed:\n" << text;
  return "";
}

testing::AssertionResult has_all(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    if (message.find(p) == std::string::npos) {
      return testing::AssertionFailure() << "message lacks \"" << p << "\":\n  " << message;
    }
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult starts_with(const std::string& message, const std::string& prefix) {
  if (message.rfind(prefix, 0) == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "message does not start with \"" << prefix << "\":\n  " << message;
}

// Parsing must fail with "hw.yaml:<line>: <dotted>: " first, then every word of `words`.
void expect_error(const Yaml& y, int line, const std::string& dotted, const std::vector<std::string>& words) {
  const std::string message = error_of(y.text());
  EXPECT_TRUE(starts_with(message, "hw.yaml:" + std::to_string(line) + ": " + dotted + ": "));
  EXPECT_TRUE(has_all(message, words));
}

// The error is reported at the line of the offending key itself.
void expect_error_at(const Yaml& y, const std::string& dotted, const std::vector<std::string>& words) {
  expect_error(y, y.line(dotted), dotted, words);
}

std::string preset(const std::string& file) { return std::string(CIMSIM_SOURCE_DIR) + "/configs/hw/" + file; }

// ---- 1. presets ---------------------------------------------------------------------------------

TEST(HwConfigPreset, RramNeurosim128) {
  const HwConfig hw = cimsim::load_hw_config(preset("rram-neurosim-128.yaml"));
  EXPECT_EQ(hw.name, "rram-neurosim-128");
  EXPECT_EQ(hw.source, preset("rram-neurosim-128.yaml"));
  EXPECT_EQ(hw.macro.rows, 128);
  EXPECT_EQ(hw.macro.cols, 128);
  EXPECT_EQ(hw.macro.rows_per_cycle, 128);
  EXPECT_EQ(hw.macro.cols_per_adc, 8);
  EXPECT_EQ(hw.macro.weight_bits, 8);
  EXPECT_EQ(hw.macro.input_bits, 8);
  EXPECT_EQ(hw.macro.dac_bits, 1);
  EXPECT_EQ(hw.macro.cell_bits, 1);
  EXPECT_EQ(hw.macro.adc_bits, 5);
  EXPECT_EQ(hw.macro.adc_type, cimsim::AdcType::kSar);
  EXPECT_EQ(hw.macro.subtraction, cimsim::Subtraction::kAnalog);
  EXPECT_EQ(hw.macro.accumulator_bits, 0);
  EXPECT_EQ(hw.macro.slices(), 7);
  EXPECT_EQ(hw.macro.outputs_per_macro(), 9);  // 128 / 14
  EXPECT_EQ(hw.macro.adcs(), 16);
  EXPECT_DOUBLE_EQ(hw.timing.clock_mhz, 100.0);
  EXPECT_EQ(hw.timing.array_cycles, 1);
  EXPECT_EQ(hw.conversion_cycles(), 5);
  EXPECT_TRUE(hw.adc.interval.full);
  EXPECT_TRUE(hw.adc.layers.empty());
  EXPECT_TRUE(hw.adc.inl_lsb.empty());
  EXPECT_TRUE(hw.device.ideal());
  EXPECT_DOUBLE_EQ(hw.energy.adc_pj_per_comparison, 0.1);
  EXPECT_DOUBLE_EQ(hw.energy.leakage_mw_per_macro, 0.1);
}

TEST(HwConfigPreset, Sram28nmIsscc2020) {
  const HwConfig hw = cimsim::load_hw_config(preset("sram-28nm-isscc2020.yaml"));
  EXPECT_EQ(hw.name, "sram-28nm-isscc2020");
  EXPECT_EQ(hw.macro.rows, 256);
  EXPECT_EQ(hw.macro.cols, 256);
  EXPECT_EQ(hw.macro.rows_per_cycle, 16);
  EXPECT_EQ(hw.macro.cols_per_adc, 4);
  EXPECT_EQ(hw.macro.dac_bits, 4);
  EXPECT_EQ(hw.macro.cell_bits, 2);
  EXPECT_EQ(hw.macro.adc_bits, 5);
  EXPECT_EQ(hw.macro.adc_type, cimsim::AdcType::kFlash);
  EXPECT_EQ(hw.macro.accumulator_bits, 24);
  EXPECT_EQ(hw.macro.phases(), 2);
  EXPECT_EQ(hw.macro.slices(), 4);
  EXPECT_DOUBLE_EQ(hw.timing.clock_mhz, 200.0);
  EXPECT_EQ(hw.timing.array_cycles, 2);
  EXPECT_EQ(hw.conversion_cycles(), 1);
  // Keys the preset leaves out take their defaults.
  EXPECT_DOUBLE_EQ(hw.device.stuck_at_0, 0.0);
  EXPECT_DOUBLE_EQ(hw.device.drift_t, 1.0);
  EXPECT_DOUBLE_EQ(hw.device.drift_t0, 1.0);
  EXPECT_DOUBLE_EQ(hw.energy.dac_pj_per_row, 0.004);
}

TEST(HwConfigPreset, BaseTextOfTheseTestsIsValid) {
  const HwConfig hw = parse(Yaml());
  EXPECT_EQ(hw.name, "test-macro");
  EXPECT_EQ(hw.source, "hw.yaml");
  EXPECT_EQ(hw.macro.adc_bits, 6);
}

// ---- 2. unknown keys ----------------------------------------------------------------------------

TEST(HwConfigUnknownKey, TopLevel) {
  const Yaml y = Yaml().add("devise", "{}");
  expect_error_at(y, "devise", {"unknown key", "did you mean 'device'"});
}

TEST(HwConfigUnknownKey, Macro) {
  const Yaml y = Yaml().add("macro.adc_bit", "5");
  expect_error_at(y, "macro.adc_bit", {"unknown key", "did you mean 'adc_bits'", "known keys here:"});
}

TEST(HwConfigUnknownKey, MacroRowsPerCycle) {
  const Yaml y = Yaml().add("macro.rows_per_cyle", "16");
  expect_error_at(y, "macro.rows_per_cyle", {"unknown key", "did you mean 'rows_per_cycle'"});
}

TEST(HwConfigUnknownKey, MisspelledInsteadOfRequiredKey) {
  // The misspelling replaces the real key: reported as the misspelling, not as a missing key.
  const Yaml y = Yaml().replace_line("macro.rows_per_cycle", "  rows_per_cyle: 16");
  expect_error_at(y, "macro.rows_per_cyle", {"unknown key", "did you mean 'rows_per_cycle'"});
  const Yaml z = Yaml().replace_line("macro.adc_bits", "  adc_bit: 6");
  expect_error_at(z, "macro.adc_bit", {"unknown key", "did you mean 'adc_bits'"});
}

TEST(HwConfigUnknownKey, FarFromAnyKeyHasNoHint) {
  const Yaml y = Yaml().add("macro.voltage", "0.9");
  const std::string message = error_of(y.text());
  EXPECT_TRUE(has_all(message, {"macro.voltage: unknown key", "known keys here:"}));
  EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
}

TEST(HwConfigUnknownKey, Adc) {
  const Yaml y = Yaml().add("adc.ofset_lsb", "0.5");
  expect_error_at(y, "adc.ofset_lsb", {"unknown key", "did you mean 'offset_lsb'"});
}

TEST(HwConfigUnknownKey, Device) {
  const Yaml y = Yaml().add("device.programm_sigma", "0.1");
  expect_error_at(y, "device.programm_sigma", {"unknown key", "did you mean 'program_sigma'"});
}

TEST(HwConfigUnknownKey, Energy) {
  const Yaml y = Yaml().add("energy.dac_pj_per_rows", "0.01");
  expect_error_at(y, "energy.dac_pj_per_rows", {"unknown key", "did you mean 'dac_pj_per_row'"});
}

TEST(HwConfigUnknownKey, Timing) {
  const Yaml y = Yaml().add("timing.clock_mzh", "100");
  expect_error_at(y, "timing.clock_mzh", {"unknown key", "did you mean 'clock_mhz'"});
}

// ---- 3. missing required keys (reported where the mapping that lacks them starts) ---------------

TEST(HwConfigMissing, MacroCols) {
  const Yaml y = Yaml().erase("macro.cols");
  expect_error(y, y.section_start("macro"), "macro.cols",
               {"missing required key", "add 'cols:' under 'macro:'"});
}

TEST(HwConfigMissing, EnergySection) {
  const Yaml y = Yaml().erase("energy");
  expect_error(y, y.section_start(""), "energy", {"missing required key", "add 'energy:'"});
}

TEST(HwConfigMissing, EnergyKey) {
  const Yaml y = Yaml().erase("energy.leakage_mw_per_macro");
  expect_error(y, y.section_start("energy"), "energy.leakage_mw_per_macro", {"missing required key", "add"});
}

TEST(HwConfigMissing, OptionalSectionsMayBeLeftOut) {
  const HwConfig hw = parse(Yaml().erase("adc").erase("device"));
  EXPECT_TRUE(hw.adc.interval.full);
  EXPECT_FALSE(hw.adc.ideal);
  EXPECT_TRUE(hw.device.ideal());
}

TEST(HwConfigMissing, SectionThatIsNotAMapping) {
  const Yaml y = Yaml().erase("timing").add("timing", "fast");
  expect_error_at(y, "timing", {"expected a mapping", "indent"});
}

// ---- 4. out of range and wrong type -------------------------------------------------------------

TEST(HwConfigRange, AdcBitsZero) {
  expect_error_at(Yaml().set("macro.adc_bits", "0"), "macro.adc_bits", {"0 is out of range", "1..16"});
}

TEST(HwConfigRange, AdcBitsSeventeen) {
  expect_error_at(Yaml().set("macro.adc_bits", "17"), "macro.adc_bits", {"17 is out of range", "1..16"});
}

TEST(HwConfigRange, WeightBitsOne) {
  expect_error_at(Yaml().set("macro.weight_bits", "1"), "macro.weight_bits", {"out of range", "2..16"});
}

TEST(HwConfigRange, DacBitsAboveInputBits) {
  expect_error_at(Yaml().set("macro.dac_bits", "9"), "macro.dac_bits",
                  {"9 exceeds input_bits = 8", "dac_bits <= input_bits"});
}

TEST(HwConfigRange, CellBitsZero) {
  expect_error_at(Yaml().set("macro.cell_bits", "0"), "macro.cell_bits", {"out of range", "1..8"});
}

TEST(HwConfigRange, RowsPerCycleZero) {
  expect_error_at(Yaml().set("macro.rows_per_cycle", "0"), "macro.rows_per_cycle",
                  {"out of range", "1..65536"});
}

TEST(HwConfigRange, ClockNegative) {
  expect_error_at(Yaml().set("timing.clock_mhz", "-5"), "timing.clock_mhz",
                  {"-5 is out of range", "use a number"});
}

TEST(HwConfigRange, ArrayCyclesZero) {
  expect_error_at(Yaml().set("timing.array_cycles", "0"), "timing.array_cycles",
                  {"out of range", "use an integer"});
}

TEST(HwConfigRange, ProgramSigmaNegative) {
  expect_error_at(Yaml().set("device.program_sigma", "-0.1"), "device.program_sigma",
                  {"out of range", "0..1"});
}

TEST(HwConfigRange, StuckAt0AboveOne) {
  expect_error_at(Yaml().set("device.stuck_at_0", "1.5"), "device.stuck_at_0",
                  {"1.5 is out of range", "0..1"});
}

TEST(HwConfigType, AdcBitsNotAnInteger) {
  expect_error_at(Yaml().set("macro.adc_bits", "five"), "macro.adc_bits",
                  {"'five' is not an integer", "write an integer"});
}

TEST(HwConfigType, AdcBitsFractional) {
  expect_error_at(Yaml().set("macro.adc_bits", "5.5"), "macro.adc_bits",
                  {"not an integer", "write an integer"});
}

TEST(HwConfigType, ClockNan) {
  expect_error_at(Yaml().set("timing.clock_mhz", ".nan"), "timing.clock_mhz",
                  {"'.nan' is not a finite number", "write a number"});
}

TEST(HwConfigType, BooleanNotABoolean) {
  expect_error_at(Yaml().set("adc.ideal", "maybe"), "adc.ideal", {"not a boolean", "true or false"});
}

// ---- 5. inconsistent combinations ---------------------------------------------------------------

TEST(HwConfigConsistency, RowsNotMultipleOfRowsPerCycle) {
  expect_error_at(Yaml().set("macro.rows_per_cycle", "24"), "macro.rows_per_cycle",
                  {"does not divide rows = 64", "multiple"});
}

TEST(HwConfigConsistency, ColsNotMultipleOfColsPerAdc) {
  expect_error_at(Yaml().set("macro.cols_per_adc", "6"), "macro.cols_per_adc",
                  {"does not divide cols = 64", "multiple"});
}

TEST(HwConfigConsistency, OddColsPerAdcWithAnalogSubtraction) {
  expect_error_at(Yaml().set("macro.cols_per_adc", "1"), "macro.cols_per_adc",
                  {"is odd", "differential", "subtraction: digital"});
}

TEST(HwConfigConsistency, OddColsPerAdcWithDigitalSubtractionIsAccepted) {
  const HwConfig hw = parse(Yaml().set("macro.cols_per_adc", "1").set("macro.subtraction", "digital"));
  EXPECT_EQ(hw.macro.cols_per_adc, 1);
  EXPECT_EQ(hw.macro.subtraction, cimsim::Subtraction::kDigital);
  EXPECT_EQ(hw.macro.signals_per_adc(), 1);
}

TEST(HwConfigConsistency, ColsTooFewForOneOutput) {
  // 8-bit weights in 1-bit cells: 7 slices x 2 = 14 bit lines per output.
  const Yaml y = Yaml().set("macro.cell_bits", "1").set("macro.cols", "8");
  expect_error_at(y, "macro.cols", {"cannot hold one output", "14 are needed", "raise cols"});
  EXPECT_NO_THROW(parse(Yaml().set("macro.cell_bits", "1").set("macro.cols", "16")));
}

TEST(HwConfigConsistency, PartialSumBeyondFloat32) {
  // 4096 * (2^8 - 1) * (2^7 - 1) >= 2^24.
  const Yaml y = Yaml()
                     .set("macro.rows", "4096")
                     .set("macro.rows_per_cycle", "4096")
                     .set("macro.dac_bits", "8")
                     .set("macro.cell_bits", "7");
  expect_error_at(y, "macro.rows_per_cycle", {"2^24", "lower rows_per_cycle"});
}

TEST(HwConfigConsistency, InlOfWrongLength) {
  const Yaml y = Yaml().set("adc.inl_lsb", "[0.0, 0.1, 0.2]");
  expect_error_at(y, "adc.inl_lsb", {"has 3 entries", "64 codes", "one INL value"});
  EXPECT_EQ(
      parse(Yaml().set("macro.adc_bits", "2").set("adc.inl_lsb", "[0, 0.1, -0.1, 0]")).adc.inl_lsb.size(),
      4u);
}

TEST(HwConfigConsistency, StuckAtSumAboveOne) {
  const Yaml y = Yaml().set("device.stuck_at_0", "0.6").set("device.stuck_at_1", "0.6");
  expect_error_at(y, "device.stuck_at_1", {"exceeds 1", "lower"});
}

TEST(HwConfigConsistency, DriftTimeBeforeT0) {
  const Yaml y = Yaml().set("device.drift_t0", "10").set("device.drift_t", "5");
  expect_error_at(y, "device.drift_t", {"earlier than drift_t0", "drift_t >= drift_t0"});
}

TEST(HwConfigConsistency, DriftTimeDefaultsToT0) {
  const HwConfig hw = parse(Yaml().set("device.drift_t0", "10"));
  EXPECT_DOUBLE_EQ(hw.device.drift_t, 10.0);
}

// Interval bounds are reported by their own dotted key on the interval's line.
void expect_interval_error(const Yaml& y, const std::string& dotted, const std::vector<std::string>& words) {
  expect_error(y, y.line("adc.interval"), dotted, words);
}

TEST(HwConfigConsistency, IntervalLoNotBelowHi) {
  expect_interval_error(Yaml().set("adc.interval", "{lo: 4, hi: -4}"), "adc.interval.hi",
                        {"must be above lo", "swap"});
  expect_interval_error(Yaml().set("adc.interval", "{lo: 4, hi: 4}"), "adc.interval.hi",
                        {"must be above lo", "swap"});
}

TEST(HwConfigConsistency, IntervalUnknownKey) {
  expect_interval_error(Yaml().set("adc.interval", "{lo: -4, hi: 4, mid: 0}"), "adc.interval.mid",
                        {"unknown key", "known keys here: hi, lo"});
}

TEST(HwConfigConsistency, IntervalMissingBound) {
  expect_interval_error(Yaml().set("adc.interval", "{lo: -4}"), "adc.interval.hi",
                        {"missing required key", "add 'hi:'"});
}

TEST(HwConfigConsistency, LayerIntervalIsCheckedToo) {
  const Yaml y = Yaml().set("adc.layers", "{conv1: {lo: 1, hi: -1}}");
  expect_error(y, y.line("adc.layers"), "adc.layers.conv1.hi", {"must be above lo"});
}

TEST(HwConfigConsistency, AdcTypeUnknown) {
  expect_error_at(Yaml().set("macro.adc_type", "delta"), "macro.adc_type",
                  {"'delta' is not a known value", "sar or flash"});
}

// ---- 6. YAML syntax --------------------------------------------------------------------------------

TEST(HwConfigSyntax, UnclosedFlowMapping) {
  const Yaml y = Yaml().replace_line("macro.adc_bits", "  adc_bits: {6");
  const std::string message = error_of(y.text());
  EXPECT_TRUE(starts_with(message, "hw.yaml:" + std::to_string(y.line("macro.adc_bits")) + ":"));
  EXPECT_TRUE(has_all(message, {"YAML syntax error", "fix the syntax"}));
}

// Found by tests/fuzz (fuzz_hw_config): yaml-cpp 0.7's LoadAll looped forever on this.
TEST(HwConfigSyntax, StrayCommaIsAnErrorNotAHang) {
  EXPECT_TRUE(has_all(error_of("# a comment\n, 2\n"), {"hw.yaml:2:1", "YAML syntax error", "unexpected ','"}));
}

TEST(HwConfigSyntax, DocumentNotAMapping) {
  EXPECT_TRUE(has_all(error_of("- 1\n- 2\n"), {"hw.yaml", "must be a YAML mapping"}));
}

// ---- 7. --set overrides -------------------------------------------------------------------------

TEST(HwConfigOverride, ChangesTheValue) {
  EXPECT_EQ(parse(Yaml(), {"macro.adc_bits=7"}).macro.adc_bits, 7);
  EXPECT_EQ(parse(Yaml(), {"macro.adc_type=flash"}).macro.adc_type, cimsim::AdcType::kFlash);
  // An optional key absent from the file can be added.
  EXPECT_DOUBLE_EQ(parse(Yaml(), {"device.read_noise_sigma=0.5"}).device.read_noise_sigma, 0.5);
}

TEST(HwConfigOverride, LastOverrideWins) {
  EXPECT_EQ(parse(Yaml(), {"macro.adc_bits=7", "macro.adc_bits=4"}).macro.adc_bits, 4);
}

TEST(HwConfigOverride, BadValueNamesTheSet) {
  const std::string message = error_of(Yaml().text(), {"macro.adc_bits=0"});
  EXPECT_TRUE(starts_with(message, "--set macro.adc_bits=0: macro.adc_bits: "));
  EXPECT_TRUE(has_all(message, {"out of range", "1..16"}));
}

TEST(HwConfigOverride, UnknownKeyNamesTheSet) {
  const std::string message = error_of(Yaml().text(), {"macro.adc_bitz=7"});
  EXPECT_TRUE(starts_with(message, "--set macro.adc_bitz=7: macro.adc_bitz: "));
  EXPECT_TRUE(has_all(message, {"unknown key", "did you mean 'adc_bits'"}));
}

TEST(HwConfigOverride, IntervalMapping) {
  const HwConfig hw = parse(Yaml(), {"adc.interval={lo: -4, hi: 4}"});
  EXPECT_FALSE(hw.adc.interval.full);
  EXPECT_DOUBLE_EQ(hw.adc.interval.lo, -4.0);
  EXPECT_DOUBLE_EQ(hw.adc.interval.hi, 4.0);
  const std::string message = error_of(Yaml().text(), {"adc.interval={lo: 4, hi: -4}"});
  EXPECT_TRUE(starts_with(message, "--set adc.interval={lo: 4, hi: -4}: adc.interval.hi: "));
}

TEST(HwConfigOverride, FileErrorsKeepTheirLine) {
  // An override elsewhere does not hide where a bad file value is.
  const Yaml y = Yaml().set("macro.cell_bits", "0");
  const std::string message = error_of(y.text(), {"macro.adc_bits=7"});
  EXPECT_TRUE(
      starts_with(message, "hw.yaml:" + std::to_string(y.line("macro.cell_bits")) + ": macro.cell_bits: "));
}

TEST(HwConfigOverride, MissingEqualsSign) {
  const std::string message = error_of(Yaml().text(), {"macro.adc_bits"});
  EXPECT_TRUE(starts_with(message, "--set macro.adc_bits: "));
  EXPECT_TRUE(has_all(message, {"expected key=value", "macro.adc_bits=6"}));
}

TEST(HwConfigOverride, EmptyKeyPart) {
  EXPECT_TRUE(
      has_all(error_of(Yaml().text(), {"macro..adc_bits=7"}), {"--set macro..adc_bits=7", "empty key"}));
}

TEST(HwConfigOverride, TrailingDotIsAnEmptyKey) {
  // Expected: "macro.=5" has an empty last key, like "macro..adc_bits=7".
  // (A path split that dropped the trailing empty key replaced the whole macro section and
  // blamed hw.yaml:1.)
  const std::string message = error_of(Yaml().text(), {"macro.=5"});
  EXPECT_TRUE(starts_with(message, "--set macro.=5: ")) << message;
  EXPECT_TRUE(has_all(message, {"empty key"}));
}

TEST(HwConfigOverride, IntoAScalar) {
  EXPECT_TRUE(has_all(error_of(Yaml().text(), {"name.x=1"}), {"--set name.x=1", "'name' holds a value"}));
}

TEST(HwConfigOverride, ValueNotValidYaml) {
  EXPECT_TRUE(has_all(error_of(Yaml().text(), {"adc.interval={lo: -4"}),
                      {"--set adc.interval={lo: -4", "not valid YAML"}));
}

// ---- 8. derived values --------------------------------------------------------------------------

TEST(HwConfigDerived, FullIntervalAnalog) {
  const HwConfig hw = parse(Yaml());
  // A * (2^db - 1) * (2^cb - 1) = 16 * 3 * 3.
  const cimsim::AdcInterval iv = hw.full_interval();
  EXPECT_TRUE(iv.full);
  EXPECT_DOUBLE_EQ(iv.lo, -144.0);
  EXPECT_DOUBLE_EQ(iv.hi, 144.0);
}

TEST(HwConfigDerived, FullIntervalDigital) {
  const HwConfig hw = parse(Yaml().set("macro.subtraction", "digital").set("macro.dac_bits", "1"));
  const cimsim::AdcInterval iv = hw.full_interval();
  EXPECT_DOUBLE_EQ(iv.lo, 0.0);
  EXPECT_DOUBLE_EQ(iv.hi, 16.0 * 1 * 3);
}

TEST(HwConfigDerived, IntervalForLayer) {
  const HwConfig hw = parse(Yaml()
                                .set("adc.interval", "{lo: -10, hi: 10}")
                                .set("adc.layers", "{conv1: {lo: -2, hi: 3}, fc: full}"));
  const cimsim::AdcInterval conv1 = hw.interval_for("conv1");
  EXPECT_FALSE(conv1.full);
  EXPECT_DOUBLE_EQ(conv1.lo, -2.0);
  EXPECT_DOUBLE_EQ(conv1.hi, 3.0);
  const cimsim::AdcInterval fc = hw.interval_for("fc");  // "full" resolved to the converter range
  EXPECT_TRUE(fc.full);
  EXPECT_DOUBLE_EQ(fc.lo, -144.0);
  EXPECT_DOUBLE_EQ(fc.hi, 144.0);
  const cimsim::AdcInterval other = hw.interval_for("conv2");  // no entry: the default
  EXPECT_FALSE(other.full);
  EXPECT_DOUBLE_EQ(other.lo, -10.0);
  EXPECT_DOUBLE_EQ(other.hi, 10.0);
  EXPECT_DOUBLE_EQ(parse(Yaml()).interval_for("conv1").hi, 144.0);  // default "full"
}

TEST(HwConfigDerived, ToJson) {
  const nlohmann::json j = parse(Yaml().set("adc.layers", "{conv1: {lo: -2, hi: 3}}")).to_json();
  EXPECT_EQ(j["name"], "test-macro");
  EXPECT_EQ(j["macro"]["adc_bits"], 6);
  EXPECT_EQ(j["macro"]["adc_type"], "sar");
  EXPECT_EQ(j["macro"]["subtraction"], "analog");
  EXPECT_EQ(j["macro"]["accumulator_bits"], "none");
  EXPECT_EQ(j["adc"]["interval"], "full");
  EXPECT_EQ(j["adc"]["layers"]["conv1"]["lo"], -2.0);
  EXPECT_EQ(j["timing"]["clock_mhz"], 100.0);
  EXPECT_EQ(j["energy"]["adc_pj_per_comparison"], 0.1);
  EXPECT_EQ(parse(Yaml().set("macro.accumulator_bits", "20")).to_json()["macro"]["accumulator_bits"], 20);
}

TEST(HwConfigDerived, AccumulatorBitsAbsentMeansNone) {
  // Expected: an absent macro.accumulator_bits means "none" (0, unbounded), as "none" does.
  // (An absent key read as a defined null node made the loader demand it.)
  const HwConfig hw = parse(Yaml().erase("macro.accumulator_bits"));
  EXPECT_EQ(hw.macro.accumulator_bits, 0);
  EXPECT_EQ(hw.to_json()["macro"]["accumulator_bits"], "none");
}

// ---- 9. files -----------------------------------------------------------------------------------

TEST(HwConfigFile, MissingPath) {
  const std::string path = std::string(CIMSIM_SOURCE_DIR) + "/configs/hw/no-such-chip.yaml";
  try {
    cimsim::load_hw_config(path);
    FAIL() << "loaded a missing file";
  } catch (const InputError& e) {
    EXPECT_TRUE(has_all(e.what(), {path, "cannot open", "check the path"}));
  }
}

}  // namespace

namespace cimsim {
namespace {

// ---- energy models, data-dependent energy, power gating (issue 15) ------------------------------

TEST(HwConfigEnergy, DefaultsKeepTodaysModel) {
  const HwConfig hw = parse(Yaml());
  EXPECT_EQ(hw.energy.adc_model, AdcEnergyModel::kPerComparison);
  EXPECT_FALSE(hw.energy.data_dependent);
  EXPECT_FALSE(hw.chip.power_gating);
  EXPECT_EQ(hw.digital.leakage_mw, 0.0);
  EXPECT_DOUBLE_EQ(adc_pj_per_conversion(hw), 6 * 0.1);  // SAR: adc_bits comparisons
}

TEST(HwConfigEnergy, EachAdcModelGivesItsConversionEnergy) {
  HwConfig hw = parse(Yaml().set("energy.adc_model", "walden").set("energy.adc_fj_per_step", "2.5"));
  EXPECT_DOUBLE_EQ(adc_pj_per_conversion(hw), 2.5e-3 * 64);  // FoM x 2^6
  hw = parse(Yaml().set("macro.adc_type", "flash"));
  EXPECT_DOUBLE_EQ(adc_pj_per_conversion(hw), 63 * 0.1);  // flash: 2^6 - 1 comparisons
  hw = parse(Yaml().set("energy.adc_model", "table").set("energy.adc_pj_table", "{5: 0.25, 6: 0.75}"));
  EXPECT_DOUBLE_EQ(adc_pj_per_conversion(hw), 0.75);
  // The resolved JSON reads back to the same config.
  const HwConfig back = cimsim::parse_hw_config(hw.to_json().dump(1), "json");
  EXPECT_EQ(back.to_json(), hw.to_json());
  EXPECT_EQ(hw.to_json()["energy"]["adc_pj_table"]["6"], 0.75);
}

TEST(HwConfigEnergy, AModelWithoutItsParameterIsAnError) {
  const Yaml a = Yaml().erase("energy.adc_pj_per_comparison");
  expect_error(a, a.section_start("energy"), "energy.adc_pj_per_comparison",
               {"missing: adc_model per_comparison needs it", "add adc_pj_per_comparison: PJ"});
  const Yaml w = Yaml().set("energy.adc_model", "walden");
  expect_error(w, w.section_start("energy"), "energy.adc_fj_per_step",
               {"missing or 0: adc_model walden needs it", "add adc_fj_per_step: FJ"});
  const Yaml t = Yaml().set("energy.adc_model", "table").set("energy.adc_pj_table", "{5: 0.25}");
  expect_error_at(t, "energy.adc_pj_table",
                  {"no entry for adc_bits = 6: adc_model table needs it", "add '6: PJ (one conversion)'"});
  // The per-comparison energy is not needed by the other models.
  EXPECT_NO_THROW(parse(Yaml()
                            .erase("energy.adc_pj_per_comparison")
                            .set("energy.adc_model", "walden")
                            .set("energy.adc_fj_per_step", "3")));
}

TEST(HwConfigEnergy, BadValuesAreErrorsAtTheirLine) {
  expect_error_at(Yaml().set("energy.adc_model", "murmann"), "energy.adc_model",
                  {"'murmann' is not a known value", "use per_comparison or walden or table"});
  const Yaml t = Yaml().set("energy.adc_model", "table").set("energy.adc_pj_table", "{6: 0.5, 17: 1}");
  EXPECT_TRUE(has_all(error_of(t.text()), {"energy.adc_pj_table.17: is not an ADC resolution", "1..16"}));
  const Yaml n = Yaml().set("energy.adc_model", "table").set("energy.adc_pj_table", "{6: -1}");
  EXPECT_TRUE(has_all(error_of(n.text()), {"energy.adc_pj_table.6: -1 is out of range"}));
  expect_error_at(Yaml().set("energy.data_dependent", "maybe"), "energy.data_dependent",
                  {"is not a boolean"});
  expect_error_at(Yaml().add("chip", "").add("chip.power_gatting", "true"), "chip.power_gatting",
                  {"unknown key", "did you mean 'power_gating'"});
  expect_error_at(Yaml().add("digital", "").add("digital.leakage_mw", "-2"), "digital.leakage_mw",
                  {"-2 is out of range"});
}

TEST(HwConfigBuffer, DefaultsAndBadValues) {
  const HwConfig hw = parse(Yaml());
  EXPECT_EQ(hw.buffer.bytes_per_cycle, 0);  // unlimited
  EXPECT_EQ(hw.buffer.pj_per_byte, 0.0);
  const HwConfig set = parse(Yaml().add("buffer", "").add("buffer.bytes_per_cycle", "16").add("buffer.pj_per_byte", "0.4"));
  EXPECT_EQ(set.buffer.bytes_per_cycle, 16);
  EXPECT_EQ(set.buffer.pj_per_byte, 0.4);
  EXPECT_EQ(cimsim::parse_hw_config(set.to_json().dump(1), "json").to_json(), set.to_json());
  EXPECT_EQ(parse(Yaml().add("buffer", "").add("buffer.bytes_per_cycle", "unlimited")).buffer.bytes_per_cycle, 0);
  expect_error_at(Yaml().add("buffer", "").add("buffer.bytes_per_cycel", "8"), "buffer.bytes_per_cycel",
                  {"unknown key", "did you mean 'bytes_per_cycle'"});
  expect_error_at(Yaml().add("buffer", "").add("buffer.bytes_per_cycle", "0"), "buffer.bytes_per_cycle",
                  {"0 is out of range"});
  expect_error_at(Yaml().add("buffer", "").add("buffer.pj_per_byte", "-1"), "buffer.pj_per_byte",
                  {"-1 is out of range"});
}

}  // namespace
}  // namespace cimsim
