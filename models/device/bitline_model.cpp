#include "device/bitline_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cimsim {

namespace {

// The usual slice of vectors (models/macro/macro_numerics.h kSliceVectors).
constexpr Eigen::Index kFullSlice = 32;

// J and C of bit line b for W vectors (digits W x rows, column-major) with W fixed at compile time,
// so the running sums stay in registers across the rows; the same operations in the same order as
// the general loop.
template <Eigen::Index W>
void running_sums(const float* digits, Eigen::Index rows, const Eigen::Ref<const Eigen::MatrixXd>& sides,
                  Eigen::Index b, double* J_out, double* C_out) {
  double J[W] = {}, C[W] = {};
  for (Eigen::Index k = 0; k < rows; ++k) {
    const double g = sides(k, b);
    const float* x = digits + k * W;
    for (Eigen::Index v = 0; v < W; ++v) {
      J[v] += double(x[v]) * g;
      C[v] += J[v] * J[v];
    }
  }
  std::copy(J, J + W, J_out);
  std::copy(C, C + W, C_out);
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
    if (count == kFullSlice) {
      running_sums<kFullSlice>(digits.data(), rows, sides, b, J.data(), C.data());
    } else {
      std::fill(J.begin(), J.end(), 0.0);
      std::fill(C.begin(), C.end(), 0.0);
      for (Eigen::Index k = 0; k < rows; ++k) {
        const double g = sides(k, b);
        const float* x = digits.col(k).data();
        for (Eigen::Index v = 0; v < count; ++v) {
          J[std::size_t(v)] += double(x[v]) * g;
          C[std::size_t(v)] += J[std::size_t(v)] * J[std::size_t(v)];
        }
      }
    }
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
