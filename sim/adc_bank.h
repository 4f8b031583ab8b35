// The ADC bank of a macro: cols / cols_per_adc converters, each multiplexed over its
// signals_per_adc inputs (a differential pair per input with analog subtraction, a bit line with
// digital). On taking a step from the crossbar (sample-and-hold) it converts its inputs in
// sequence: conversions_in_sequence x (adc_bits cycles for SAR, 1 for flash), then passes the
// step to the shift-add. The codes are MacroNumerics's (models/macro); in the accurate mode,
// inside the trace window, it wakes once per conversion to show the multiplexer position and
// ADC 0's code for vector 0.
#pragma once

#include <string>
#include <systemc>

#include "macro_ports.h"
#include "trace_window.h"
#include "traced_value.h"

namespace cimsim {

struct AdcBankConfig {
  sc_core::sc_time period;            // one clock cycle
  int conversions_in_sequence = 1;    // min(signals per ADC, signals used)
  int64_t cycles_per_conversion = 1;  // adc_bits for SAR, 1 for flash
  int bitline_stride = 1;             // bit lines per ADC input: 2 with analog subtraction
};

class AdcBank : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<StepToken> from_array{"from_array"};
  sc_core::sc_fifo_out<StepToken> to_shift_add{"to_shift_add"};

  AdcBank(sc_core::sc_module_name name, const AdcBankConfig& config, const TraceWindow& window);

  void trace(sc_core::sc_trace_file* file, const std::string& prefix) const;
  // Writes the busy flag as it stands (the trace window opens).
  void show();

 private:
  void run();
  void convert(const StepToken& token);
  AdcBankConfig config_;
  TraceWindow window_;
  TracedValue<bool> busy_;
  TracedValue<int> adc0_bitline_;
  TracedValue<int> adc0_code_;
};

}  // namespace cimsim
