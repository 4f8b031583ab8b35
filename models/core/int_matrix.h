// Integer matrices of quantized vectors. IntMatrix: row-major int32, one vector per row (the
// simulator's inputs X, im2col rows). InputMatrix: the same vectors as the input registers hold
// them, unsigned, at most 16 bits, one column per input row so that a row group's inputs for a
// whole batch are contiguous.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace cimsim {

using IntMatrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using InputMatrix = Eigen::Matrix<uint16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
// A row-major int32 matrix in place: an IntMatrix, or a caller's buffer (a NumPy array) uncopied.
using IntMatrixRef = Eigen::Ref<const IntMatrix>;

}  // namespace cimsim
