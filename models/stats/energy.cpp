#include "stats/energy.h"

#include <cmath>

namespace cimsim {

void EnergyEvents::merge(const EnergyEvents& o) {
  dac_row_drives += o.dac_row_drives;
  cell_reads += o.cell_reads;
  adc_conversions += o.adc_conversions;
  shift_add_ops += o.shift_add_ops;
  dac_nonzero_drives += o.dac_nonzero_drives;
  conducting_cell_reads += o.conducting_cell_reads;
}

EnergyFigures energy_figures(const EnergyBreakdown& b) {
  return {b.dac_pj,     b.array_pj,     b.adc_pj,      b.shift_add_pj,
          b.leakage_pj, b.dynamic_pj(), b.static_pj(), b.total_pj()};
}

double adc_pj_per_conversion(const HwConfig& hw) {
  const EnergyConfig& e = hw.energy;
  const int bits = hw.macro.adc_bits;
  switch (e.adc_model) {
    case AdcEnergyModel::kWalden:
      return e.adc_fj_per_step * 1e-3 * std::ldexp(1.0, bits);
    case AdcEnergyModel::kTable:
      return e.adc_pj_table.at(bits);  // present: checked when the config was read
    case AdcEnergyModel::kPerComparison:
      break;
  }
  return adc_comparisons(hw) * e.adc_pj_per_comparison;
}

double adc_comparisons(const HwConfig& hw) {
  const int bits = hw.macro.adc_bits;
  return hw.macro.adc_type == AdcType::kSar ? bits : double((1 << bits) - 1);
}

EnergyBreakdown energy_of(const EnergyEvents& events, const HwConfig& hw, int macros, double seconds) {
  const EnergyConfig& e = hw.energy;
  const int64_t drives = e.data_dependent ? events.dac_nonzero_drives : events.dac_row_drives;
  const int64_t reads = e.data_dependent ? events.conducting_cell_reads : events.cell_reads;
  EnergyBreakdown b;
  b.dac_pj = double(drives) * e.dac_pj_per_row;
  b.array_pj = double(reads) * e.array_pj_per_cell;
  // per_comparison: conversions x comparisons x energy, in that order (as before the other models)
  b.adc_pj = e.adc_model == AdcEnergyModel::kPerComparison
                 ? double(events.adc_conversions) * adc_comparisons(hw) * e.adc_pj_per_comparison
                 : double(events.adc_conversions) * adc_pj_per_conversion(hw);
  b.shift_add_pj = double(events.shift_add_ops) * e.shift_add_pj_per_op;
  b.leakage_pj = e.leakage_mw_per_macro * 1e-3 * double(macros) * seconds * 1e12;
  return b;
}

}  // namespace cimsim
