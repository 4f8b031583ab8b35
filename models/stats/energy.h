// The energy model: events counted by the simulation (DAC row drives, cell reads, conversions,
// shift-add operations) times the configured energy per event, plus leakage of the mapped macros
// over the chip time (docs/stats.md, "Energy events").
#pragma once

#include <cstdint>

#include "config/hw_config.h"

namespace cimsim {

struct EnergyEvents {
  // A stats record (stats_records.h): kRecord and fields() name it and its fields.
  static constexpr const char* kRecord = "EnergyEvents";
  int64_t dac_row_drives = 0;  // rows driven x phases x vectors
  int64_t cell_reads = 0;      // driven rows x used bit lines x phases x vectors
  int64_t adc_conversions = 0;
  int64_t shift_add_ops = 0;          // conversion results accumulated + cross-macro additions
  int64_t dac_nonzero_drives = 0;     // the row drives whose digit is not 0
  int64_t conducting_cell_reads = 0;  // the cell reads of those drives whose cell conducts (G > 0)
  void merge(const EnergyEvents& o);
  template <class V>
  void fields(V& v) {
    v("dac_row_drives", dac_row_drives);
    v("cell_reads", cell_reads);
    v("adc_conversions", adc_conversions);
    v("shift_add_ops", shift_add_ops);
    v("dac_nonzero_drives", dac_nonzero_drives);
    v("conducting_cell_reads", conducting_cell_reads);
  }
};

struct EnergyBreakdown {
  double dac_pj = 0, array_pj = 0, adc_pj = 0, shift_add_pj = 0, leakage_pj = 0;
  double dynamic_pj() const { return dac_pj + array_pj + adc_pj + shift_add_pj; }
  double static_pj() const { return leakage_pj; }
  double total_pj() const { return dynamic_pj() + static_pj(); }
  void add(const EnergyBreakdown& o) {
    dac_pj += o.dac_pj;
    array_pj += o.array_pj;
    adc_pj += o.adc_pj;
    shift_add_pj += o.shift_add_pj;
    leakage_pj += o.leakage_pj;
  }
};

// An energy breakdown as the stats files give it, in pJ by component.
struct EnergyFigures {
  static constexpr const char* kRecord = "EnergyFigures";
  double dac = 0, array = 0, adc = 0, shift_add = 0, leakage = 0;
  double dynamic = 0, static_energy = 0, total = 0;  // dac..shift_add, leakage, both
  template <class V>
  void fields(V& v) {
    v("dac", dac);
    v("array", array);
    v("adc", adc);
    v("shift_add", shift_add);
    v("leakage", leakage);
    v("dynamic", dynamic);
    v("static", static_energy);
    v("total", total);
  }
};
EnergyFigures energy_figures(const EnergyBreakdown& b);

// The energy of one conversion at the configured adc_bits, by energy.adc_model.
double adc_pj_per_conversion(const HwConfig& hw);
// Comparator decisions of one conversion: adc_bits for SAR, 2^adc_bits - 1 for flash.
double adc_comparisons(const HwConfig& hw);
// Energy of the events, plus leakage of `macros` macros over `seconds` of chip time.
EnergyBreakdown energy_of(const EnergyEvents& events, const HwConfig& hw, int macros, double seconds);

}  // namespace cimsim
