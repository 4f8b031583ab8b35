#include "crossbar.h"

namespace cimsim {

Crossbar::Crossbar(sc_core::sc_module_name name, const CrossbarConfig& config, const TraceWindow& window)
    : sc_core::sc_module(name), config_(config), row_group_("row_group", window), phase_("phase", window) {
  SC_HAS_PROCESS(Crossbar);
  SC_THREAD(run);
}

void Crossbar::trace(TraceSink& sink, const std::string& prefix) const {
  row_group_.trace(sink, prefix + "row_group");
  phase_.trace(sink, prefix + "phase");
}

void Crossbar::run() {
  while (true) {
    const StepToken token = from_dac->read();
    row_group_.set(token.step.group);
    phase_.set(token.step.phase);
    wait(config_.period * double(config_.array_cycles));
    to_adc->write(token);
    // The bit lines hold this step until the sample-and-hold takes it.
    while (to_adc->num_free() == 0) wait(to_adc->data_read_event());
  }
}

}  // namespace cimsim
