// The DAC digits of the (row group, phase) steps of one lock-step batch, shared by the macros of
// one row tile: they all receive the same input rows (each has its own DACs in hardware), so the
// simulator forms each step's digits once per batch instead of once per macro. prepare() makes
// every step's digits for a job (in parallel); lookups may then come from several threads.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <utility>

#include "byte_gemm.h"
#include "core/layer_mapping.h"
#include "mvm_job.h"

namespace cimsim {

using DigitMatrix = Eigen::MatrixXf;

// One step's digits: as floats (batch x group.size) and, when the layer uses the byte kernel for
// ideal partial sums, packed for it.
struct StepDigits {
  DigitMatrix values;
  PackedDigits packed;
};

class InputDigits {
 public:
  explicit InputDigits(bool packed) : packed_(packed) {}

  // Digits x_p = (x >> phase * dac_bits) & (2^dac_bits - 1), batch x group.size; computed on the
  // first request of a transaction unless prepared (not thread-safe), then only looked up
  // (thread-safe).
  const StepDigits& get(const MvmJob& job, const RowGroup& group, int group_index, int phase, int dac_bits);
  // Computes the digits of every (group, phase) of `tile` for `job`, OpenMP threads sharing them.
  void prepare(const MvmJob& job, const LayerMapping& mapping, const RowTile& tile, int phases, int dac_bits);

 private:
  // The entry for (group_index, phase) of `job`, and whether it was just created (empty).
  std::pair<StepDigits*, bool> slot(const MvmJob& job, int group_index, int phase);
  void fill(StepDigits& d, const MvmJob& job, const RowGroup& group, int phase, int dac_bits) const;
  uint64_t serial_ = 0;
  bool valid_ = false;
  bool packed_;
  std::map<std::pair<int, int>, StepDigits> digits_;  // by (group, phase) for transaction serial_
};

}  // namespace cimsim
