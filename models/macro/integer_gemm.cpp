// Compiled with -ffp-contract=fast (sim/CMakeLists.txt): products and sums here are exact
// integers, so contraction into FMA cannot change a result.
#include "integer_gemm.h"

#include <algorithm>
#include <cstring>

namespace cimsim {
namespace {

typedef float Lanes __attribute__((vector_size(64)));  // 16 floats: one AVX-512 register
constexpr int kRows = 32;                              // two registers of rows
constexpr int kCols = 8;                               // 16 accumulators in registers

template <int Cols>
void block(const float* d, Eigen::Index ldd, int depth, const float* g, Eigen::Index ldg, float* y,
           Eigen::Index ldy) {
  Lanes low[Cols], high[Cols];
  for (int j = 0; j < Cols; ++j) low[j] = high[j] = Lanes{};
  for (int k = 0; k < depth; ++k) {
    Lanes d0, d1;
    std::memcpy(&d0, d + k * ldd, sizeof(Lanes));
    std::memcpy(&d1, d + k * ldd + 16, sizeof(Lanes));
    for (int j = 0; j < Cols; ++j) {
      const float s = g[k + j * ldg];
      low[j] += d0 * s;
      high[j] += d1 * s;
    }
  }
  for (int j = 0; j < Cols; ++j) {
    std::memcpy(y + j * ldy, &low[j], sizeof(Lanes));
    std::memcpy(y + j * ldy + 16, &high[j], sizeof(Lanes));
  }
}

template <int Cols>
void column_strip(const float* d, Eigen::Index ldd, Eigen::Index full_rows, int depth, const float* g,
                  Eigen::Index ldg, float* y, Eigen::Index ldy) {
  for (Eigen::Index r = 0; r < full_rows; r += kRows) block<Cols>(d + r, ldd, depth, g, ldg, y + r, ldy);
}

using Strip = void (*)(const float*, Eigen::Index, Eigen::Index, int, const float*, Eigen::Index, float*,
                       Eigen::Index);
// The strip kernel for 1..kCols columns, so the accumulators stay in registers.
constexpr Strip kStrips[kCols] = {column_strip<1>, column_strip<2>, column_strip<3>, column_strip<4>,
                                  column_strip<5>, column_strip<6>, column_strip<7>, column_strip<8>};

}  // namespace

void integer_gemm(const Eigen::Ref<const Eigen::MatrixXf>& digits,
                  const Eigen::Ref<const Eigen::MatrixXf>& levels, Eigen::MatrixXf& y) {
  const Eigen::Index rows = digits.rows(), cols = levels.cols();
  const int depth = int(digits.cols());
  y.resize(rows, cols);
  const Eigen::Index full_rows = rows - rows % kRows;
  if (full_rows > 0) {
    for (Eigen::Index c = 0; c < cols; c += kCols) {
      const float* g = levels.data() + c * levels.outerStride();
      float* out = y.data() + c * rows;
      const Strip strip = kStrips[std::min<Eigen::Index>(kCols, cols - c) - 1];
      strip(digits.data(), digits.outerStride(), full_rows, depth, g, levels.outerStride(), out, rows);
    }
  }
  if (full_rows < rows) {
    y.bottomRows(rows - full_rows).noalias() = digits.bottomRows(rows - full_rows) * levels;
  }
}

}  // namespace cimsim
