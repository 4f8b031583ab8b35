// The crossbar's fast paths must give the same bits as the plain definitions they replace.
#include <gtest/gtest.h>

#include <random>

#include "../support/test_configs.h"
#include "device/array_programming.h"
#include "integer_gemm.h"

namespace cimsim {
namespace {

Eigen::MatrixXf random_digits(int rows, int cols, int max_digit, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(0, max_digit);
  Eigen::MatrixXf m(rows, cols);
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) m(r, c) = float(d(gen));
  return m;
}

TEST(IntegerGemm, EqualsEigenOnIntegerOperands) {
  for (int rows : {1, 31, 32, 70, 256}) {
    for (int cols : {1, 7, 8, 9, 63}) {
      const Eigen::MatrixXf d = random_digits(rows, 64, 15, unsigned(rows * 100 + cols));
      Eigen::MatrixXf g = random_digits(64, cols, 6, unsigned(cols)).array() - 3.0f;
      Eigen::MatrixXf expected = d * g, y;
      integer_gemm(d, g, y);
      ASSERT_TRUE(y == expected) << rows << " x " << cols;
    }
  }
}

// Device models on: the scaled float path (used while sums stay below 2^24) must reproduce the
// exact double path bit for bit.
TEST(IntegerGemm, ScaledConductancePathEqualsExactDoublePath) {
  testing::HwParams p;
  p.rows = 64;
  p.rows_per_cycle = 64;
  p.cols = 48;
  p.device_extra = "  program_lognormal_sigma: 0.1\n  stuck_at_0: 0.02\n  drift_nu: 0.05\n  drift_t: 100\n";
  const HwConfig hw = testing::make_hw(p);
  std::mt19937 gen(5);
  std::uniform_int_distribution<int> w(-7, 7);
  Eigen::MatrixXi weights(64, 8);
  for (int k = 0; k < 64; ++k)
    for (int n = 0; n < 8; ++n) weights(k, n) = w(gen);
  const LayerMapping mapping = map_layer(64, 8, plain_row_groups(64, 64), hw.macro);
  const TileConductances tile = program_tile(hw, weights, mapping, 0, 11, 0);
  ASSERT_GT(tile.programmed_scaled.size(), 0);
  ASSERT_TRUE((tile.programmed_scaled.cast<double>() * std::ldexp(1.0, -kConductanceFractionBits)).eval() ==
              tile.programmed);

  const Eigen::MatrixXf d = random_digits(100, 64, 1, 3);
  Eigen::MatrixXf fast;
  integer_gemm(d, tile.programmed_scaled, fast);
  fast *= float(std::ldexp(1.0, -kConductanceFractionBits));
  const Eigen::MatrixXf exact = (d.cast<double>() * tile.programmed).cast<float>();
  EXPECT_TRUE(fast == exact);
  EXPECT_FALSE(exact == (d * tile.ideal));  // the device models did change the sums
}

}  // namespace
}  // namespace cimsim
