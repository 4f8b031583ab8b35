// What flows through a macro: one MVM job carries a batch of input vectors (lock-step replicas
// of the chip, docs/timing.md); one Step is a (row group, input phase) of that job.
#pragma once

#include <cstdint>

#include "core/int_matrix.h"

namespace cimsim {

struct MvmJob {
  const InputMatrix* inputs = nullptr;  // all vectors x K; this job covers rows [first_vector, +batch)
  int64_t first_vector = 0;             // global index of vector 0
  int batch = 0;                        // vectors in this transaction (lock-step replicas)
  uint64_t serial = 0;                  // distinct for every transaction of the process (next_job_serial)
  // The identity of vector i of the job, which keys its noise draws: first_id + i * id_stride.
  // `cimsim mvm` uses the row index (first_id = first_vector, stride 1); the network runner
  // uses (image index, output pixel) so draws do not depend on how images are batched.
  int64_t first_id = 0;
  int64_t id_stride = 1;
  // 1: the x- pass of a layer with signed inputs (docs/numerics.md section 11), whose read and
  // converter noise draws take phase index p + phases in place of p; else 0.
  int pass = 0;
  uint64_t id(int64_t i) const { return uint64_t(first_id + i * id_stride); }
};

// A serial number no other job of this process has had (thread-safe).
uint64_t next_job_serial();

// Converts B x K inputs to the engine's column-major uint16 form (values must fit 16 bits).
InputMatrix to_input_matrix(const IntMatrixRef& inputs);

struct Step {
  int index = 0;        // position in the macro's step sequence
  int local_group = 0;  // row group within the macro's row tile
  int group = 0;        // row group index in the layer
  int phase = 0;
  bool last = false;
  bool operator==(const Step& o) const {
    return index == o.index && local_group == o.local_group && group == o.group && phase == o.phase &&
           last == o.last;
  }
};

}  // namespace cimsim
