#include "shift_add.h"

namespace cimsim {

ShiftAdd::ShiftAdd(sc_core::sc_module_name name, const ShiftAddConfig& config, const TraceWindow& window)
    : sc_core::sc_module(name),
      config_(config),
      register0_("shift_add0", window),
      output_valid_("output_valid", window) {
  SC_HAS_PROCESS(ShiftAdd);
  SC_THREAD(run);
}

void ShiftAdd::trace(TraceSink& sink, const std::string& prefix) const {
  register0_.trace(sink, prefix + "shift_add0");
  output_valid_.trace(sink, prefix + "output_valid");
}

void ShiftAdd::run() {
  while (true) {
    const StepToken token = from_adc->read();
    if (token.probe && !token.probe->registers.empty()) register0_.set(token.probe->registers[0]);
    if (!token.step.last) continue;
    wait(config_.period * double(config_.shift_add_cycles));
    output_valid_.fire();
    done->write(token.serial);
  }
}

}  // namespace cimsim
