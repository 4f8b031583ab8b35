#include "lsq_quantizer.h"

#include <cmath>

namespace cimsim::train {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct RoundSte : torch::autograd::Function<RoundSte> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x) { return torch::round(x); }
  static variable_list backward(AutogradContext*, variable_list grad) { return {grad[0]}; }
};

struct ScaleGrad : torch::autograd::Function<ScaleGrad> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double scale) {
    ctx->saved_data["scale"] = scale;
    return x.clone();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    return {grad[0] * ctx->saved_data["scale"].toDouble(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor round_ste(const torch::Tensor& x) { return RoundSte::apply(x); }
torch::Tensor scale_grad(const torch::Tensor& x, double scale) { return ScaleGrad::apply(x, scale); }

LsqQuantizerImpl::LsqQuantizerImpl(int64_t channels, bool is_signed, int bits) : channels_(channels) {
  qmax_ = is_signed ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  qmin_ = is_signed ? -qmax_ : 0;
  step_ = register_parameter("step", torch::ones({channels}));
  initialized_ = register_buffer("initialized", torch::zeros({1}, torch::kBool));
}

std::vector<int64_t> LsqQuantizerImpl::step_shape(const torch::Tensor& v) const {
  if (channels_ == 1) return {1};
  std::vector<int64_t> shape(std::size_t(v.dim()), 1);
  shape[0] = channels_;
  return shape;
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
  const torch::Tensor s = step_for(v).reshape(step_shape(v));
  return round_ste(torch::clamp(v / s, double(qmin_), double(qmax_)));
}

}  // namespace cimsim::train
