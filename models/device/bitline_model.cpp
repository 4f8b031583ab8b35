#include "device/bitline_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cimsim {

namespace {

// The usual slice of vectors (models/macro/macro_numerics.h kSliceVectors).
constexpr Eigen::Index kFullSlice = 32;

// J and C of bit line b for `count` vectors (digits count x rows, column-major). With W > 0 (count
// == W, fixed at compile time) the running sums stay in registers across the rows; W == 0 sums in
// J_out and C_out. The same operations in the same order either way.
template <Eigen::Index W>
void running_sums(const float* digits, Eigen::Index count, Eigen::Index rows,
                  const Eigen::Ref<const Eigen::MatrixXd>& sides, Eigen::Index b, double* J_out, double* C_out) {
  constexpr bool fixed = W > 0;
  const Eigen::Index n = fixed ? W : count;
  double J_local[fixed ? W : 1] = {}, C_local[fixed ? W : 1] = {};
  double* J = fixed ? J_local : J_out;
  double* C = fixed ? C_local : C_out;
  if (!fixed) {
    std::fill(J, J + n, 0.0);
    std::fill(C, C + n, 0.0);
  }
  for (Eigen::Index k = 0; k < rows; ++k) {
    const double g = sides(k, b);
    const float* x = digits + k * n;
    for (Eigen::Index v = 0; v < n; ++v) {
      J[v] += double(x[v]) * g;
      C[v] += J[v] * J[v];
    }
  }
  if (fixed) {
    std::copy(J, J + n, J_out);
    std::copy(C, C + n, C_out);
  }
}

}  // namespace

void bitline_sums(const Eigen::MatrixXf& digits, const Eigen::Ref<const Eigen::MatrixXd>& sides, bool analog,
                  double wire_resistance, int segments_after, Eigen::MatrixXf& y, Eigen::MatrixXd* current) {
  const Eigen::Index count = digits.rows(), rows = digits.cols(), bitlines = sides.cols();
  const Eigen::Index signals = analog ? bitlines / 2 : bitlines;
  y.resize(count, signals);
  if (current) current->resize(count, signals);
  if (wire_resistance == 0) {
    // No drop: value = J (J - 0 * C == J), and J is a product of integer digits and fixed-point
    // conductances, exact in double in any order, so one GEMM gives the loop's sums bit for bit.
    const Eigen::MatrixXd sums = digits.cast<double>() * sides;
    if (analog) {
      for (Eigen::Index q = 0; q < signals; ++q) {
        y.col(q) = (sums.col(2 * q) - sums.col(2 * q + 1)).cast<float>();
        if (current) current->col(q) = sums.col(2 * q).cwiseAbs() + sums.col(2 * q + 1).cwiseAbs();
      }
    } else {
      y = sums.cast<float>();
      if (current) *current = sums.cwiseAbs();
    }
    return;
  }
  const std::size_t n = std::size_t(count);
  std::vector<double> J(n), C(n), plus(n), plus_current(n);
  const double after = double(segments_after);
  for (Eigen::Index b = 0; b < bitlines; ++b) {
    if (count == kFullSlice)
      running_sums<kFullSlice>(digits.data(), count, rows, sides, b, J.data(), C.data());
    else
      running_sums<0>(digits.data(), count, rows, sides, b, J.data(), C.data());
    const bool second_side = analog && b % 2 == 1;
    const Eigen::Index signal = analog ? b / 2 : b;
    for (Eigen::Index v = 0; v < count; ++v) {
      const double j = J[std::size_t(v)];
      const double value = j - wire_resistance * (C[std::size_t(v)] + after * j * j);
      if (analog && !second_side) {
        plus[std::size_t(v)] = value;
        plus_current[std::size_t(v)] = std::abs(j);
        continue;
      }
      y(v, signal) = float(second_side ? plus[std::size_t(v)] - value : value);
      if (current) (*current)(v, signal) = second_side ? plus_current[std::size_t(v)] + std::abs(j) : std::abs(j);
    }
  }
}

}  // namespace cimsim
