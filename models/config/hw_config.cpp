#include "config/hw_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"

namespace cimsim {
namespace {

// Applies "a.b.c=value" to the tree, creating mappings on the way; records the origin.
void apply_override(YAML::Node& root, const std::string& text, ConfigSource& source) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set " + text + ": expected key=value with a dotted key, e.g. macro.adc_bits=6");
  }
  const std::string path = text.substr(0, eq);
  const std::string value_text = text.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception& e) {
    throw InputError("--set " + text + ": the value is not valid YAML (" + e.msg + ")");
  }
  if (value_text.empty()) throw InputError("--set " + text + ": empty value; write key=value");
  std::vector<std::string> keys;
  for (std::size_t begin = 0;;) {
    const std::size_t dot = path.find('.', begin);
    keys.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (keys.back().empty()) throw InputError("--set " + text + ": empty key in '" + path + "'");
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  YAML::Node cur;
  cur.reset(root);
  std::string walked;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + keys[i];
    if (!cur[keys[i]]) cur[keys[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = cur[keys[i]];
    if (!next.IsMap()) {
      throw InputError("--set " + text + ": '" + walked + "' holds a value, not a mapping; set '" + walked +
                       "' itself");
    }
    cur.reset(next);
  }
  cur[keys.back()] = value;
  source.overrides[path] = "--set " + text;
}

void read_macro(YamlSection& s, MacroConfig& m) {
  s.declare({"rows", "cols", "rows_per_cycle", "cols_per_adc", "weight_bits", "input_bits", "dac_bits",
             "cell_bits", "adc_bits", "adc_type", "subtraction", "accumulator_bits"});
  m.rows = s.integer("rows", 1, 1 << 16);
  m.cols = s.integer("cols", 2, 1 << 16);
  m.rows_per_cycle = s.integer("rows_per_cycle", 1, 1 << 16);
  if (m.rows_per_cycle > m.rows) {
    s.fail("rows_per_cycle", std::to_string(m.rows_per_cycle) + " exceeds rows = " + std::to_string(m.rows),
           "use rows_per_cycle <= rows");
  }
  m.cols_per_adc = s.integer("cols_per_adc", 1, 1 << 16);
  m.weight_bits = s.integer("weight_bits", 2, 16);
  m.input_bits = s.integer("input_bits", 1, 16);
  m.dac_bits = s.integer("dac_bits", 1, 16);
  if (m.dac_bits > m.input_bits) {
    s.fail("dac_bits", std::to_string(m.dac_bits) + " exceeds input_bits = " + std::to_string(m.input_bits),
           "use dac_bits <= input_bits");
  }
  m.cell_bits = s.integer("cell_bits", 1, 8);
  if (m.cell_bits > m.weight_bits - 1) {
    s.fail("cell_bits",
           std::to_string(m.cell_bits) +
               " exceeds the weight magnitude width weight_bits - 1 = " + std::to_string(m.weight_bits - 1),
           "use cell_bits <= weight_bits - 1");
  }
  m.adc_bits = s.integer("adc_bits", 1, 16);
  m.adc_type = s.choice("adc_type", {"sar", "flash"}) == "sar" ? AdcType::kSar : AdcType::kFlash;
  m.subtraction = s.choice("subtraction", {"analog", "digital"}) == "analog" ? Subtraction::kAnalog
                                                                             : Subtraction::kDigital;
  m.accumulator_bits = s.integer_or_word("accumulator_bits", "none", 2, 53);
  if (m.rows % m.rows_per_cycle != 0) {
    s.fail("rows_per_cycle",
           std::to_string(m.rows_per_cycle) + " does not divide rows = " + std::to_string(m.rows),
           "choose rows_per_cycle so that rows is a multiple of it");
  }
  if (m.cols % m.cols_per_adc != 0) {
    s.fail("cols_per_adc",
           std::to_string(m.cols_per_adc) + " does not divide cols = " + std::to_string(m.cols),
           "choose cols_per_adc so that cols is a multiple of it");
  }
  if (m.subtraction == Subtraction::kAnalog && m.cols_per_adc % 2 != 0) {
    s.fail("cols_per_adc",
           std::to_string(m.cols_per_adc) +
               " is odd, but with analog subtraction an ADC input is a differential "
               "pair of two bit lines",
           "use an even cols_per_adc or subtraction: digital");
  }
  if (m.cols < m.bitlines_per_output()) {
    s.fail("cols",
           std::to_string(m.cols) + " bit lines cannot hold one output: " + std::to_string(m.slices()) +
               " weight slices x 2 (differential pair) = " + std::to_string(m.bitlines_per_output()) +
               " are needed",
           "raise cols or cell_bits, or lower weight_bits");
  }
  if (m.max_partial_sum() >= 16777216.0) {
    s.fail("rows_per_cycle",
           "rows_per_cycle * (2^dac_bits - 1) * (2^cell_bits - 1) reaches 2^24, beyond exact float32",
           "lower rows_per_cycle, dac_bits or cell_bits");
  }
}

void read_timing(YamlSection& s, TimingConfig& t) {
  s.declare({"clock_mhz", "array_cycles", "shift_add_cycles"});
  t.clock_mhz = s.real("clock_mhz", 1.0, 1e5);
  t.array_cycles = s.integer("array_cycles", 1, 1 << 20);
  t.shift_add_cycles = s.integer("shift_add_cycles", 0, 1 << 20);
}

void read_adc(YamlSection& s, AdcConfig& a, const MacroConfig& m) {
  a.ideal = s.boolean_or("ideal", false);
  if (s.has("interval"))
    a.interval = read_adc_interval(s, "interval");
  else
    s.raw("interval");
  if (s.has("layers")) {
    YamlSection layers = s.child("layers");
    for (const auto& kv : layers.node()) {
      const std::string name = kv.first.Scalar();
      a.layers[name] = read_adc_interval(layers, name);
    }
  } else {
    s.raw("layers");
  }
  a.offset_lsb = s.real_or("offset_lsb", -1e6, 1e6, 0.0);
  a.gain_error = s.real_or("gain_error", -0.99, 10.0, 0.0);
  a.thermal_sigma_lsb = s.real_or("thermal_sigma_lsb", 0.0, 1e6, 0.0);
  a.inl_lsb = s.real_list_or("inl_lsb");
  for (double v : a.inl_lsb) {
    if (std::fabs(v) > 1000.0)
      s.fail("inl_lsb", "an entry exceeds 1000 LSB in magnitude", "give INL in LSB, |INL| <= 1000");
  }
  const std::size_t codes = std::size_t{1} << m.adc_bits;
  if (!a.inl_lsb.empty() && a.inl_lsb.size() != codes) {
    s.fail("inl_lsb",
           "has " + std::to_string(a.inl_lsb.size()) + " entries but adc_bits = " +
               std::to_string(m.adc_bits) + " gives " + std::to_string(codes) + " codes",
           "give one INL value (in LSB) per code, or [] for none");
  }
}

void read_device(YamlSection& s, DeviceConfig& d) {
  d.program_sigma = s.real_or("program_sigma", 0.0, 10.0, 0.0);
  d.program_lognormal_sigma = s.real_or("program_lognormal_sigma", 0.0, 10.0, 0.0);
  d.stuck_at_0 = s.real_or("stuck_at_0", 0.0, 1.0, 0.0);
  d.stuck_at_1 = s.real_or("stuck_at_1", 0.0, 1.0, 0.0);
  if (d.stuck_at_0 + d.stuck_at_1 > 1.0) {
    s.fail("stuck_at_1", "stuck_at_0 + stuck_at_1 exceeds 1", "lower the fault probabilities");
  }
  d.drift_nu = s.real_or("drift_nu", 0.0, 10.0, 0.0);
  d.drift_t0 = s.real_or("drift_t0", 1e-12, 1e12, 1.0);
  d.drift_t = s.real_or("drift_t", 1e-12, 1e12, d.drift_t0);
  if (d.drift_t < d.drift_t0) {
    std::ostringstream problem;
    problem << d.drift_t << " s is earlier than drift_t0 = " << d.drift_t0 << " s";
    s.fail("drift_t", problem.str(), "set drift_t >= drift_t0 (seconds since programming)");
  }
  d.read_noise_sigma = s.real_or("read_noise_sigma", 0.0, 1e6, 0.0);
}

void read_energy(YamlSection& s, EnergyConfig& e) {
  s.declare({"dac_pj_per_row", "array_pj_per_cell", "adc_pj_per_comparison", "shift_add_pj_per_op",
             "leakage_mw_per_macro"});
  e.dac_pj_per_row = s.real("dac_pj_per_row", 0.0, 1e9);
  e.array_pj_per_cell = s.real("array_pj_per_cell", 0.0, 1e9);
  e.adc_pj_per_comparison = s.real("adc_pj_per_comparison", 0.0, 1e9);
  e.shift_add_pj_per_op = s.real("shift_add_pj_per_op", 0.0, 1e9);
  e.leakage_mw_per_macro = s.real("leakage_mw_per_macro", 0.0, 1e9);
}

void read_chip(YamlSection& s, ChipConfig& c) {
  c.macros = s.integer_or_word("macros", "unlimited", 1, 1 << 24);
}

void read_digital(YamlSection& s, DigitalConfig& d) {
  d.ops_per_cycle = s.integer_or("ops_per_cycle", 1, 1 << 20, 64);
  d.pj_per_op = s.real_or("pj_per_op", 0.0, 1e9, 0.0);
}

HwConfig parse_tree(YAML::Node root, std::shared_ptr<ConfigSource> source,
                    const std::vector<std::string>& overrides) {
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw InputError(source->file + ": the hardware config must be a YAML mapping (key: value)");
  for (const auto& o : overrides) apply_override(root, o, *source);
  HwConfig hw;
  hw.source = source->file;
  YamlSection top(root, "", source);
  top.declare({"name", "macro", "timing", "adc", "device", "energy", "digital", "chip"});
  hw.name = top.text("name");
  // Child sections are finished after reading so unknown keys are reported where they are.
  {
    YamlSection macro = top.child("macro");
    read_macro(macro, hw.macro);
    macro.finish();
    YamlSection timing = top.child("timing");
    read_timing(timing, hw.timing);
    timing.finish();
    YamlSection adc = top.child("adc", true);
    read_adc(adc, hw.adc, hw.macro);
    adc.finish();
    YamlSection device = top.child("device", true);
    read_device(device, hw.device);
    device.finish();
    YamlSection energy = top.child("energy");
    read_energy(energy, hw.energy);
    energy.finish();
    YamlSection digital = top.child("digital", true);
    read_digital(digital, hw.digital);
    digital.finish();
    YamlSection chip = top.child("chip", true);
    read_chip(chip, hw.chip);
    chip.finish();
  }
  top.finish();
  return hw;
}

}  // namespace

AdcInterval read_adc_interval(YamlSection& section, const std::string& key) {
  AdcInterval iv;
  const YAML::Node n = section.raw(key);
  if (n.IsScalar() && n.Scalar() == "full") return iv;
  if (!n.IsMap())
    section.fail(key, "expected 'full' or a mapping {lo: L, hi: H}", "write full or {lo: -8, hi: 8}");
  YamlSection bounds = section.child(key);  // rejects duplicate and unknown keys
  bounds.declare({"lo", "hi"});
  iv.full = false;
  iv.lo = bounds.real("lo", -1e15, 1e15);
  iv.hi = bounds.real("hi", -1e15, 1e15);
  if (!(iv.lo < iv.hi)) bounds.fail("hi", "must be above lo", "swap or widen the bounds (MAC units)");
  bounds.finish();
  return iv;
}

HwConfig parse_hw_config(const std::string& yaml_text, const std::string& source_name,
                         const std::vector<std::string>& overrides) {
  auto source = std::make_shared<ConfigSource>();
  source->file = source_name;
  return parse_tree(load_yaml_text(yaml_text, source_name), source, overrides);
}

HwConfig load_hw_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_hw_config(
      read_text_file(path, "cannot open the hardware config; check the path (presets are in configs/hw/)"),
      path, overrides);
}

AdcInterval HwConfig::full_interval() const {
  AdcInterval iv;
  iv.full = true;
  iv.hi = macro.max_partial_sum();
  iv.lo = macro.subtraction == Subtraction::kAnalog ? -iv.hi : 0.0;
  return iv;
}

AdcInterval HwConfig::interval_for(const std::string& layer) const {
  auto it = adc.layers.find(layer);
  const AdcInterval& chosen = it != adc.layers.end() ? it->second : adc.interval;
  return chosen.full ? full_interval() : chosen;
}

nlohmann::json HwConfig::to_json() const {
  using nlohmann::json;
  auto interval_json = [](const AdcInterval& iv) -> json {
    if (iv.full) return "full";
    return json{{"lo", iv.lo}, {"hi", iv.hi}};
  };
  json layers = json::object();
  for (const auto& [layer, iv] : adc.layers) layers[layer] = interval_json(iv);
  json acc = macro.accumulator_bits == 0 ? json("none") : json(macro.accumulator_bits);
  return json{
      {"name", name},
      {"macro",
       {{"rows", macro.rows},
        {"cols", macro.cols},
        {"rows_per_cycle", macro.rows_per_cycle},
        {"cols_per_adc", macro.cols_per_adc},
        {"weight_bits", macro.weight_bits},
        {"input_bits", macro.input_bits},
        {"dac_bits", macro.dac_bits},
        {"cell_bits", macro.cell_bits},
        {"adc_bits", macro.adc_bits},
        {"adc_type", macro.adc_type == AdcType::kSar ? "sar" : "flash"},
        {"subtraction", macro.subtraction == Subtraction::kAnalog ? "analog" : "digital"},
        {"accumulator_bits", acc}}},
      {"timing",
       {{"clock_mhz", timing.clock_mhz},
        {"array_cycles", timing.array_cycles},
        {"shift_add_cycles", timing.shift_add_cycles}}},
      {"adc",
       {{"ideal", adc.ideal},
        {"interval", interval_json(adc.interval)},
        {"layers", layers},
        {"offset_lsb", adc.offset_lsb},
        {"gain_error", adc.gain_error},
        {"thermal_sigma_lsb", adc.thermal_sigma_lsb},
        {"inl_lsb", adc.inl_lsb}}},
      {"device",
       {{"program_sigma", device.program_sigma},
        {"program_lognormal_sigma", device.program_lognormal_sigma},
        {"stuck_at_0", device.stuck_at_0},
        {"stuck_at_1", device.stuck_at_1},
        {"drift_nu", device.drift_nu},
        {"drift_t", device.drift_t},
        {"drift_t0", device.drift_t0},
        {"read_noise_sigma", device.read_noise_sigma}}},
      {"energy",
       {{"dac_pj_per_row", energy.dac_pj_per_row},
        {"array_pj_per_cell", energy.array_pj_per_cell},
        {"adc_pj_per_comparison", energy.adc_pj_per_comparison},
        {"shift_add_pj_per_op", energy.shift_add_pj_per_op},
        {"leakage_mw_per_macro", energy.leakage_mw_per_macro}}},
      {"digital", {{"ops_per_cycle", digital.ops_per_cycle}, {"pj_per_op", digital.pj_per_op}}},
      {"chip", {{"macros", chip.macros == 0 ? nlohmann::json("unlimited") : nlohmann::json(chip.macros)}}},
  };
}

}  // namespace cimsim
