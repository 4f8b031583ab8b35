// The digital unit's arithmetic between CIM layers (docs/model-bundle.md, "Layer types"): input
// quantization, im2col, the per-channel affine after an MVM, ReLU, pooling, flatten and residual
// add, on a batch of images in float64. Plain C++ shared by the SystemC network runner and the
// trainer's parity checks; every operation's evaluation order is fixed so results are exact
// functions of their inputs.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "core/int_matrix.h"
#include "data/dataset.h"

namespace cimsim {

// A batch of activations: [batch, channels, height, width] in C order (a vector [F] is F x 1 x 1).
struct Tensor {
  int batch = 0, channels = 0, height = 1, width = 1;
  std::vector<double> data;

  Tensor() = default;
  Tensor(int b, int c, int h, int w)
      : batch(b), channels(c), height(h), width(w), data(std::size_t(b) * c * h * w) {}
  std::size_t per_image() const { return std::size_t(channels) * height * width; }
  double& at(int b, int c, int y, int x) {
    return data[((std::size_t(b) * channels + c) * height + y) * width + x];
  }
  double at(int b, int c, int y, int x) const {
    return data[((std::size_t(b) * channels + c) * height + y) * width + x];
  }
};

struct ConvGeometry {
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int out_h(int in_h) const { return (in_h + 2 * pad_h - kernel_h) / stride_h + 1; }
  int out_w(int in_w) const { return (in_w + 2 * pad_w - kernel_w) / stride_w + 1; }
};

// Images [first, first + count) of `data` as the network input: (v - mean[c]) / std[c] in double,
// v = pixel / 255 or the float value (docs/model-bundle.md, "Images").
Tensor normalised_images(const data::Dataset& data, int64_t first, int count, const std::vector<double>& mean,
                         const std::vector<double>& std);

// q(t, s) = min(max(round_half_even(t / s), 0), 2^bits - 1), element by element.
int32_t quantize_input(double t, double scale, int bits);
// A layer's input as its DACs see it. Unsigned: q(t, s). A signed layer (docs/numerics.md section
// 11) quantizes to q_s(t, s) = min(max(round_half_even(t / s), -(2^bits - 1)), 2^bits - 1) and runs
// two passes: kPositive drives max(q_s, 0), kNegative max(-q_s, 0).
enum class InputPart { kUnsigned, kPositive, kNegative };
int32_t quantize_signed(double t, double scale, int bits);
int32_t quantize_part(double t, double scale, int bits, InputPart part);

// Quantized im2col: one row per output pixel, one column per (c_in, k_h, k_w) in that order;
// padded positions are 0 (= q(0)). Rows are image-major, (b, oy, ox), or with pixel_major
// (oy, ox, b): pixel p of image b at row p * batch + b, as the lock-step transactions take them.
IntMatrix im2col_quantized(const Tensor& input, const ConvGeometry& g, double scale, int bits,
                           bool pixel_major = false, InputPart part = InputPart::kUnsigned);
// Quantized rows for a linear layer: one row per image, the image's values in C order.
IntMatrix flatten_quantized(const Tensor& input, double scale, int bits, InputPart part = InputPart::kUnsigned);
// The same two, pixel-major, straight into the simulator's column-major uint16 input form
// (bits <= 16), computed in parallel (OpenMP); the values equal the IntMatrix versions'.
InputMatrix im2col_input_matrix(const Tensor& input, const ConvGeometry& g, double scale, int bits,
                                InputPart part = InputPart::kUnsigned);
InputMatrix flatten_input_matrix(const Tensor& input, double scale, int bits,
                                 InputPart part = InputPart::kUnsigned);

// After the MVM: z = ((out * weight_scale[o]) * input_scale) + bias[o], in double. `out` has one
// row per output pixel in im2col order; the result is [batch, outputs, out_h, out_w].
// (`out` rows may be image-major or, with pixel_major, pixel-major as for im2col_quantized.)
Tensor affine_from_mvm(const Eigen::MatrixXd& out, int batch, int out_h, int out_w,
                       const std::vector<double>& weight_scale, double input_scale,
                       const std::vector<double>& bias, bool pixel_major = false);

Tensor relu(const Tensor& t);
// y = t * scale[c] + shift[c]
Tensor batchnorm(const Tensor& t, const std::vector<double>& scale, const std::vector<double>& shift);
// Max over each window; padded positions never win (they count as -infinity).
Tensor maxpool(const Tensor& t, const ConvGeometry& g);
// Sum over the window in row-major order, divided by kernel_h * kernel_w; no padding.
Tensor avgpool(const Tensor& t, const ConvGeometry& g);
// Sum over H x W in row-major order, divided by H * W: [B, C, H, W] -> [B, C, 1, 1].
Tensor global_avgpool(const Tensor& t);
// [B, C, H, W] -> [B, C*H*W, 1, 1] (the data order is unchanged).
Tensor flatten(const Tensor& t);
Tensor add(const Tensor& a, const Tensor& b);
// Joins the inputs along the channels (or features): [B, C_1 + C_2 + ..., H, W].
Tensor concat(const std::vector<const Tensor*>& parts);
// min(max(t, lo), hi), element by element.
Tensor clip(const Tensor& t, double lo, double hi);

}  // namespace cimsim
