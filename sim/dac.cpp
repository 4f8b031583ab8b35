#include "dac.h"

namespace cimsim {

Dac::Dac(sc_core::sc_module_name name, DacConfig config)
    : sc_core::sc_module(name), config_(std::move(config)) {
  SC_HAS_PROCESS(Dac);
  SC_THREAD(run);
}

void Dac::run() {
  while (true) {
    const JobToken job = jobs->read();
    for (const Step& step : config_.steps) {
      const StepProbe* probe = job.probe ? &(*job.probe)[std::size_t(step.index)] : nullptr;
      to_array->write(StepToken{step, job.serial, probe});
    }
  }
}

}  // namespace cimsim
