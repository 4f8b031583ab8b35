// The state one macro's components share: the programmed tile, the job in flight, the array
// outputs held for conversion, the shift-add partial outputs and the statistics.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <systemc>

#include "adc/adc_transfer.h"
#include "byte_gemm.h"
#include "config/hw_config.h"
#include "core/conversion_stats.h"
#include "core/layer_mapping.h"
#include "device/array_programming.h"
#include "input_digits.h"
#include "mvm_job.h"
#include "trace_window.h"

namespace cimsim {

struct MacroTraceSignals {
  sc_core::sc_signal<int, sc_core::SC_MANY_WRITERS> row_group{"row_group"};
  sc_core::sc_signal<int, sc_core::SC_MANY_WRITERS> phase{"phase"};
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> adc_busy{"adc_busy"};
  sc_core::sc_signal<int, sc_core::SC_MANY_WRITERS> adc0_bitline{"adc0_bitline"};
  sc_core::sc_signal<int, sc_core::SC_MANY_WRITERS> adc0_code{"adc0_code"};
};

struct MacroState {
  const HwConfig* hw = nullptr;
  const LayerMapping* mapping = nullptr;
  int index = 0;  // macro index in the layer mapping
  const RowTile* row_tile = nullptr;
  const ColTile* col_tile = nullptr;
  TileConductances tile;
  // tile.ideal packed per row group of the tile (local group order) for the byte kernel; empty
  // when the ideal partial sums need no separate GEMM or do not fit it.
  std::vector<PackedLevels> ideal_packed;
  const AdcTransfer* adc = nullptr;
  uint64_t seed = 0;
  uint64_t layer_id = 0;
  sc_core::sc_time period;
  TraceWindow window;

  bool histograms = true;  // count the partial-sum histogram (off when no stats are written)

  const MvmJob* job = nullptr;  // the transaction in flight (SystemC processes)
  Eigen::MatrixXd partial;      // batch x outputs of the column tile (shift-add registers, inline mode)
  ConversionStats stats;

  // Shadow values of the trace signals, kept current even outside the window.
  int shadow_group = 0, shadow_phase = 0;
  bool shadow_busy = false;
  MacroTraceSignals* trace = nullptr;  // null unless tracing

  // Noise-draw index of vector i of job `of` at this macro's local signal 0 (docs/numerics.md, read
  // noise): id(i) * layer signals + first signal of the tile; vector i + 1 is `noise_stride`
  // further on.
  uint64_t noise_base(const MvmJob& of, int64_t i) const {
    const uint64_t per_output = uint64_t(hw->macro.slices() * hw->macro.signals_per_pair());
    return of.id(i) * uint64_t(mapping->outputs) * per_output + uint64_t(col_tile->col_begin) * per_output;
  }
  uint64_t noise_stride(const MvmJob& of) const {
    return uint64_t(of.id_stride) * uint64_t(mapping->outputs) *
           uint64_t(hw->macro.slices() * hw->macro.signals_per_pair());
  }
  int signals() const { return col_tile->col_count * hw->macro.slices() * hw->macro.signals_per_pair(); }
  int conversions_in_sequence() const { return std::min(hw->macro.signals_per_adc(), signals()); }
  int steps() const { return row_tile->num_groups * hw->macro.phases(); }
  sc_core::sc_time cycles(int64_t n) const { return period * double(n); }
};

}  // namespace cimsim
