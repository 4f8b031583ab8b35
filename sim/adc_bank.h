// The ADC bank of a macro: cols / cols_per_adc converters, each multiplexed over its
// signals_per_adc inputs (a differential pair per input with analog subtraction, a bit line with
// digital). On taking a step from the crossbar it samples every input, then converts its inputs
// in sequence: conversions_in_sequence x (adc_bits cycles for SAR, 1 for flash). Numerically it
// applies the ADC transfer function to every input of every replica in the batch.
#pragma once

#include <systemc>
#include <vector>

#include "crossbar.h"
#include "macro_state.h"
#include "shift_add.h"

namespace cimsim {

class AdcBank : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<Step> from_array{"from_array"};

  // Vectors per numerical slice: the unit of parallel work (a slice's bit-line values stay in the
  // L2 cache). A batch of B vectors has ceil(B / kSliceVectors) slices.
  static constexpr int kSliceVectors = 32;
  static int slices_of(int batch) { return (batch + kSliceVectors - 1) / kSliceVectors; }

  AdcBank(sc_core::sc_module_name name, MacroState& state, Crossbar& crossbar, ShiftAdd& shift_add);

  // With deferred numerics the SystemC process only keeps time; the layer engine then runs the
  // steps' arithmetic for all macros at the end of the transaction, (macro, slice) pairs in
  // parallel (each pair's steps in order, so every result is the same as inline). Off while
  // tracing. run_deferred(slice, counts) converts the pending steps for one slice of the batch,
  // adding integer counters to `counts` (any thread's; integer sums do not depend on order) and
  // the slice's error statistics to its own accumulator; clear_deferred() then drops the steps.
  void set_deferred(bool deferred) { deferred_ = deferred; }
  void run_deferred(int slice, ConversionStats& counts);
  void clear_deferred() { pending_.clear(); }
  // Error statistics of the conversions so far, summed slice by slice in slice order, so they do
  // not depend on which thread converted which slice.
  ErrorAccumulator slice_errors() const;

 private:
  void run();
  // Converts `step` for the vectors of `slice`, adding counters to `counts`.
  void convert(const Step& step, int slice, ConversionStats& counts);
  void wait_conversions();
  // Makes room for the slices of the current job (on the SystemC thread, before any conversion).
  void prepare_slices();
  MacroState& state_;
  Crossbar& crossbar_;
  ShiftAdd& shift_add_;
  std::vector<int> first_codes_;  // codes of ADC 0's inputs for vector 0, for the trace
  bool deferred_ = false;
  std::vector<Step> pending_;
  // Error statistics per slice index; each slice is converted by one thread at a time.
  std::vector<ErrorAccumulator> slice_error_;
  bool integer_sums_ = false;  // ideal cells and no read noise: every partial sum is an integer
};

}  // namespace cimsim
