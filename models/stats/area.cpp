#include "stats/area.h"

#include <cmath>

namespace cimsim {

double adc_um2(const HwConfig& hw) {
  const AreaConfig& a = hw.area;
  const int bits = hw.macro.adc_bits;
  switch (a.adc_model) {
    case AdcAreaModel::kScaling:
      // SAR: a capacitive DAC of 2^bits unit capacitors; flash: 2^bits - 1 comparators.
      return a.adc_um2_per_step *
             (hw.macro.adc_type == AdcType::kSar ? std::ldexp(1.0, bits) : std::ldexp(1.0, bits) - 1.0);
    case AdcAreaModel::kTable:
      return a.adc_um2_table.at(bits);  // present: checked when the config was read
    case AdcAreaModel::kFixed:
      break;
  }
  return a.adc_um2;
}

AreaFigures macro_area(const HwConfig& hw) {
  const AreaConfig& a = hw.area;
  const MacroConfig& m = hw.macro;
  const double f_um = a.technology_nm * 1e-3;
  const double adcs = m.adcs();
  AreaFigures r;
  r.cells = double(m.rows) * double(m.cols) * a.cell_f2 * f_um * f_um;
  r.dac = double(m.rows) * a.dac_um2_per_row;
  r.mux = double(m.cols) * a.mux_um2_per_column;
  r.sample_hold = adcs * a.sample_hold_um2;
  r.adc = adcs * adc_um2(hw);
  r.shift_add = adcs * a.shift_add_um2;
  r.total = r.cells + r.dac + r.mux + r.sample_hold + r.adc + r.shift_add;
  return r;
}

AreaFigures times(const AreaFigures& a, int64_t macros) {
  const double n = double(macros);
  return {a.cells * n, a.dac * n, a.mux * n, a.sample_hold * n, a.adc * n, a.shift_add * n, a.total * n};
}

}  // namespace cimsim
