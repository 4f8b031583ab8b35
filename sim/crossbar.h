// The crossbar array: bit-sliced differential weights on bit-line pairs. For one (row group,
// phase) step it forms every ADC input's partial sum and holds it on the bit lines for
// array_cycles before handing the step to the ADC bank's sample-and-hold; it starts the next step
// only once the sample-and-hold has taken this one (docs/timing.md). The partial sums themselves
// are MacroNumerics's (models/macro); in the accurate mode the module shows the step's row group
// and phase.
#pragma once

#include <string>
#include <systemc>

#include "macro_ports.h"
#include "trace_window.h"
#include "traced_value.h"

namespace cimsim {

struct CrossbarConfig {
  sc_core::sc_time period;   // one clock cycle
  int64_t array_cycles = 1;  // t_a: drive the inputs and let the bit lines settle
};

class Crossbar : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<StepToken> from_dac{"from_dac"};
  sc_core::sc_fifo_out<StepToken> to_adc{"to_adc"};

  Crossbar(sc_core::sc_module_name name, const CrossbarConfig& config, const TraceWindow& window);

  void trace(TraceSink& sink, const std::string& prefix) const;

 private:
  void run();
  CrossbarConfig config_;
  TracedValue<int> row_group_;
  TracedValue<int> phase_;
};

}  // namespace cimsim
