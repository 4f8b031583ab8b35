// One CIM macro's timing: DAC -> crossbar -> (sample-and-hold) ADC bank -> shift-add, connected
// by FIFOs of step tokens. start() hands it a job; wait_done() returns when the job's partial
// outputs are ready. The macro's arithmetic is MacroNumerics's (models/macro), run by the layer
// engine; in the accurate mode (a trace window is set) start() also takes the job's per-step
// values, which the modules show as signals.
#pragma once

#include <string>
#include <systemc>
#include <vector>

#include "adc_bank.h"
#include "crossbar.h"
#include "dac.h"
#include "shift_add.h"

namespace cimsim {

// The narrow configuration of each of a macro's modules.
struct MacroModules {
  DacConfig dac;
  CrossbarConfig crossbar;
  AdcBankConfig adc_bank;
  ShiftAddConfig shift_add;
};

class Macro : public sc_core::sc_module {
 public:
  Macro(sc_core::sc_module_name name, const MacroModules& config, const TraceWindow& window);

  // Starts `job` (`probe`: one StepProbe per step, accurate mode only; it must stay unchanged
  // until wait_done returns). From an SC_THREAD.
  void start(const MvmJob& job, const std::vector<StepProbe>* probe);
  // Blocks until the shift-add has finished `job`.
  void wait_done(const MvmJob& job);
  // Registers the trace signals, as one group (only when the window is enabled; before sc_start).
  void trace(TraceSink& sink, const std::string& group) const;

 private:
  sc_core::sc_fifo<JobToken> jobs_;
  sc_core::sc_fifo<StepToken> dac_to_array_;
  sc_core::sc_fifo<StepToken> array_to_adc_;  // depth 1: the sample-and-hold
  sc_core::sc_fifo<StepToken> adc_to_shift_add_;
  sc_core::sc_fifo<uint64_t> done_;
  Dac dac_;
  Crossbar crossbar_;
  AdcBank adc_bank_;
  ShiftAdd shift_add_;
};

}  // namespace cimsim
