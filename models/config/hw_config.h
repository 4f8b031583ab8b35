// The hardware description of a CIM chip, read from YAML (configs/hw/*.yaml) into typed structs.
// Every key, its unit, range and default is listed in docs/config.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cimsim {

enum class AdcType { kSar, kFlash };
// How a conversion's energy is found (docs/config.md, energy): comparisons x a comparison's energy,
// a Walden figure of merit x 2^adc_bits, or a table by adc_bits.
enum class AdcEnergyModel { kPerComparison, kWalden, kTable };
// How an ADC's area is found (docs/config.md, area): one figure, a figure per conversion step
// (SAR: 2^adc_bits unit capacitors; flash: 2^adc_bits - 1 comparators), or a table by adc_bits.
enum class AdcAreaModel { kFixed, kScaling, kTable };
enum class Subtraction { kAnalog, kDigital };

struct MacroConfig {
  int rows = 0;            // word lines of one array
  int cols = 0;            // bit lines of one array (a differential pair uses two)
  int rows_per_cycle = 0;  // rows accumulated on a bit line at once (row-group size A)
  int cols_per_adc = 0;    // bit lines multiplexed onto one ADC
  int weight_bits = 0;     // signed weights, magnitude has weight_bits - 1 bits
  int input_bits = 0;      // unsigned inputs
  int dac_bits = 0;        // input bits applied per phase
  int cell_bits = 0;       // weight magnitude bits stored per cell
  int adc_bits = 0;
  AdcType adc_type = AdcType::kSar;
  Subtraction subtraction = Subtraction::kAnalog;
  int accumulator_bits = 0;  // 0: unbounded; else saturating signed width in MAC units

  int phases() const { return (input_bits + dac_bits - 1) / dac_bits; }
  int slices() const { return (weight_bits - 1 + cell_bits - 1) / cell_bits; }
  int max_input_digit() const { return (1 << dac_bits) - 1; }
  int max_cell_level() const { return (1 << cell_bits) - 1; }  // g_max in level units
  // Bit lines one logical output column occupies: S slices x 2 (differential pair).
  int bitlines_per_output() const { return 2 * slices(); }
  int outputs_per_macro() const { return cols / bitlines_per_output(); }
  // ADC inputs per slice and output: a pair in analog subtraction, each bit line in digital.
  int signals_per_pair() const { return subtraction == Subtraction::kAnalog ? 1 : 2; }
  int signals_per_adc() const {
    return subtraction == Subtraction::kAnalog ? cols_per_adc / 2 : cols_per_adc;
  }
  int adcs() const { return cols / cols_per_adc; }
  // Largest |partial sum| one conversion can see: A * (2^db - 1) * (2^cb - 1).
  double max_partial_sum() const { return double(rows_per_cycle) * max_input_digit() * max_cell_level(); }
};

struct TimingConfig {
  double clock_mhz = 0;
  int array_cycles = 0;      // DAC drive + bit-line settle of one (row group, phase) step
  int shift_add_cycles = 0;  // shift-add latency after the last conversion of an MVM
};

struct AdcInterval {
  bool full = true;  // full range of the converter's input (see docs/numerics.md)
  double lo = 0;
  double hi = 0;
};

struct AdcConfig {
  bool ideal = false;  // no quantization, clipping or converter non-idealities
  AdcInterval interval;
  std::map<std::string, AdcInterval> layers;
  double offset_lsb = 0;
  double gain_error = 0;
  double thermal_sigma_lsb = 0;
  std::vector<double> inl_lsb;  // empty or 2^adc_bits entries
};

struct DeviceConfig {
  double program_sigma = 0;            // additive Gaussian, std as a fraction of g_max
  double program_lognormal_sigma = 0;  // multiplicative log-normal, sigma of ln G
  double stuck_at_0 = 0;               // probability a cell reads G = 0
  double stuck_at_1 = 0;               // probability a cell reads G = g_max
  double drift_nu = 0;                 // G(t) = G(t0) * (t / t0)^-nu
  double drift_t = 1;
  double drift_t0 = 1;
  double read_noise_sigma = 0;  // std of additive Gaussian on each partial sum, in MAC units
  // Row-count-dependent bit-line effects (docs/numerics.md section 7): the wire resistance of one
  // row's bit-line segment in units of 1 / (one level's conductance), and read noise whose variance
  // grows with the bit line's current: std read_noise_current_sigma x sqrt(|current| in MAC units).
  double wire_resistance = 0;
  double read_noise_current_sigma = 0;

  bool bitline_effects() const { return wire_resistance > 0 || read_noise_current_sigma > 0; }
  bool programming_ideal() const {
    return program_sigma == 0 && program_lognormal_sigma == 0 && stuck_at_0 == 0 && stuck_at_1 == 0 &&
           drift_nu == 0;
  }
  bool ideal() const { return programming_ideal() && read_noise_sigma == 0 && !bitline_effects(); }
};

struct EnergyConfig {
  double dac_pj_per_row = 0;     // one row driven for one phase
  double array_pj_per_cell = 0;  // one cell on a driven row and a used bit line, per phase
  AdcEnergyModel adc_model = AdcEnergyModel::kPerComparison;
  double adc_pj_per_comparison = 0;    // SAR: adc_bits comparisons a conversion; flash: 2^adc_bits - 1
  double adc_fj_per_step = 0;          // Walden figure of merit: a conversion costs it x 2^adc_bits
  std::map<int, double> adc_pj_table;  // adc_bits -> pJ per conversion
  double shift_add_pj_per_op = 0;      // one conversion result shifted and added
  double leakage_mw_per_macro = 0;     // static power of one macro while it is powered
  bool data_dependent = false;         // DAC and array energy only for non-zero digits and conducting cells
};

// The digital unit between CIM layers (bias/scale, ReLU, pooling, residual add, requantization):
// a vector unit that completes ops_per_cycle element operations per cycle.
struct DigitalConfig {
  int ops_per_cycle = 64;
  double pj_per_op = 0;
  double leakage_mw = 0;  // static power while powered
};

// The chip: how many macros it has. A network must fit (every CIM layer keeps its own macros,
// weights stay resident); 0 means as many as the network needs. With power gating a macro or the
// digital unit leaks only while it works, else for the whole run.
enum class Dataflow { kLayerByLayer, kPipelined };
struct ChipConfig {
  int macros = 0;
  bool power_gating = false;
  // Layer by layer: a layer starts when the previous one is done with the image. Pipelined: each
  // layer is a stage on its own macros and images stream through (docs/timing.md, "Networks").
  Dataflow dataflow = Dataflow::kLayerByLayer;
  // Weight duplication: layer name -> copies of its weights on as many more macros; its output
  // pixels then run `copies` at a time (docs/timing.md, "Networks"). `duplicate_auto`: chosen per
  // network within `macros` (resolve_duplication in sim/network_runner.h fills `duplicate`).
  std::map<std::string, int> duplicate;
  bool duplicate_auto = false;
  int copies_of(const std::string& layer) const {
    const auto it = duplicate.find(layer);
    return it == duplicate.end() ? 1 : it->second;
  }
};

// The activation buffers between layers (docs/timing.md, "Networks"): every layer reads its
// inputs from and writes its output to a buffer, macro.input_bits per element. Traffic costs
// pj_per_byte; a layer moves at most bytes_per_cycle bytes a cycle (0: unlimited), overlapped with
// its compute, so a stage takes max(compute cycles, ceil(bytes / bytes_per_cycle)).
struct BufferConfig {
  int bytes_per_cycle = 0;
  double pj_per_byte = 0;
};

// The silicon area of a macro's parts and the digital unit (docs/config.md, area). Reported only
// when the config has an `area` section.
struct AreaConfig {
  bool given = false;
  double technology_nm = 0;       // feature size F
  double cell_f2 = 0;             // one cell, in F^2
  double dac_um2_per_row = 0;     // DAC and word-line driver of one row
  double mux_um2_per_column = 0;  // column multiplexer share of one bit line
  double sample_hold_um2 = 0;     // per ADC
  AdcAreaModel adc_model = AdcAreaModel::kFixed;
  double adc_um2 = 0;                   // fixed: one ADC
  double adc_um2_per_step = 0;          // scaling: per unit capacitor (SAR) or comparator (flash)
  std::map<int, double> adc_um2_table;  // table: adc_bits -> one ADC
  double shift_add_um2 = 0;             // per ADC
  double digital_um2 = 0;               // the digital unit
  double buffer_um2_per_byte = 0;       // activation buffer, per byte of its capacity
};

struct HwConfig {
  std::string name;
  std::string source;  // file the config came from
  MacroConfig macro;
  TimingConfig timing;
  AdcConfig adc;
  DeviceConfig device;
  EnergyConfig energy;
  DigitalConfig digital;
  ChipConfig chip;
  BufferConfig buffer;
  AreaConfig area;

  // The ADC interval used for a layer: its own entry, else the default; "full" resolved.
  AdcInterval interval_for(const std::string& layer) const;
  // Full input range of one conversion: [-max, max] in analog subtraction, [0, max] in digital.
  AdcInterval full_interval() const;
  double clock_period_ps() const { return 1e6 / timing.clock_mhz; }
  int conversion_cycles() const { return macro.adc_type == AdcType::kSar ? macro.adc_bits : 1; }

  nlohmann::json to_json() const;  // the fully resolved configuration
};

// A resolved config inside a JSON document (the stats files): written as HwConfig::to_json, read
// back through the YAML reader (JSON is YAML), so it is checked as a config file is.
void to_json(nlohmann::json& j, const HwConfig& hw);
void from_json(const nlohmann::json& j, HwConfig& hw);

class YamlSection;
// Reads `key` of `section` as an ADC interval: `full` or {lo: L, hi: H} with L < H within +-1e15.
// Shared by the hardware config and the model bundle.
AdcInterval read_adc_interval(YamlSection& section, const std::string& key);

// Loads and validates a hardware YAML file. `overrides` are "dotted.path=value" strings (--set);
// each replaces or adds a key before validation. Throws InputError naming file, line and fix.
HwConfig load_hw_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Same, from text (tests and bundles); `source_name` stands in for the file name in messages.
HwConfig parse_hw_config(const std::string& yaml_text, const std::string& source_name,
                         const std::vector<std::string>& overrides = {});

}  // namespace cimsim
