// The typed payloads on a macro's SystemC ports. In the fast mode a token carries only the step
// (timing does not depend on the data); in the accurate mode (a trace window is set) it also
// points at the values of vector 0 of the job for that step, which the modules show as signals.
// The values themselves always come from MacroNumerics (models/macro), the one arithmetic path.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "macro/macro_numerics.h"
#include "macro/mvm_job.h"

namespace cimsim {

// A job handed to a macro's DAC, by its serial number (MvmJob::serial); with `probe` (accurate
// mode), one StepProbe per step, owned by the layer engine and unchanged until the job is done.
struct JobToken {
  uint64_t serial = 0;
  const std::vector<StepProbe>* probe = nullptr;
};

// One (row group, phase) step of a job, passed DAC -> crossbar -> ADC bank -> shift-add.
struct StepToken {
  Step step;
  uint64_t serial = 0;
  const StepProbe* probe = nullptr;  // null in the fast mode
};

// sc_fifo prints its contents with these (sc_fifo::print and dump).
inline std::ostream& operator<<(std::ostream& os, const JobToken& t) { return os << "job " << t.serial; }
inline std::ostream& operator<<(std::ostream& os, const StepToken& t) {
  return os << "job " << t.serial << " step " << t.step.index << " (group " << t.step.group << ", phase "
            << t.step.phase << ")";
}

}  // namespace cimsim
