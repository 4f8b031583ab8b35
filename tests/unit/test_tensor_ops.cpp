// The digital unit's operations on small hand-checked examples.
#include <gtest/gtest.h>

#include <cmath>

#include "network/tensor_ops.h"

namespace cimsim {
namespace {

Tensor ramp(int b, int c, int h, int w) {
  Tensor t(b, c, h, w);
  for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = double(i);
  return t;
}

TEST(TensorOps, QuantizeRoundsHalfToEvenAndClamps) {
  EXPECT_EQ(quantize_input(0.25, 0.5, 4), 0);    // 0.5 -> 0 (even)
  EXPECT_EQ(quantize_input(0.75, 0.5, 4), 2);    // 1.5 -> 2
  EXPECT_EQ(quantize_input(1.25, 0.5, 4), 2);    // 2.5 -> 2
  EXPECT_EQ(quantize_input(-3.0, 0.5, 4), 0);    // clamped low
  EXPECT_EQ(quantize_input(100.0, 0.5, 4), 15);  // clamped to 2^4 - 1
}

TEST(TensorOps, Im2colOrdersRowsByPixelAndColumnsByChannelThenKernel) {
  // 1 image, 2 channels of 3x3 holding 0..17; 2x2 kernel, stride 2, padding 1 -> 2x2 outputs.
  const Tensor t = ramp(1, 2, 3, 3);
  ConvGeometry g{2, 2, 2, 2, 1, 1};
  const IntMatrix rows = im2col_quantized(t, g, 1.0, 8);
  ASSERT_EQ(rows.rows(), 4);
  ASSERT_EQ(rows.cols(), 8);
  // Output pixel (0, 0) covers input rows -1..0, cols -1..0: only (0, 0) is inside.
  const int32_t first[8] = {0, 0, 0, 0, 0, 0, 0, 9};
  for (int k = 0; k < 8; ++k) EXPECT_EQ(rows(0, k), first[k]) << k;
  // Output pixel (1, 1) covers rows 1..2, cols 1..2: channel 0 -> 4 5 7 8, channel 1 -> 13 14 16 17.
  const int32_t last[8] = {4, 5, 7, 8, 13, 14, 16, 17};
  for (int k = 0; k < 8; ++k) EXPECT_EQ(rows(3, k), last[k]) << k;
}

TEST(TensorOps, FlattenQuantizedIsOneRowPerImage) {
  const Tensor t = ramp(2, 1, 2, 2);
  const IntMatrix rows = flatten_quantized(t, 2.0, 2);  // 0..7 / 2 -> 0,0(0.5),1,2(1.5),2,2(2.5),3,3 clamped
  ASSERT_EQ(rows.rows(), 2);
  EXPECT_EQ(rows(0, 1), 0);
  EXPECT_EQ(rows(0, 3), 2);
  EXPECT_EQ(rows(1, 1), 2);
  EXPECT_EQ(rows(1, 3), 3);
}

TEST(TensorOps, AffineAppliesScalesThenBiasPerOutput) {
  Eigen::MatrixXd out(4, 2);  // 1 image, 2x2 pixels, 2 outputs
  out << 1, 10, 2, 20, 3, 30, 4, 40;
  const Tensor t = affine_from_mvm(out, 1, 2, 2, {0.5, 0.25}, 2.0, {1.0, -1.0});
  EXPECT_EQ(t.at(0, 0, 0, 0), 1 * 0.5 * 2.0 + 1.0);
  EXPECT_EQ(t.at(0, 1, 1, 1), 40 * 0.25 * 2.0 - 1.0);
  EXPECT_EQ(t.at(0, 0, 0, 1), 2 * 0.5 * 2.0 + 1.0);
}

TEST(TensorOps, PoolingWindows) {
  const Tensor t = ramp(1, 1, 4, 4);  // 0..15
  ConvGeometry two{2, 2, 2, 2, 0, 0};
  const Tensor m = maxpool(t, two);
  EXPECT_EQ(m.height, 2);
  EXPECT_EQ(m.at(0, 0, 0, 0), 5);
  EXPECT_EQ(m.at(0, 0, 1, 1), 15);
  const Tensor a = avgpool(t, two);
  EXPECT_EQ(a.at(0, 0, 0, 0), (0 + 1 + 4 + 5) / 4.0);
  ConvGeometry padded{3, 3, 2, 2, 1, 1};
  Tensor negative = t;
  for (double& v : negative.data) v -= 100;
  EXPECT_EQ(maxpool(negative, padded).at(0, 0, 0, 0), 5 - 100) << "padding must not win a max";
  const Tensor gap = global_avgpool(t);
  EXPECT_EQ(gap.height, 1);
  EXPECT_EQ(gap.at(0, 0, 0, 0), 7.5);
}

TEST(TensorOps, ReluBatchnormFlattenAdd) {
  Tensor t = ramp(1, 2, 1, 2);
  for (double& v : t.data) v -= 1.5;  // -1.5 -0.5 0.5 1.5
  EXPECT_EQ(relu(t).data, (std::vector<double>{0, 0, 0.5, 1.5}));
  EXPECT_EQ(batchnorm(t, {2, -1}, {1, 0}).data, (std::vector<double>{-2, 0, -0.5, -1.5}));
  const Tensor f = flatten(t);
  EXPECT_EQ(f.channels, 4);
  EXPECT_EQ(f.height, 1);
  EXPECT_EQ(add(t, t).data[3], 3.0);
  EXPECT_THROW(add(t, f), std::invalid_argument);
}

}  // namespace
}  // namespace cimsim

namespace cimsim {
namespace {

TEST(TensorOps, PixelMajorRowsArePermutedImageMajorRows) {
  Tensor t(3, 2, 4, 4);
  for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = double(i % 13);
  const ConvGeometry g{3, 3, 1, 1, 1, 1};
  const IntMatrix image_major = im2col_quantized(t, g, 1.0, 4);
  const IntMatrix pixel_major = im2col_quantized(t, g, 1.0, 4, true);
  const int pixels = 16;
  for (int b = 0; b < 3; ++b)
    for (int p = 0; p < pixels; ++p)
      ASSERT_TRUE(pixel_major.row(p * 3 + b) == image_major.row(b * pixels + p));
  Eigen::MatrixXd out = Eigen::MatrixXd::Random(3 * pixels, 2), permuted(3 * pixels, 2);
  for (int b = 0; b < 3; ++b)
    for (int p = 0; p < pixels; ++p) permuted.row(p * 3 + b) = out.row(b * pixels + p);
  EXPECT_EQ(affine_from_mvm(out, 3, 4, 4, {1, 2}, 0.5, {0, 1}).data,
            affine_from_mvm(permuted, 3, 4, 4, {1, 2}, 0.5, {0, 1}, true).data);
}

TEST(TensorOps, InputMatrixFormsEqualTheIntMatrixForms) {
  // Stride 2, asymmetric padding, values that quantize to every level and clip at both ends.
  Tensor t(5, 3, 7, 6);
  for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = double(int(i * 7 % 41) - 8) * 0.5;
  const ConvGeometry g{3, 2, 2, 2, 1, 0};
  const IntMatrix reference = im2col_quantized(t, g, 0.5, 4, true);
  const InputMatrix direct = im2col_input_matrix(t, g, 0.5, 4);
  ASSERT_EQ(direct.rows(), reference.rows());
  ASSERT_EQ(direct.cols(), reference.cols());
  EXPECT_TRUE(direct.cast<int32_t>() == reference);
  EXPECT_TRUE(flatten_input_matrix(t, 0.5, 4).cast<int32_t>() == flatten_quantized(t, 0.5, 4));
}

TEST(TensorOps, SignedInputsSplitIntoTwoUnsignedPasses) {
  EXPECT_EQ(quantize_signed(-1.25, 0.5, 4), -2);   // -2.5 -> -2 (even)
  EXPECT_EQ(quantize_signed(-100.0, 0.5, 4), -15);  // a sign and 4 magnitude bits
  EXPECT_EQ(quantize_signed(100.0, 0.5, 4), 15);
  for (double t : {-9.0, -1.3, -0.25, 0.0, 0.3, 2.75, 9.0}) {
    const int q = quantize_signed(t, 0.5, 4);
    EXPECT_EQ(quantize_part(t, 0.5, 4, InputPart::kPositive) - quantize_part(t, 0.5, 4, InputPart::kNegative), q);
    EXPECT_GE(quantize_part(t, 0.5, 4, InputPart::kNegative), 0);
    EXPECT_EQ(quantize_part(t, 0.5, 4, InputPart::kUnsigned), quantize_input(t, 0.5, 4));
  }
  Tensor t(2, 2, 5, 5);
  for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = double(int(i * 7 % 23) - 11) * 0.5;
  const ConvGeometry g{3, 3, 1, 1, 1, 1};
  const IntMatrix plus = im2col_quantized(t, g, 0.5, 3, true, InputPart::kPositive);
  const IntMatrix minus = im2col_quantized(t, g, 0.5, 3, true, InputPart::kNegative);
  EXPECT_TRUE(im2col_input_matrix(t, g, 0.5, 3, InputPart::kNegative).cast<int32_t>() == minus);
  EXPECT_TRUE(flatten_input_matrix(t, 0.5, 3, InputPart::kPositive).cast<int32_t>() ==
              flatten_quantized(t, 0.5, 3, InputPart::kPositive));
  EXPECT_EQ(minus.maxCoeff(), 7);
  EXPECT_EQ(plus.maxCoeff(), 7);
  EXPECT_EQ((plus.array() * minus.array()).abs().maxCoeff(), 0);  // one of the two is 0
}

TEST(TensorOps, ConcatJoinsChannelsPerImageAndClipBounds) {
  const Tensor a = ramp(2, 1, 2, 2), b = ramp(2, 2, 2, 2);
  const Tensor c = concat({&a, &b});
  ASSERT_EQ(c.channels, 3);
  EXPECT_EQ(c.at(1, 0, 1, 1), a.at(1, 0, 1, 1));
  EXPECT_EQ(c.at(1, 2, 0, 1), b.at(1, 1, 0, 1));
  EXPECT_EQ(c.at(0, 1, 0, 0), b.at(0, 0, 0, 0));
  const Tensor k = clip(ramp(1, 1, 3, 3), 2.0, 6.0);
  EXPECT_EQ(k.data.front(), 2.0);
  EXPECT_EQ(k.data[4], 4.0);
  EXPECT_EQ(k.data.back(), 6.0);
}

}  // namespace
}  // namespace cimsim
