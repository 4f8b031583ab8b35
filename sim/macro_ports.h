// The typed payloads on a macro's SystemC ports. In the fast mode a token carries only the step
// (timing does not depend on the data); in the accurate mode (a trace window is set) it also
// points at the values of vector 0 of the job for that step, which the modules show as signals.
// The values themselves always come from MacroNumerics (models/macro), the one arithmetic path.
#pragma once

#include <ostream>
#include <vector>

#include "macro/macro_numerics.h"
#include "macro/mvm_job.h"

namespace cimsim {

// A job handed to a macro's DAC: with `probe` (accurate mode), one StepProbe per step.
struct JobToken {
  const MvmJob* job = nullptr;
  const std::vector<StepProbe>* probe = nullptr;
};

// One (row group, phase) step of a job, passed DAC -> crossbar -> ADC bank -> shift-add.
struct StepToken {
  Step step;
  const MvmJob* job = nullptr;
  const StepProbe* probe = nullptr;  // null in the fast mode
};

// sc_fifo prints its contents with these (sc_fifo::print and dump).
inline std::ostream& operator<<(std::ostream& os, const JobToken& t) {
  return os << "job " << (t.job ? t.job->serial : 0);
}
inline std::ostream& operator<<(std::ostream& os, const StepToken& t) {
  return os << "job " << (t.job ? t.job->serial : 0) << " step " << t.step.index << " (group " << t.step.group
            << ", phase " << t.step.phase << ")";
}

}  // namespace cimsim
