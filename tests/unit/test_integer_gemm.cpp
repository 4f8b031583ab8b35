// The crossbar's fast paths must give the same bits as the plain definitions they replace.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "../support/test_configs.h"
#include "device/array_programming.h"
#include "macro/byte_gemm.h"
#include "macro/integer_gemm.h"

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

// The byte kernels (the portable loops, and AVX-512 VNNI where the CPU has it), float and int32
// output: any batch slice of 32, any depth (padded quads), any column count, the extreme digits
// (255) and signed levels (+-127).
TEST(ByteGemm, EqualsIntegerGemmOnEverySlice) {
  std::vector<ByteKernel> kernels = {ByteKernel::kPortable};
  if (byte_kernel_best() != ByteKernel::kPortable) kernels.push_back(byte_kernel_best());
  std::printf("byte kernels tested: %s%s\n", byte_kernel_name(kernels.front()),
              kernels.size() > 1 ? ", AVX-512 VNNI" : " (this CPU has no AVX-512 VNNI)");
  for (int dac_bits : {1, 4, 8}) {
    for (int depth : {1, 3, 9, 64, 130}) {
      for (int cols : {1, 8, 13, 64}) {
        const int batch = 77;
        std::mt19937 gen(unsigned(dac_bits * 1000 + depth * 10 + cols));
        std::uniform_int_distribution<int> x(0, 65535), level(-127, 127);
        std::vector<std::vector<uint16_t>> inputs(static_cast<std::size_t>(depth),
                                                  std::vector<uint16_t>(batch, 0));
        std::vector<const uint16_t*> columns;
        for (auto& col : inputs) {
          for (auto& v : col) v = uint16_t(x(gen));
          columns.push_back(col.data());
        }
        const int shift = 3, mask = (1 << dac_bits) - 1;
        Eigen::MatrixXf d(batch, depth), g(depth, cols);
        for (int k = 0; k < depth; ++k)
          for (int b = 0; b < batch; ++b)
            d(b, k) = float((inputs[std::size_t(k)][std::size_t(b)] >> shift) & mask);
        for (int k = 0; k < depth; ++k)
          for (int c = 0; c < cols; ++c) g(k, c) = float(level(gen));
        g(0, 0) = 127;
        g(depth - 1, cols - 1) = -127;
        ASSERT_TRUE(byte_gemm_fits(dac_bits, g));
        const PackedDigits pd = pack_digits(columns, batch, shift, mask);
        const PackedLevels pl = pack_levels(g);
        for (ByteKernel kernel : kernels) {
          for (int first = 0; first < batch; first += 32) {
            const int count = std::min(32 + (first == 0 ? 32 : 0), batch - first);
            Eigen::MatrixXf y, expected;
            IntSums sums;
            byte_gemm(pd, first, count, pl, y, kernel);
            byte_gemm(pd, first, count, pl, sums, kernel);
            integer_gemm(d.middleRows(first, count), g, expected);
            ASSERT_TRUE(y == expected)
                << byte_kernel_name(kernel) << " " << dac_bits << " " << depth << " " << cols << " " << first;
            ASSERT_TRUE(sums.cast<float>() == expected) << byte_kernel_name(kernel);
            if (first == 0) first += 32;
          }
        }
      }
    }
  }
  Eigen::MatrixXf too_big = Eigen::MatrixXf::Constant(2, 2, 128.0f);
  EXPECT_FALSE(byte_gemm_fits(8, too_big));
  EXPECT_FALSE(byte_gemm_fits(9, Eigen::MatrixXf::Ones(2, 2)));
}

}  // namespace
}  // namespace cimsim
