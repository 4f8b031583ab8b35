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

  // Vectors per numerical slice: keeps the slice's bit-line values in the L2 cache.
  static constexpr int kSliceVectors = 256;

  AdcBank(sc_core::sc_module_name name, MacroState& state, Crossbar& crossbar, ShiftAdd& shift_add);

  // With deferred numerics the SystemC process only keeps time; the layer engine then runs the
  // steps' arithmetic for all macros at the end of the transaction, macros in parallel (each
  // macro's steps in order, so every result is the same as inline). Off while tracing.
  void set_deferred(bool deferred) { deferred_ = deferred; }
  void run_deferred();

 private:
  void run();
  void convert(const Step& step);
  void wait_conversions();
  // value[i] for one ADC input over `count` replicas, with its statistics.
  void convert_signal(const float* y, const float* ideal, double* value, int count, const CounterRng& thermal,
                      uint64_t noise_base, uint64_t noise_stride);
  // The same for integer partial sums through the converter's table (bit-identical, faster);
  // the statistics come from the tally (ConversionStats::fold).
  void convert_integer_signal(const float* y, double* value, int count);
  MacroState& state_;
  Crossbar& crossbar_;
  ShiftAdd& shift_add_;
  Eigen::MatrixXf y_, y_ideal_;
  std::vector<double> value_, minus_;
  std::vector<int> first_codes_;  // codes of ADC 0's inputs for vector 0, for the trace
  bool deferred_ = false;
  std::vector<Step> pending_;
  bool integer_sums_ = false;  // ideal cells and no read noise: every partial sum is an integer
};

}  // namespace cimsim
