// The energy model: events counted by the simulation (DAC row drives, cell reads, conversions,
// shift-add operations) times the configured energy per event, plus leakage of the mapped macros
// over the chip time (docs/stats.md, "Energy events").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "config/hw_config.h"

namespace cimsim {

struct EnergyEvents {
  int64_t dac_row_drives = 0;  // rows driven x phases x vectors
  int64_t cell_reads = 0;      // driven rows x used bit lines x phases x vectors
  int64_t adc_conversions = 0;
  int64_t shift_add_ops = 0;  // conversion results accumulated + cross-macro additions
  void merge(const EnergyEvents& o);
};

struct EnergyBreakdown {
  double dac_pj = 0, array_pj = 0, adc_pj = 0, shift_add_pj = 0, leakage_pj = 0;
  double total_pj() const { return dac_pj + array_pj + adc_pj + shift_add_pj + leakage_pj; }
  void add(const EnergyBreakdown& o) {
    dac_pj += o.dac_pj;
    array_pj += o.array_pj;
    adc_pj += o.adc_pj;
    shift_add_pj += o.shift_add_pj;
    leakage_pj += o.leakage_pj;
  }
  nlohmann::json to_json() const;
};

// Energy of the events, plus leakage of `macros` macros over `seconds` of chip time.
EnergyBreakdown energy_of(const EnergyEvents& events, const HwConfig& hw, int macros, double seconds);

}  // namespace cimsim
