#include "stats/energy.h"

namespace cimsim {

void EnergyEvents::merge(const EnergyEvents& o) {
  dac_row_drives += o.dac_row_drives;
  cell_reads += o.cell_reads;
  adc_conversions += o.adc_conversions;
  shift_add_ops += o.shift_add_ops;
}

EnergyFigures energy_figures(const EnergyBreakdown& b) {
  return {b.dac_pj, b.array_pj, b.adc_pj, b.shift_add_pj, b.leakage_pj, b.total_pj()};
}

EnergyBreakdown energy_of(const EnergyEvents& events, const HwConfig& hw, int macros, double seconds) {
  const EnergyConfig& e = hw.energy;
  const double comparisons =
      hw.macro.adc_type == AdcType::kSar ? hw.macro.adc_bits : double((1 << hw.macro.adc_bits) - 1);
  EnergyBreakdown b;
  b.dac_pj = double(events.dac_row_drives) * e.dac_pj_per_row;
  b.array_pj = double(events.cell_reads) * e.array_pj_per_cell;
  b.adc_pj = double(events.adc_conversions) * comparisons * e.adc_pj_per_comparison;
  b.shift_add_pj = double(events.shift_add_ops) * e.shift_add_pj_per_op;
  b.leakage_pj = e.leakage_mw_per_macro * 1e-3 * double(macros) * seconds * 1e12;
  return b;
}

}  // namespace cimsim
