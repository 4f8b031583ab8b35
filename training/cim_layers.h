// The trainable layers that map 1:1 onto bundle layers (docs/model-bundle.md):
//   CimConv2d / CimLinear: the CIM layers. Unquantized (stage fp32) they are an ordinary convolution /
//     linear layer. Quantized (stage qat) they compute exactly the bundle's arithmetic:
//       x_int = q(x, s_x), w_int = round(w / s_w) clamped, out = conv(x_int, w_int),
//       z = ((out * s_w[o]) * s_x) + bias[o]
//     with LSQ quantizers (lsq_quantizer.h) for x (unsigned, input_bits) and w (signed, weight_bits,
//     per output channel). The convolution of integers is exact in double (and in float while sums stay
//     below 2^24), so in double this is the simulator's ideal-ADC result, operation for operation.
//   FoldableBatchNorm: batch norm trained as usual; in eval mode it applies the folded affine the bundle
//     stores, y = x * scale[c] + shift[c], scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
// Pooling functions that sum windows in the bundle's documented order, so that a double-precision
// forward reproduces the simulator's digital unit bit for bit.
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <optional>

#include "cim_mvm.h"
#include "lsq_quantizer.h"

namespace cimsim::train {

struct QuantBits {
  int weight = 4;
  int input = 4;
  bool input_signed = false;  // the layer's inputs are signed (two passes, docs/numerics.md section 11)
};

// A grouped convolution's weights [N, C_in / G, k_h, k_w] as the dense block-diagonal [N, C_in, k_h, k_w]
// the macros hold (zeros outside each output's group); differentiable. groups == 1: w itself.
torch::Tensor block_diagonal(const torch::Tensor& w, int64_t groups);
// The inverse: the diagonal blocks of a dense [N, C_in, k_h, k_w] weight.
torch::Tensor diagonal_blocks(const torch::Tensor& dense, int64_t groups);

// Stage cim: a CIM layer's product runs on the simulated macros (cim_mvm.h) instead of as an exact
// integer product. The ADC interval is the layer's parameter "adc_interval" in units of the
// largest partial sum Ymax (lo = adc_interval[0] * unit, hi = adc_interval[1] * unit, unit = Ymax),
// so that one learning rate suits every array size; learned LSQ-style. Noise is injected in
// training mode only; `exact` evaluates in double in the contract's order (the simulator's bits;
// for evaluation and parity), else the fast order.
struct CimHardware {
  std::shared_ptr<const CimMvm> mvm;
  CimNoise noise;
  bool exact = false;
  double unit = 1;  // MAC units per adc_interval unit
};

// out [M, N] of the CIM product of integer-valued rows [M, K] and weights [K, N] through `hw`. Signed
// rows run as two passes, max(rows, 0) and max(-rows, 0), subtracted (signed_product).
torch::Tensor cim_product(const CimHardware& hw, const torch::Tensor& rows, const torch::Tensor& weights,
                          const torch::Tensor& adc_interval, bool training, int64_t samples);

// out [B oh ow, N] (rows layout) of the CIM convolution of integer-valued x [B, C_in, H, W] with weights
// [C_in kh kw, N] through `hw`.
torch::Tensor cim_conv_product(const CimHardware& hw, const torch::Tensor& x, const torch::Tensor& weights,
                               const ConvGeometry& geometry, const torch::Tensor& adc_interval,
                               bool training);

// What a CIM layer adds to its torch layer (a convolution or a linear layer): the LSQ quantizers,
// the learned ADC interval, stage cim's hardware, and the dequantization of the integer product.
class CimLayer {
 public:
  virtual ~CimLayer() = default;
  // The torch layer's float weight and bias (undefined without a bias).
  virtual torch::Tensor& float_weight() = 0;
  virtual torch::Tensor& float_bias() = 0;
  // The integer weights round(w / s_w) clamped, in the float weight's shape.
  torch::Tensor integer_weight() { return weight_quantizer->integers(float_weight()); }
  bool input_signed = false;

  LsqQuantizer weight_quantizer{nullptr}, input_quantizer{nullptr};
  bool quantized = false;
  torch::Tensor adc_interval;             // [lo, hi] / hardware.unit (stage cim)
  CimHardware hardware;                   // set: stage cim
  std::optional<AdcInterval> bundle_adc;  // the interval of the bundle it was loaded from (MAC units)

 protected:
  // Registers weight_quantizer, input_quantizer and adc_interval on `module` under those names.
  void register_parts(torch::nn::Module& module, int outputs, QuantBits bits);
  // ((product * s_w[o]) * s_x) + bias[o] for the layer input x, one rounding per operation, in this
  // order (dequantize.h): [B, N, L] from a product in rows layout [B * L, N] or channels-first.
  torch::Tensor dequantize(const torch::Tensor& product, const torch::Tensor& x, bool rows_layout);
};

class CimConv2dImpl : public torch::nn::Module, public CimLayer {
 public:
  CimConv2dImpl(int in_channels, int out_channels, std::array<int, 2> kernel, std::array<int, 2> stride,
                std::array<int, 2> padding, bool bias, QuantBits bits, int groups = 1);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor& float_weight() override { return conv->weight; }
  torch::Tensor& float_bias() override { return conv->bias; }

  torch::ExpandingArray<2> stride, padding;
  int64_t groups = 1;
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(CimConv2d);

class CimLinearImpl : public torch::nn::Module, public CimLayer {
 public:
  CimLinearImpl(int in_features, int out_features, bool bias, QuantBits bits);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor& float_weight() override { return linear->weight; }
  torch::Tensor& float_bias() override { return linear->bias; }

  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(CimLinear);

class FoldableBatchNormImpl : public torch::nn::Module {
 public:
  explicit FoldableBatchNormImpl(int channels, double eps = 1e-5, double momentum = 0.1);
  torch::Tensor forward(const torch::Tensor& x);
  // The folded per-channel affine (eval mode's), in the parameters' dtype.
  torch::Tensor fold_scale() const;
  torch::Tensor fold_shift() const;
  // Makes the eval-mode affine exactly y = x * scale + shift (mean 0, var 1, eps 0).
  void set_folded(const torch::Tensor& scale, const torch::Tensor& shift);

  torch::Tensor weight, bias, running_mean, running_var, eps;  // eps: a buffer, so checkpoints keep it
  double momentum;
};
TORCH_MODULE(FoldableBatchNorm);

// Window sums in row-major window order, then divided by k_h * k_w (no padding).
torch::Tensor avgpool_ordered(const torch::Tensor& x, std::array<int, 2> kernel, std::array<int, 2> stride);
// Sum over H x W in row-major order, divided by H * W: [B, C, H, W] -> [B, C, 1, 1].
torch::Tensor global_avgpool_ordered(const torch::Tensor& x);

}  // namespace cimsim::train
