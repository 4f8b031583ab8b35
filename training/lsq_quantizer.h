// Learned step size quantization (LSQ; Esser et al., "Learned Step Size Quantization", ICLR 2020).
//
// A quantizer maps a tensor v to integers q = round_half_even(clamp(v / s, qmin, qmax)) on its grid,
// with a learned step s > 0:
//   weights:     signed symmetric, q in [-(2^(b-1) - 1), 2^(b-1) - 1], one step per output channel;
//   activations: unsigned, q in [0, 2^b - 1], one step per layer (the bundle's input_scale),
//                the simulator's q() of docs/model-bundle.md exactly (rounding half to even);
//                a layer with signed inputs: q in [-(2^b - 1), 2^b - 1] (the simulator's q_s).
// Gradients: the rounding is a straight-through estimator (identity), the clamp passes gradient only
// inside [qmin, qmax]; the step gets LSQ's gradient (round(v/s) - v/s inside the range, qmin or qmax
// outside, once the caller multiplies the integers by s) scaled by g = 1 / sqrt(N qmax), N the number of
// values sharing the step (weights per output channel; activations per image).
#pragma once

#include <torch/torch.h>

namespace cimsim::train {

// Identity forward (a copy of x), gradient multiplied by `scale` backward.
torch::Tensor scale_grad(const torch::Tensor& x, double scale);

class LsqQuantizerImpl : public torch::nn::Module {
 public:
  // channels: steps (one per output channel for weights, 1 for activations). Signed: q in
  // [-(2^(b-1) - 1), 2^(b-1) - 1], or with `magnitude_bits` (signed layer inputs, docs/numerics.md
  // section 11) a sign and b magnitude bits, q in [-(2^b - 1), 2^b - 1].
  LsqQuantizerImpl(int64_t channels, bool is_signed, int bits, bool magnitude_bits = false);

  // The integers (as floating-point values of v's dtype) of v: for a per-channel quantizer v's first
  // dimension is the channel. Initialises the step from v (LSQ's 2 mean|v| / sqrt(qmax)) on the
  // first call in training mode if it was never initialised.
  torch::Tensor integers(const torch::Tensor& v);
  // The step as used in the forward pass (with the gradient scale for `v`'s group size), shape [channels].
  torch::Tensor step_for(const torch::Tensor& v) const;
  // The current step values, shape [channels], without any autograd history.
  torch::Tensor step() const { return step_.detach(); }

  void init_from(const torch::Tensor& v);
  void set_step(const torch::Tensor& step);
  bool initialized() const { return initialized_.item<bool>(); }
  int64_t qmin() const { return qmin_; }
  int64_t qmax() const { return qmax_; }

 private:
  int64_t channels_;
  int64_t qmin_, qmax_;
  torch::Tensor step_;         // parameter "step"
  torch::Tensor initialized_;  // buffer "initialized" (bool), saved with checkpoints
};
TORCH_MODULE(LsqQuantizer);

// Smallest step the forward uses: keeps s > 0 (the bundle requires positive scales) if an update
// drives a step through zero.
inline constexpr double kMinStep = 1e-8;

}  // namespace cimsim::train
