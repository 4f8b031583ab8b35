// The DAC digits of the (row group, phase) steps of one lock-step batch, shared by the macros of
// one row tile: they all receive the same input rows (each has its own DACs in hardware), so the
// simulator forms each step's digits once per batch instead of once per macro. Entries are made
// from the SystemC thread (prepare); lookups may then come from several worker threads at once.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <utility>

#include "core/layer_mapping.h"
#include "mvm_job.h"

namespace cimsim {

using DigitMatrix = Eigen::MatrixXf;

class InputDigits {
 public:
  // Digits x_p = (x >> phase * dac_bits) & (2^dac_bits - 1), batch x group.size; computed on the
  // first request of a transaction (not thread-safe), then only looked up (thread-safe).
  const DigitMatrix& get(const MvmJob& job, const RowGroup& group, int group_index, int phase, int dac_bits);

 private:
  uint64_t serial_ = 0;
  bool valid_ = false;
  std::map<std::pair<int, int>, DigitMatrix> digits_;  // by (group, phase) for transaction serial_
};

}  // namespace cimsim
