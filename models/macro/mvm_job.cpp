#include "mvm_job.h"

#include <algorithm>
#include <atomic>

namespace cimsim {

uint64_t next_job_serial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

InputMatrix to_input_matrix(const IntMatrixRef& inputs) {
  // Transpose into column-major uint16 in 64 x 64 blocks (a plain strided cast thrashes the cache).
  constexpr Eigen::Index kBlock = 64;
  InputMatrix out(inputs.rows(), inputs.cols());
  for (Eigen::Index b0 = 0; b0 < inputs.rows(); b0 += kBlock) {
    const Eigen::Index rows = std::min(kBlock, inputs.rows() - b0);
    for (Eigen::Index k0 = 0; k0 < inputs.cols(); k0 += kBlock) {
      const Eigen::Index cols = std::min(kBlock, inputs.cols() - k0);
      out.block(b0, k0, rows, cols) = inputs.block(b0, k0, rows, cols).cast<uint16_t>();
    }
  }
  return out;
}

}  // namespace cimsim
