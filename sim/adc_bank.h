// The ADC bank of a macro: cols / cols_per_adc converters, each multiplexed over its
// signals_per_adc inputs (a differential pair per input with analog subtraction, a bit line with
// digital); inputs fill the converters in order, ADC a taking inputs a * signals_per_adc onwards.
// On taking a step from the crossbar (sample-and-hold) the converters run in parallel, each
// through its inputs in sequence: conversions_in_sequence x (adc_bits cycles for SAR, 1 for flash);
// then the bank passes the step to the shift-add. The codes are MacroNumerics's (models/macro).
// In the accurate mode, for steps that overlap the trace window, it wakes every cycle of a
// conversion to show, per traced ADC, the bit line and value it samples, the SAR register's
// trials, the code, the value it passes on and a one-cycle valid strobe, for vector 0 of the job.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "macro_ports.h"
#include "trace_window.h"
#include "traced_value.h"

namespace cimsim {

struct AdcBankConfig {
  sc_core::sc_time period;  // one clock cycle
  int bitline_stride = 1;   // bit lines per ADC input: 2 with analog subtraction
  int adcs = 1;             // converters in the bank
  int signals_per_adc = 1;  // inputs multiplexed onto one converter
  int signals = 1;          // inputs the macro's tile uses
  int adc_bits = 1;
  bool sar = true;  // successive approximation: one bit decided per cycle, MSB first

  // The busiest converter's conversions per step (inputs fill the converters in order).
  int conversions_in_sequence() const { return std::min(signals_per_adc, signals); }
  // adc_bits for SAR, 1 for flash.
  int64_t cycles_per_conversion() const { return sar ? adc_bits : 1; }
};

class AdcBank : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<StepToken> from_array{"from_array"};
  sc_core::sc_fifo_out<StepToken> to_shift_add{"to_shift_add"};

  // std::invalid_argument for a config without an input per converter or an input used.
  AdcBank(sc_core::sc_module_name name, const AdcBankConfig& config, const TraceWindow& window);

  void trace(TraceSink& sink, const std::string& prefix) const;

 private:
  // The traced signals of one converter.
  struct TracedAdc {
    TracedAdc(int adc, const TraceWindow& window, bool sar);
    int index;
    TracedValue<int> bitline;               // bit line being converted (the pair's G+), -1 idle
    TracedValue<double> analog;             // the sampled partial sum, MAC units
    std::unique_ptr<TracedValue<int>> sar;  // SAR converters: the register during each trial
    TracedValue<int> code;                  // the last conversion's code
    TracedValue<double> value;              // the last conversion's output value, MAC units
    TracedPulse valid;                      // one cycle when a code is ready
    // The input it takes in slot j (-1: none).
    int input(int j, const AdcBankConfig& c) const {
      const int in = index * c.signals_per_adc + j;
      return in < c.signals ? in : -1;
    }
  };
  void run();
  void convert(const StepToken& token);
  void convert_traced(const StepProbe& probe);
  AdcBankConfig config_;
  TraceWindow window_;
  TracedValue<bool> busy_;
  TracedValue<int> step_;  // index of the step being converted, -1 when idle
  std::vector<std::unique_ptr<TracedAdc>> traced_;
};

}  // namespace cimsim
