// The DAC digits of a job's (row group, phase) steps for a slice of its vectors. The macros of
// one row tile receive the same input rows (each has its own DACs in hardware), so the simulator
// forms each step's digits once per slice and shares them among those macros. A cache, not
// thread-safe: each thread converting slices keeps its own (for one pass of a layer). It holds
// one entry per (row group, phase), recomputed in place when the job or the slice changes, so
// its memory is not freed and taken again for every job (that made glibc's heap shrink and grow,
// and the page-table flushes cost bench_mvm a fifth of its time on two cores).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "byte_gemm.h"
#include "mapping/layer_mapping.h"
#include "mvm_job.h"

namespace cimsim {

using DigitMatrix = Eigen::MatrixXf;

// One step's digits for `count` vectors: as floats (count x group.size) for the float and double
// kernels, packed (vectors 0..count-1 of the slice) for the byte kernel, and per row the vectors
// whose digit is not 0 (the energy model's nonzero row drives).
struct StepDigits {
  DigitMatrix values;
  PackedDigits packed;
  std::vector<int32_t> nonzero;  // per row of the group
};

// Which forms of the digits a macro needs (the nonzero counts always come).
struct DigitForms {
  bool values = true;
  bool packed = false;
};

class InputDigits {
 public:
  // Digits x_p = (x >> phase * dac_bits) & (2^dac_bits - 1) of job vectors [first, first + count)
  // over `group`'s rows in the `forms` asked for; computed on the first request for (job, first).
  // The job's serial must not be 0 (std::logic_error).
  const StepDigits& get(const MvmJob& job, const RowGroup& group, int group_index, int phase, int dac_bits,
                        int first, int count, DigitForms forms);

 private:
  struct Entry {
    uint64_t serial = 0;  // the job it holds (0: none)
    int first = -1;       // its first vector
    DigitForms forms{false, false};  // the forms digits holds
    StepDigits digits;
  };
  std::map<std::pair<int, int>, Entry> entries_;  // by (group, phase)
};

}  // namespace cimsim
