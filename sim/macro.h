// One CIM macro: DAC -> crossbar -> (sample-and-hold) ADC bank -> shift-add, holding one tile of
// a layer's weights. start() launches an MVM job; `done` fires when its partial outputs are ready.
#pragma once

#include <memory>
#include <systemc>

#include "adc_bank.h"
#include "crossbar.h"
#include "dac.h"
#include "macro_state.h"
#include "shift_add.h"

namespace cimsim {

class Macro : public sc_core::sc_module {
 public:
  sc_core::sc_event done;

  // `state` must be filled (tile programmed) before construction.
  Macro(sc_core::sc_module_name name, std::unique_ptr<MacroState> state);

  void start(const MvmJob& job);
  MacroState& state() { return *state_; }
  AdcBank& adc_bank() { return adc_bank_; }
  const MacroState& state() const { return *state_; }
  // Registers the trace signals in `file` (only when state.window.enabled; before sc_start).
  void trace(sc_core::sc_trace_file* file);

 private:
  void snapshot_at_window_start();
  std::unique_ptr<MacroState> state_;
  std::unique_ptr<MacroTraceSignals> signals_;
  sc_core::sc_event start_;
  sc_core::sc_fifo<Step> dac_to_array_;
  sc_core::sc_fifo<Step> array_to_adc_;  // depth 1: the sample-and-hold
  Dac dac_;
  Crossbar crossbar_;
  ShiftAdd shift_add_;
  AdcBank adc_bank_;
};

}  // namespace cimsim
