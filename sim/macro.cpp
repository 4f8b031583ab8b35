#include "macro.h"

namespace cimsim {

Macro::Macro(sc_core::sc_module_name name, std::unique_ptr<MacroState> state)
    : sc_core::sc_module(name),
      state_(std::move(state)),
      dac_to_array_("dac_to_array", 1),
      array_to_adc_("sample_and_hold", 1),
      dac_("dac", *state_, start_),
      crossbar_("crossbar", *state_),
      shift_add_("shift_add", *state_, done),
      adc_bank_("adc_bank", *state_, crossbar_, shift_add_) {
  dac_.to_array(dac_to_array_);
  crossbar_.from_dac(dac_to_array_);
  crossbar_.to_adc(array_to_adc_);
  adc_bank_.from_array(array_to_adc_);
  state_->stats.histogram.init(state_->hw->full_interval().lo, state_->hw->full_interval().hi);
  if (state_->window.enabled) {
    // Created inside the constructor so the signals are named under this macro.
    signals_ = std::make_unique<MacroTraceSignals>();
    state_->trace = signals_.get();
    SC_HAS_PROCESS(Macro);
    SC_THREAD(snapshot_at_window_start);
  }
}

void Macro::start(const MvmJob& job) {
  state_->job = &job;
  state_->partial.setZero(job.batch, state_->col_tile->col_count);
  start_.notify(sc_core::SC_ZERO_TIME);
}

void Macro::trace(sc_core::sc_trace_file* file) {
  if (!signals_) return;
  const std::string prefix = std::string(name()) + ".";
  sc_core::sc_trace(file, signals_->row_group, prefix + "row_group");
  sc_core::sc_trace(file, signals_->phase, prefix + "phase");
  sc_core::sc_trace(file, signals_->adc_busy, prefix + "adc_busy");
  sc_core::sc_trace(file, signals_->adc0_bitline, prefix + "adc0_bitline");
  sc_core::sc_trace(file, signals_->adc0_code, prefix + "adc0_code");
}

void Macro::snapshot_at_window_start() {
  // Show the state the window opens on, not the values from before it. A window opening beyond
  // representable simulated time never opens (the run ends long before).
  const double from_ticks = double(state_->window.from_cycle) * double(state_->period.value());
  if (from_ticks >= double(sc_core::sc_max_time().value()) / 2) return;
  wait(state_->cycles(state_->window.from_cycle));
  MacroTraceSignals& s = *signals_;
  s.row_group.write(state_->shadow_group);
  s.phase.write(state_->shadow_phase);
  s.adc_busy.write(state_->shadow_busy);
}

}  // namespace cimsim
