#include "lsq_quantizer.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cimsim::train {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct ScaleGrad : torch::autograd::Function<ScaleGrad> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double scale) {
    ctx->saved_data["scale"] = scale;
    return x.clone();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    return {grad[0] * ctx->saved_data["scale"].toDouble(), torch::Tensor()};
  }
};

// q = round_half_even(clamp(v / s[c], qmin, qmax)) in v's dtype, c = the element's channel (v's
// first dimension, or one step for all). Backward as autograd would give through a straight-through round,
// clamp and the division: d q / d v = 1 / s and d q / d s = -v / s^2 where qmin <= v / s <= qmax, else 0; in
// one pass each way instead of seven operators.
struct QuantizeSte : torch::autograd::Function<QuantizeSte> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& v_in, const torch::Tensor& step,
                               double qmin, double qmax) {
    const torch::Tensor v = v_in.contiguous(), s = step.to(v.scalar_type()).contiguous();
    torch::Tensor q = torch::empty_like(v);
    const int64_t inner = v.numel() / s.numel();
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "quantize_ste", [&] {
      const scalar_t* in = v.data_ptr<scalar_t>();
      const scalar_t* st = s.data_ptr<scalar_t>();
      scalar_t* out = q.data_ptr<scalar_t>();
      const scalar_t lo = scalar_t(qmin), hi = scalar_t(qmax);
      at::parallel_for(0, v.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          out[i] = std::nearbyint(std::min(std::max(in[i] / st[i / inner], lo), hi));
      });
    });
    ctx->save_for_backward({v, s});
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    ctx->saved_data["step_dtype"] = step.scalar_type();
    return q;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &v = saved[0], &s = saved[1];
    const torch::Tensor grad = grads[0].contiguous();
    const int64_t channels = s.numel(), inner = v.numel() / channels;
    torch::Tensor grad_v = torch::empty_like(v);
    // Per channel, in fixed chunks added in order: the same sums for any number of threads.
    constexpr int64_t kChunk = 1 << 14;
    const int64_t chunks = (inner + kChunk - 1) / kChunk;
    std::vector<double> grad_s(std::size_t(channels * chunks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "quantize_ste_backward", [&] {
      const scalar_t* in = v.data_ptr<scalar_t>();
      const scalar_t* g = grad.data_ptr<scalar_t>();
      const scalar_t* st = s.data_ptr<scalar_t>();
      scalar_t* gv = grad_v.data_ptr<scalar_t>();
      const scalar_t lo = scalar_t(ctx->saved_data["qmin"].toDouble());
      const scalar_t hi = scalar_t(ctx->saved_data["qmax"].toDouble());
      at::parallel_for(0, channels * chunks, 1, [&](int64_t first, int64_t last) {
        for (int64_t task = first; task < last; ++task) {
          const int64_t c = task / chunks, begin = c * inner + (task % chunks) * kChunk;
          const int64_t end = std::min(begin + kChunk, (c + 1) * inner);
          const scalar_t step = st[c];
          double sum = 0;
          for (int64_t i = begin; i < end; ++i) {
            const scalar_t u = in[i] / step;
            const bool inside = u >= lo && u <= hi;
            gv[i] = inside ? g[i] / step : scalar_t(0);
            sum += inside ? double(-g[i] * in[i] / (step * step)) : 0.0;
          }
          grad_s[std::size_t(task)] = sum;
        }
      });
    });
    torch::Tensor step_grad = torch::zeros({channels}, torch::kDouble);
    auto acc = step_grad.accessor<double, 1>();
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t k = 0; k < chunks; ++k) acc[c] += grad_s[std::size_t(c * chunks + k)];
    return {grad_v, step_grad.to(ctx->saved_data["step_dtype"].toScalarType()), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor scale_grad(const torch::Tensor& x, double scale) { return ScaleGrad::apply(x, scale); }

LsqQuantizerImpl::LsqQuantizerImpl(int64_t channels, bool is_signed, int bits, bool magnitude_bits)
    : channels_(channels) {
  qmax_ = is_signed && !magnitude_bits ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  qmin_ = is_signed ? -qmax_ : 0;
  step_ = register_parameter("step", torch::ones({channels}));
  initialized_ = register_buffer("initialized", torch::zeros({1}, torch::kBool));
}

void LsqQuantizerImpl::init_from(const torch::Tensor& v) {
  torch::NoGradGuard no_grad;
  const torch::Tensor magnitude = v.detach().abs();
  torch::Tensor mean =
      channels_ == 1 ? magnitude.mean().reshape({1}) : magnitude.reshape({channels_, -1}).mean(1);
  step_.copy_((2.0 * mean / std::sqrt(double(qmax_))).clamp_min(kMinStep));
  initialized_.fill_(true);
}

void LsqQuantizerImpl::set_step(const torch::Tensor& step) {
  torch::NoGradGuard no_grad;
  step_.copy_(step.reshape({channels_}));
  initialized_.fill_(true);
}

torch::Tensor LsqQuantizerImpl::step_for(const torch::Tensor& v) const {
  const double per_step =
      double(channels_ == 1 ? v.numel() / std::max<int64_t>(v.size(0), 1) : v.numel() / channels_);
  return scale_grad(step_, 1.0 / std::sqrt(per_step * double(qmax_))).clamp_min(kMinStep);
}

torch::Tensor LsqQuantizerImpl::integers(const torch::Tensor& v) {
  if (is_training() && !initialized()) init_from(v);
  return QuantizeSte::apply(v, step_for(v), double(qmin_), double(qmax_));
}

}  // namespace cimsim::train
