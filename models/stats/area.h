// The area model: a macro's parts from the `area` section of the hardware config (docs/stats.md,
// "Area"), in um^2. A plain sum of documented per-part figures, like NeuroSim's per-component
// breakdown but without circuit-level models: every number comes from the config.
#pragma once

#include "config/hw_config.h"

namespace cimsim {

// Area by part, in um^2 (one macro, or a layer's or the chip's macros).
struct AreaFigures {
  static constexpr const char* kRecord = "AreaFigures";
  double cells = 0, dac = 0, mux = 0, sample_hold = 0, adc = 0, shift_add = 0, total = 0;
  template <class V>
  void fields(V& v) {
    v("cells", cells);
    v("dac", dac);
    v("mux", mux);
    v("sample_hold", sample_hold);
    v("adc", adc);
    v("shift_add", shift_add);
    v("total", total);
  }
};

// One ADC at the configured adc_bits, by area.adc_model.
double adc_um2(const HwConfig& hw);
// One macro: rows x cols cells of cell_f2 F^2, a DAC per row, a mux share per bit line, and per
// ADC its sample-and-hold, converter and shift-add.
AreaFigures macro_area(const HwConfig& hw);
// `macros` macros of that area.
AreaFigures times(const AreaFigures& a, int64_t macros);

}  // namespace cimsim
