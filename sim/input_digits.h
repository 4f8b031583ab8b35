// The DAC digits of one (row group, phase) step for a whole lock-step batch, shared by the
// macros of one row tile: they all receive the same input rows (each has its own DACs in
// hardware), so the simulator forms the digits once per step instead of once per macro.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "core/layer_mapping.h"
#include "mvm_job.h"

namespace cimsim {

using DigitMatrix = Eigen::MatrixXf;

class InputDigits {
 public:
  // Digits x_p = (x >> phase * dac_bits) & (2^dac_bits - 1), batch x group.size.
  const DigitMatrix& get(const MvmJob& job, const RowGroup& group, int group_index, int phase, int dac_bits);

 private:
  uint64_t serial_ = 0;
  bool valid_ = false;
  int group_ = -1, phase_ = -1;
  DigitMatrix digits_;
};

}  // namespace cimsim
