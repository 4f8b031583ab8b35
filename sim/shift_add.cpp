#include "shift_add.h"

namespace cimsim {

ShiftAdd::ShiftAdd(sc_core::sc_module_name name, const ShiftAddConfig& config)
    : sc_core::sc_module(name), config_(config) {
  SC_HAS_PROCESS(ShiftAdd);
  SC_THREAD(run);
}

void ShiftAdd::run() {
  while (true) {
    const StepToken token = from_adc->read();
    if (!token.step.last) continue;
    wait(config_.period * double(config_.shift_add_cycles));
    done->write(token.job->serial);
  }
}

}  // namespace cimsim
