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

  // Where the conversions of one slice of a job go.
  struct SliceTarget {
    const MvmJob* job = nullptr;
    int slice = 0;
    Eigen::MatrixXd* partial = nullptr;  // the job's shift-add registers: batch x col_count
    ConversionStats* counts = nullptr;   // integer counters (any thread's: sums do not depend on order)
    ErrorAccumulator* error = nullptr;   // the error sums of this (job, slice)
    InputDigits* digits = nullptr;       // the converting thread's digit cache
  };

  // With deferred numerics the SystemC process only keeps time and records the steps of each
  // transaction (the same every time); the layer engine then converts every (transaction, slice)
  // of a layer at once, in parallel, with convert_slice(), and hands each macro its error sums in
  // (transaction, slice) order with add_errors(), the order the inline (traced) mode sums them in,
  // so every result is the same either way. Inline while tracing.
  void set_deferred(bool deferred) { deferred_ = deferred; }
  const std::vector<Step>& steps() const { return steps_; }
  // Converts every recorded step for one slice of a job, in step order. Thread-safe for
  // distinct targets.
  void convert_slice(const SliceTarget& target);
  void add_errors(const ErrorAccumulator& e) { error_.merge(e); }
  // Error statistics of every conversion so far.
  const ErrorAccumulator& errors() const { return error_; }

 private:
  void run();
  void convert(const Step& step, const SliceTarget& target);
  void wait_conversions();
  MacroState& state_;
  Crossbar& crossbar_;
  ShiftAdd& shift_add_;
  std::vector<int> first_codes_;  // codes of ADC 0's inputs for vector 0, for the trace
  bool deferred_ = false;
  std::vector<Step> steps_;  // of the current transaction
  ErrorAccumulator error_;
  std::vector<ErrorAccumulator> inline_error_;  // per slice of the current transaction (inline mode)
  InputDigits inline_digits_;
  bool integer_sums_ = false;  // ideal cells and no read noise: every partial sum is an integer
};

}  // namespace cimsim
