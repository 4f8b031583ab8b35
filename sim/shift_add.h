// The shift-add accumulator of a macro: every conversion result of slice s in phase p is
// weighted by 2^(p * dac_bits + s * cell_bits) and added to its output's register (the
// arithmetic is MacroNumerics's, models/macro). Additions overlap the conversions; the job's
// result is ready shift_add_cycles after its last conversion, when the module writes the job's
// serial number to `done`. In the accurate mode it shows output 0's register for vector 0 after
// each step and a one-cycle strobe when the result is ready.
#pragma once

#include <string>
#include <systemc>

#include "macro_ports.h"
#include "trace_window.h"
#include "traced_value.h"

namespace cimsim {

struct ShiftAddConfig {
  sc_core::sc_time period;       // one clock cycle
  int64_t shift_add_cycles = 1;  // t_sa: from the last conversion to the result
};

class ShiftAdd : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<StepToken> from_adc{"from_adc"};
  sc_core::sc_fifo_out<uint64_t> done{"done"};  // the serial of each finished job

  ShiftAdd(sc_core::sc_module_name name, const ShiftAddConfig& config, const TraceWindow& window);

  void trace(TraceSink& sink, const std::string& prefix) const;

 private:
  void run();
  ShiftAddConfig config_;
  TracedValue<double> register0_;  // output 0, vector 0, MAC units
  TracedPulse output_valid_;
};

}  // namespace cimsim
