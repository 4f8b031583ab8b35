// Hardware configs for tests, built as YAML text so every test reads through the real loader.
#pragma once

#include <string>
#include <vector>

#include "config/hw_config.h"

namespace cimsim::testing {

struct HwParams {
  int rows = 16, cols = 24, rows_per_cycle = 8, cols_per_adc = 4;
  int weight_bits = 4, input_bits = 4, dac_bits = 1, cell_bits = 1, adc_bits = 5;
  std::string adc_type = "sar", subtraction = "analog", accumulator_bits = "none";
  int array_cycles = 1, shift_add_cycles = 1;
  double clock_mhz = 100;
  bool adc_ideal = false;
  std::string interval = "full";
  std::string device_extra;  // extra lines under device:
  std::string adc_extra;     // extra lines under adc:
};

inline std::string hw_yaml(const HwParams& p) {
  auto n = [](auto v) { return std::to_string(v); };
  return "name: test\n"
         "macro:\n"
         "  rows: " +
         n(p.rows) + "\n  cols: " + n(p.cols) + "\n  rows_per_cycle: " + n(p.rows_per_cycle) +
         "\n  cols_per_adc: " + n(p.cols_per_adc) + "\n  weight_bits: " + n(p.weight_bits) +
         "\n  input_bits: " + n(p.input_bits) + "\n  dac_bits: " + n(p.dac_bits) +
         "\n  cell_bits: " + n(p.cell_bits) + "\n  adc_bits: " + n(p.adc_bits) +
         "\n  adc_type: " + p.adc_type + "\n  subtraction: " + p.subtraction +
         "\n  accumulator_bits: " + p.accumulator_bits +
         "\ntiming:\n  clock_mhz: " + std::to_string(p.clock_mhz) + "\n  array_cycles: " + n(p.array_cycles) +
         "\n  shift_add_cycles: " + n(p.shift_add_cycles) +
         "\nadc:\n  ideal: " + (p.adc_ideal ? "true" : "false") + "\n  interval: " + p.interval + "\n" +
         p.adc_extra + "device:\n  program_sigma: 0.0\n" + p.device_extra +
         "energy:\n  dac_pj_per_row: 0.01\n  array_pj_per_cell: 0.001\n  adc_pj_per_comparison: 0.1\n"
         "  shift_add_pj_per_op: 0.05\n  leakage_mw_per_macro: 0.1\n";
}

inline HwConfig make_hw(const HwParams& p) { return parse_hw_config(hw_yaml(p), "test.yaml"); }

}  // namespace cimsim::testing
