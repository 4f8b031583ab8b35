// The keys of the hardware config, listed once per section (visit_* below, in the order they are
// read), each with its kind (Int, Real, ... with range and default). Each list drives three
// visitors: reading from YAML (YamlReader), writing the resolved JSON (JsonWriter) and naming
// every key (KeyLister, for YamlSection::declare and the docs check). Checks that relate keys run
// after a section is read.
#include "config/hw_config_fields.h"

#include <cmath>
#include <optional>
#include <sstream>
#include <utility>

#include "config/config_fields.h"
#include "config/yaml_section.h"

namespace cimsim {
namespace {

using namespace config_fields;

const Names<AdcType> kAdcTypes{{"sar", AdcType::kSar}, {"flash", AdcType::kFlash}};
const Names<Subtraction> kSubtractions{{"analog", Subtraction::kAnalog}, {"digital", Subtraction::kDigital}};
const Names<AdcAreaModel> kAdcAreaModels{
    {"fixed", AdcAreaModel::kFixed}, {"scaling", AdcAreaModel::kScaling}, {"table", AdcAreaModel::kTable}};
const Names<Dataflow> kDataflows{{"layer_by_layer", Dataflow::kLayerByLayer},
                                 {"pipelined", Dataflow::kPipelined}};
const Names<AdcEnergyModel> kAdcEnergyModels{{"per_comparison", AdcEnergyModel::kPerComparison},
                                             {"walden", AdcEnergyModel::kWalden},
                                             {"table", AdcEnergyModel::kTable}};

// ---- the field lists ------------------------------------------------------------------------

template <class V>
void visit_macro(V& v, MacroConfig& m) {
  v("rows", m.rows, Int{1, 1 << 16});
  v("cols", m.cols, Int{2, 1 << 16});
  v("rows_per_cycle", m.rows_per_cycle, Int{1, 1 << 16});
  v("cols_per_adc", m.cols_per_adc, Int{1, 1 << 16});
  v("weight_bits", m.weight_bits, Int{2, 16});
  v("input_bits", m.input_bits, Int{1, 16});
  v("dac_bits", m.dac_bits, Int{1, 16});
  v("cell_bits", m.cell_bits, Int{1, 8});
  v("adc_bits", m.adc_bits, Int{1, 16});
  v("adc_type", m.adc_type, kAdcTypes);
  v("subtraction", m.subtraction, kSubtractions);
  v("accumulator_bits", m.accumulator_bits, IntOrWord{"none", 2, 53});
}

template <class V>
void visit_timing(V& v, TimingConfig& t) {
  v("clock_mhz", t.clock_mhz, Real{1.0, 1e5});
  v("array_cycles", t.array_cycles, Int{1, 1 << 20});
  v("shift_add_cycles", t.shift_add_cycles, Int{0, 1 << 20});
}

template <class V>
void visit_adc(V& v, AdcConfig& a) {
  v("ideal", a.ideal, Bool{false});
  v("interval", a.interval, Interval{});
  v("layers", a.layers, Intervals{});
  v("offset_lsb", a.offset_lsb, Real{-1e6, 1e6, 0.0});
  v("gain_error", a.gain_error, Real{-0.99, 10.0, 0.0});
  v("thermal_sigma_lsb", a.thermal_sigma_lsb, Real{0.0, 1e6, 0.0});
  v("inl_lsb", a.inl_lsb, Reals{});
}

template <class V>
void visit_device(V& v, DeviceConfig& d) {
  // Upper bounds beyond any physical device (100% of g_max; a factor e^2 in G; t^-1), so that a
  // value written in percent is refused rather than simulated.
  v("program_sigma", d.program_sigma, Real{0.0, 1.0, 0.0});
  v("program_lognormal_sigma", d.program_lognormal_sigma, Real{0.0, 2.0, 0.0});
  v("stuck_at_0", d.stuck_at_0, Real{0.0, 1.0, 0.0});
  v("stuck_at_1", d.stuck_at_1, Real{0.0, 1.0, 0.0});
  v("drift_nu", d.drift_nu, Real{0.0, 1.0, 0.0});
  v("drift_t0", d.drift_t0, Real{1e-12, 1e12, 1.0});
  v("drift_t", d.drift_t, Real{1e-12, 1e12, d.drift_t0});  // defaults to drift_t0, read just above
  v("read_noise_sigma", d.read_noise_sigma, Real{0.0, 1e6, 0.0});
  // 0.1: a tenth of a cell's resistance per row, far beyond any array (1e-6..1e-3 is typical).
  v("wire_resistance", d.wire_resistance, Real{0.0, 0.1, 0.0});
  v("read_noise_current_sigma", d.read_noise_current_sigma, Real{0.0, 1e3, 0.0});
}

template <class V>
void visit_energy(V& v, EnergyConfig& e) {
  v("dac_pj_per_row", e.dac_pj_per_row, Real{0.0, 1e9});
  v("array_pj_per_cell", e.array_pj_per_cell, Real{0.0, 1e9});
  v("adc_model", e.adc_model, ChoiceOr<AdcEnergyModel>{kAdcEnergyModels, AdcEnergyModel::kPerComparison});
  v("adc_pj_per_comparison", e.adc_pj_per_comparison, Real{0.0, 1e9, 0.0});  // needed by per_comparison
  v("adc_fj_per_step", e.adc_fj_per_step, Real{0.0, 1e6, 0.0});              // needed by walden
  v("adc_pj_table", e.adc_pj_table, BitsTable{});                            // needed by table
  v("shift_add_pj_per_op", e.shift_add_pj_per_op, Real{0.0, 1e9});
  v("leakage_mw_per_macro", e.leakage_mw_per_macro, Real{0.0, 1e9});
  v("data_dependent", e.data_dependent, Bool{false});
}

template <class V>
void visit_digital(V& v, DigitalConfig& d) {
  v("ops_per_cycle", d.ops_per_cycle, Int{1, 1 << 20, 64});
  v("pj_per_op", d.pj_per_op, Real{0.0, 1e9, 0.0});
  v("leakage_mw", d.leakage_mw, Real{0.0, 1e9, 0.0});
}

template <class V>
void visit_area(V& v, AreaConfig& a) {
  v("technology_nm", a.technology_nm, Real{1.0, 1000.0});
  v("cell_f2", a.cell_f2, Real{1.0, 1e4});
  v("dac_um2_per_row", a.dac_um2_per_row, Real{0.0, 1e9});
  v("mux_um2_per_column", a.mux_um2_per_column, Real{0.0, 1e9});
  v("sample_hold_um2", a.sample_hold_um2, Real{0.0, 1e9});
  v("adc_model", a.adc_model, ChoiceOr<AdcAreaModel>{kAdcAreaModels, AdcAreaModel::kFixed});
  v("adc_um2", a.adc_um2, Real{0.0, 1e9, 0.0});                    // needed by fixed
  v("adc_um2_per_step", a.adc_um2_per_step, Real{0.0, 1e9, 0.0});  // needed by scaling
  v("adc_um2_table", a.adc_um2_table, BitsTable{});                // needed by table
  v("shift_add_um2", a.shift_add_um2, Real{0.0, 1e9});
  v("digital_um2", a.digital_um2, Real{0.0, 1e12});
  v("buffer_um2_per_byte", a.buffer_um2_per_byte, Real{0.0, 1e9, 0.0});
}

template <class V>
void visit_chip(V& v, ChipConfig& c) {
  v("macros", c.macros, IntOrWord{"unlimited", 1, 1 << 24});
  v("power_gating", c.power_gating, Bool{false});
  v("dataflow", c.dataflow, ChoiceOr<Dataflow>{kDataflows, Dataflow::kLayerByLayer});
  v("duplicate", c.duplicate, Copies{&c.duplicate_auto});
}

template <class V>
void visit_buffer(V& v, BufferConfig& b) {
  v("bytes_per_cycle", b.bytes_per_cycle, IntOrWord{"unlimited", 1, 1 << 24});
  v("pj_per_byte", b.pj_per_byte, Real{0.0, 1e9, 0.0});
}

// ---- checks across keys, run once their section is read -----------------------------------

void check_macro(YamlSection& s, const MacroConfig& m) {
  auto exceeds = [&](const char* key, int value, const std::string& limit, int bound,
                     const std::string& fix) {
    if (value > bound) s.fail(key, std::to_string(value) + " exceeds " + limit + std::to_string(bound), fix);
  };
  exceeds("rows_per_cycle", m.rows_per_cycle, "rows = ", m.rows, "use rows_per_cycle <= rows");
  exceeds("dac_bits", m.dac_bits, "input_bits = ", m.input_bits, "use dac_bits <= input_bits");
  exceeds("cell_bits", m.cell_bits, "the weight magnitude width weight_bits - 1 = ", m.weight_bits - 1,
          "use cell_bits <= weight_bits - 1");
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

void check_adc(YamlSection& s, const AdcConfig& a, const MacroConfig& m) {
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

void check_device(YamlSection& s, const DeviceConfig& d) {
  if (d.stuck_at_0 + d.stuck_at_1 > 1.0) {
    s.fail("stuck_at_1", "stuck_at_0 + stuck_at_1 exceeds 1", "lower the fault probabilities");
  }
  if (d.drift_t < d.drift_t0) {
    std::ostringstream problem;
    problem << d.drift_t << " s is earlier than drift_t0 = " << d.drift_t0 << " s";
    s.fail("drift_t", problem.str(), "set drift_t >= drift_t0 (seconds since programming)");
  }
}

// The parameter an ADC cost model (energy.adc_model, area.adc_model) needs: `key` given (one
// figure), above 0 (per conversion step), or, for a table, an entry for adc_bits. `what` is the
// parameter's unit and meaning for the fix.
enum class ModelNeeds { kGiven, kPositive, kEntryForBits };

void check_model_needs(YamlSection& s, const std::string& model, ModelNeeds needs, const char* key,
                       double value, const std::map<int, double>& table, int adc_bits,
                       const std::string& what) {
  const std::string why = "adc_model " + model + " needs it";
  if (needs == ModelNeeds::kGiven && !s.has(key))
    s.fail(key, "missing: " + why, std::string("add ") + key + ": " + what + ", or choose another adc_model");
  if (needs == ModelNeeds::kPositive && !(value > 0))
    s.fail(key, "missing or 0: " + why, std::string("add ") + key + ": " + what + " (> 0)");
  if (needs == ModelNeeds::kEntryForBits && !table.count(adc_bits))
    s.fail(key, "has no entry for adc_bits = " + std::to_string(adc_bits) + ": " + why,
           "add '" + std::to_string(adc_bits) + ": " + what + "' to " + key);
}

void check_energy(YamlSection& s, const EnergyConfig& e, const MacroConfig& m) {
  const std::string model = word_of(kAdcEnergyModels, e.adc_model);
  if (e.adc_model == AdcEnergyModel::kPerComparison)
    check_model_needs(s, model, ModelNeeds::kGiven, "adc_pj_per_comparison", 0, {}, m.adc_bits,
                      "PJ (one comparison, 0..1e9)");
  if (e.adc_model == AdcEnergyModel::kWalden)
    check_model_needs(s, model, ModelNeeds::kPositive, "adc_fj_per_step", e.adc_fj_per_step, {}, m.adc_bits,
                      "FJ (the figure of merit, fJ per conversion step)");
  if (e.adc_model == AdcEnergyModel::kTable)
    check_model_needs(s, model, ModelNeeds::kEntryForBits, "adc_pj_table", 0, e.adc_pj_table, m.adc_bits,
                      "PJ (one conversion)");
}

void check_area(YamlSection& s, const AreaConfig& a, const MacroConfig& m) {
  const std::string model = word_of(kAdcAreaModels, a.adc_model);
  if (a.adc_model == AdcAreaModel::kFixed)
    check_model_needs(s, model, ModelNeeds::kGiven, "adc_um2", 0, {}, m.adc_bits, "UM2 (one ADC)");
  if (a.adc_model == AdcAreaModel::kScaling)
    check_model_needs(s, model, ModelNeeds::kPositive, "adc_um2_per_step", a.adc_um2_per_step, {}, m.adc_bits,
                      "UM2 (one unit capacitor or comparator)");
  if (a.adc_model == AdcAreaModel::kTable)
    check_model_needs(s, model, ModelNeeds::kEntryForBits, "adc_um2_table", 0, a.adc_um2_table, m.adc_bits,
                      "UM2 (one ADC)");
}

void no_check(YamlSection&) {}

// The whole config: name, then each section with whether it may be left out and its checks.
template <class V>
void visit_hw(V& v, HwConfig& hw) {
  v("name", hw.name, Text{});
  v.section(
      "macro", false, [&](auto& s) { visit_macro(s, hw.macro); },
      [&](YamlSection& s) { check_macro(s, hw.macro); });
  v.section(
      "timing", false, [&](auto& s) { visit_timing(s, hw.timing); }, no_check);
  v.section(
      "adc", true, [&](auto& s) { visit_adc(s, hw.adc); },
      [&](YamlSection& s) { check_adc(s, hw.adc, hw.macro); });
  v.section(
      "device", true, [&](auto& s) { visit_device(s, hw.device); },
      [&](YamlSection& s) { check_device(s, hw.device); });
  v.section(
      "energy", false, [&](auto& s) { visit_energy(s, hw.energy); },
      [&](YamlSection& s) { check_energy(s, hw.energy, hw.macro); });
  v.section(
      "digital", true, [&](auto& s) { visit_digital(s, hw.digital); }, no_check);
  v.section(
      "chip", true, [&](auto& s) { visit_chip(s, hw.chip); }, no_check);
  v.section(
      "buffer", true, [&](auto& s) { visit_buffer(s, hw.buffer); }, no_check);
  v.section_if_given(
      "area", hw.area.given, [&](auto& s) { visit_area(s, hw.area); },
      [&](YamlSection& s) { check_area(s, hw.area, hw.macro); });
}

}  // namespace

void read_hw_fields(YamlSection& top, HwConfig& hw) {
  top.declare(own_keys([&](auto& v) { visit_hw(v, hw); }));
  YamlReader reader{top};
  visit_hw(reader, hw);
  top.finish();
}

nlohmann::json hw_config_json(const HwConfig& hw) {
  nlohmann::json out = nlohmann::json::object();
  JsonWriter writer{out};
  visit_hw(writer, const_cast<HwConfig&>(hw));  // the writer only reads the fields
  return out;
}

std::vector<std::string> hw_config_keys() {
  HwConfig unused;
  KeyLister lister;
  visit_hw(lister, unused);
  return lister.keys;
}

}  // namespace cimsim
