// Row-major int32 matrices: one quantized vector per row (the simulator's inputs X, im2col rows).
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace cimsim {

using IntMatrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace cimsim
