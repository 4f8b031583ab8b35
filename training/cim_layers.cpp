#include "cim_layers.h"

#include <algorithm>

#include "dequantize.h"

namespace cimsim::train {

namespace F = torch::nn::functional;

namespace {

// The interval in double, in both orders: lo = adc_interval[0] * unit as the export computes it.
torch::Tensor interval_of(const CimHardware& hw, const torch::Tensor& adc_interval) {
  return adc_interval.to(torch::kDouble) * hw.unit;
}

// A signed layer's two passes (docs/numerics.md section 11): product(max(x, 0)) - product(max(-x, 0)),
// saturated as the accumulator is; an unsigned layer's one product.
template <typename Product>
torch::Tensor signed_product(const CimHardware& hw, const torch::Tensor& x, bool input_signed, Product product) {
  if (!input_signed) return product(x);
  const torch::Tensor out = product(torch::relu(x)) - product(torch::relu(-x));
  const double bound = hw.mvm->accumulator_bound();
  return bound > 0 ? out.clamp(-bound, bound - 1.0) : out;
}

}  // namespace

torch::Tensor block_diagonal(const torch::Tensor& w, int64_t groups) {
  if (groups == 1) return w;
  const int64_t per_out = w.size(0) / groups, per_in = w.size(1);
  std::vector<torch::Tensor> blocks;
  for (int64_t g = 0; g < groups; ++g) {
    const torch::Tensor part = w.narrow(0, g * per_out, per_out);
    blocks.push_back(torch::constant_pad_nd(part, {0, 0, 0, 0, g * per_in, (groups - 1 - g) * per_in}));
  }
  return torch::cat(blocks, 0);
}

torch::Tensor diagonal_blocks(const torch::Tensor& dense, int64_t groups) {
  if (groups == 1) return dense;
  const int64_t per_out = dense.size(0) / groups, per_in = dense.size(1) / groups;
  std::vector<torch::Tensor> blocks;
  for (int64_t g = 0; g < groups; ++g)
    blocks.push_back(dense.narrow(0, g * per_out, per_out).narrow(1, g * per_in, per_in));
  return torch::cat(blocks, 0);
}

torch::Tensor cim_product(const CimHardware& hw, const torch::Tensor& rows, const torch::Tensor& weights,
                          const torch::Tensor& adc_interval, bool training, int64_t samples) {
  const torch::Tensor interval = interval_of(hw, adc_interval);
  if (hw.exact) {
    return hw.mvm
        ->forward(rows.to(torch::kDouble), weights.to(torch::kDouble), interval[0], interval[1], true,
                  CimNoise{}, samples)
        .to(rows.dtype());
  }
  return hw.mvm->forward(rows, weights, interval[0], interval[1], false, training ? hw.noise : CimNoise{},
                         samples);
}

torch::Tensor cim_conv_product(const CimHardware& hw, const torch::Tensor& x, const torch::Tensor& weights,
                               const ConvGeometry& geometry, const torch::Tensor& adc_interval,
                               bool training) {
  const torch::Tensor interval = interval_of(hw, adc_interval);
  if (hw.exact) {
    return hw.mvm
        ->forward_conv(x.to(torch::kDouble), weights.to(torch::kDouble), geometry, interval[0], interval[1],
                       true)
        .to(x.dtype());
  }
  return hw.mvm->forward_conv(x, weights, geometry, interval[0], interval[1], false,
                              training ? hw.noise : CimNoise{});
}

void CimLayer::register_parts(torch::nn::Module& module, int outputs, QuantBits bits) {
  weight_quantizer = module.register_module("weight_quantizer", LsqQuantizer(outputs, true, bits.weight));
  input_quantizer =
      module.register_module("input_quantizer", LsqQuantizer(1, bits.input_signed, bits.input, bits.input_signed));
  input_signed = bits.input_signed;
  adc_interval = module.register_parameter("adc_interval", torch::zeros({2}));
}

torch::Tensor CimLayer::dequantize(const torch::Tensor& product, const torch::Tensor& x, bool rows_layout) {
  return dequantize_product(product, x.size(0), rows_layout, weight_quantizer->step_for(float_weight()),
                            input_quantizer->step_for(x), float_bias());
}

CimConv2dImpl::CimConv2dImpl(int in_channels, int out_channels, std::array<int, 2> kernel,
                             std::array<int, 2> stride_hw, std::array<int, 2> padding_hw, bool bias,
                             QuantBits bits, int groups_count)
    : stride({stride_hw[0], stride_hw[1]}), padding({padding_hw[0], padding_hw[1]}), groups(groups_count) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, {kernel[0], kernel[1]})
                                    .stride(stride)
                                    .padding(padding)
                                    .groups(groups)
                                    .bias(bias)));
  register_parts(*this, out_channels, bits);
}

torch::Tensor CimConv2dImpl::forward(const torch::Tensor& x) {
  if (!quantized) return conv->forward(x);
  const torch::Tensor x_int = input_quantizer->integers(x);
  const torch::Tensor w_int = integer_weight();
  const int64_t batch = x_int.size(0), n = w_int.size(0);
  const ConvGeometry geometry{w_int.size(2), w_int.size(3), (*stride)[0],
                              (*stride)[1],  (*padding)[0], (*padding)[1]};
  const int64_t oh = geometry.output_h(x_int.size(2)), ow = geometry.output_w(x_int.size(3));
  if (hardware.mvm) {
    // Rows ordered (c_in, k_h, k_w), as the bundle maps them onto the macros (grouped: block diagonal).
    const torch::Tensor columns = block_diagonal(w_int, groups).reshape({n, -1}).t();
    const torch::Tensor product = signed_product(hardware, x_int, input_signed, [&](const torch::Tensor& xs) {
      return cim_conv_product(hardware, xs, columns, geometry, adc_interval, is_training());
    });
    return dequantize(product, x, true).reshape({batch, n, oh, ow});
  }
  const torch::Tensor product =
      F::conv2d(x_int, w_int, F::Conv2dFuncOptions().stride(stride).padding(padding).groups(groups));
  return dequantize(product, x, false).reshape({batch, n, oh, ow});
}

CimLinearImpl::CimLinearImpl(int in_features, int out_features, bool bias, QuantBits bits) {
  linear = register_module("linear",
                           torch::nn::Linear(torch::nn::LinearOptions(in_features, out_features).bias(bias)));
  register_parts(*this, out_features, bits);
}

torch::Tensor CimLinearImpl::forward(const torch::Tensor& x) {
  if (!quantized) return linear->forward(x);
  const torch::Tensor x_int = input_quantizer->integers(x), w_int = integer_weight();
  const torch::Tensor out =
      hardware.mvm ? signed_product(hardware, x_int, input_signed,
                                    [&](const torch::Tensor& xs) {
                                      return cim_product(hardware, xs, w_int.t(), adc_interval, is_training(),
                                                         x_int.size(0));
                                    })
                   : torch::matmul(x_int, w_int.t());
  return dequantize(out, x, true).reshape({x.size(0), -1});
}

FoldableBatchNormImpl::FoldableBatchNormImpl(int channels, double eps_value, double momentum_value)
    : momentum(momentum_value) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
  eps = register_buffer("eps", torch::full({1}, eps_value, torch::kDouble));
}

torch::Tensor FoldableBatchNormImpl::fold_scale() const {
  return weight / torch::sqrt(running_var + eps.to(running_var.dtype()));
}

torch::Tensor FoldableBatchNormImpl::fold_shift() const { return bias - running_mean * fold_scale(); }

torch::Tensor FoldableBatchNormImpl::forward(const torch::Tensor& x) {
  if (is_training()) {
    // A bundle-loaded layer has eps 0 (set_folded); training still needs eps > 0 against dead channels.
    const double train_eps = std::max(eps.item<double>(), 1e-5);
    return torch::batch_norm(x, weight, bias, running_mean, running_var, true, momentum, train_eps, false);
  }
  const std::vector<int64_t> shape =
      x.dim() == 4 ? std::vector<int64_t>{1, -1, 1, 1} : std::vector<int64_t>{1, -1};
  return x * fold_scale().reshape(shape) + fold_shift().reshape(shape);
}

void FoldableBatchNormImpl::set_folded(const torch::Tensor& scale, const torch::Tensor& shift) {
  torch::NoGradGuard no_grad;
  weight.copy_(scale);
  bias.copy_(shift);
  running_mean.zero_();
  running_var.fill_(1.0);
  eps.zero_();
}

torch::Tensor avgpool_ordered(const torch::Tensor& x, std::array<int, 2> kernel, std::array<int, 2> stride) {
  const int64_t out_h = (x.size(2) - kernel[0]) / stride[0] + 1;
  const int64_t out_w = (x.size(3) - kernel[1]) / stride[1] + 1;
  using torch::indexing::Slice;
  torch::Tensor sum;
  for (int i = 0; i < kernel[0]; ++i) {
    for (int j = 0; j < kernel[1]; ++j) {
      const torch::Tensor tap =
          x.index({Slice(), Slice(), Slice(i, i + (out_h - 1) * stride[0] + 1, stride[0]),
                   Slice(j, j + (out_w - 1) * stride[1] + 1, stride[1])});
      sum = sum.defined() ? sum + tap : tap;
    }
  }
  return sum / double(kernel[0] * kernel[1]);
}

torch::Tensor global_avgpool_ordered(const torch::Tensor& x) {
  return avgpool_ordered(x, {int(x.size(2)), int(x.size(3))}, {1, 1});
}

}  // namespace cimsim::train
