// LSQ quantizers: values on their grids, rounding half to even as the simulator's q(), straight-through
// gradients to every parameter upstream of a rounding, and LSQ's step gradient.
#include <gtest/gtest.h>

#include <cmath>

#include "cim_layers.h"
#include "lsq_quantizer.h"

namespace cimsim::train {
namespace {

TEST(LsqQuantizer, WeightsLandOnTheSignedGridPerChannel) {
  torch::manual_seed(3);
  LsqQuantizer q(4, true, 4);
  q->train();
  const torch::Tensor w =
      torch::randn({4, 16, 5, 5}) * torch::tensor({0.1, 1.0, 3.0, 10.0}).reshape({4, 1, 1, 1});
  const torch::Tensor ints = q->integers(w);  // initialises the steps from w
  EXPECT_TRUE(q->initialized());
  EXPECT_TRUE(torch::equal(ints, torch::round(ints)));
  EXPECT_LE(ints.max().item<double>(), 7.0);
  EXPECT_GE(ints.min().item<double>(), -7.0);
  // One step per output channel, each scaled to its channel (LSQ init 2 mean|w| / sqrt(7)).
  const torch::Tensor step = q->step();
  ASSERT_EQ(step.numel(), 4);
  for (int c = 0; c < 4; ++c) {
    const double expected = 2 * w[c].abs().mean().item<double>() / std::sqrt(7.0);
    EXPECT_NEAR(step[c].item<double>(), expected, 1e-6 * expected);
    // And the integers are the rounded, clamped ratios of that channel.
    const torch::Tensor ratio = (w[c] / step[c]).clamp(-7, 7).round();
    EXPECT_TRUE(torch::equal(ints[c], ratio));
  }
  // With a ten times finer step every level of the grid is used, and the clamp holds the ends.
  q->set_step(step / 10);
  const torch::Tensor fine = q->integers(w);
  EXPECT_EQ(std::get<0>(torch::_unique(fine)).numel(), 15);
  EXPECT_EQ(fine.max().item<double>(), 7.0);
  EXPECT_EQ(fine.min().item<double>(), -7.0);
}

TEST(LsqQuantizer, ActivationsAreUnsignedAndRoundHalfToEven) {
  LsqQuantizer q(1, false, 4);
  q->set_step(torch::tensor({0.5}));
  // v / s = 0.5, 1.5, 2.5, -1, 20, 3.49
  const torch::Tensor v = torch::tensor({0.25, 0.75, 1.25, -0.5, 10.0, 1.745}).reshape({1, 6});
  const torch::Tensor ints = q->integers(v);
  const std::vector<double> expected = {0, 2, 2, 0, 15, 3};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(ints[0][i].item<double>(), expected[std::size_t(i)]) << i;
}

TEST(LsqQuantizer, StepGradientIsLsqScaled) {
  // d/ds of sum(s * q(v / s)) is sum(round(v/s) - v/s) inside the grid and qmax above it, times
  // g = 1 / sqrt(N qmax) with N values per step (here one image of 4 values).
  LsqQuantizer q(1, false, 3);  // qmax 7
  q->set_step(torch::tensor({0.3}));
  const torch::Tensor v = torch::tensor({0.1, 0.7, 1.0, 5.0}).reshape({1, 4});
  const torch::Tensor s = q->step_for(v);
  (q->integers(v) * s).sum().backward();
  const torch::Tensor r = v / 0.3;
  const double inside = (torch::round(r.slice(1, 0, 3)) - r.slice(1, 0, 3)).sum().item<double>();
  const double expected = (inside + 7.0) / std::sqrt(4.0 * 7.0);
  EXPECT_NEAR(q->named_parameters()["step"].grad().item<double>(), expected, 1e-6);
}

TEST(LsqQuantizer, EveryStraightThroughEstimatorPassesGradient) {
  torch::manual_seed(5);
  CimConv2d conv(2, 3, std::array<int, 2>{3, 3}, std::array<int, 2>{1, 1}, std::array<int, 2>{1, 1}, true,
                 QuantBits{4, 4});
  CimLinear linear(3 * 4 * 4, 5, true, QuantBits{3, 2});
  conv->quantized = linear->quantized = true;
  conv->train();
  linear->train();
  // A parameter upstream of the first input quantizer: the image passes through it.
  const torch::Tensor upstream = torch::full({1}, 1.5, torch::requires_grad());
  const torch::Tensor images = torch::rand({8, 2, 4, 4}) * upstream;
  const torch::Tensor hidden = torch::relu(conv->forward(images));
  const torch::Tensor logits = linear->forward(hidden.flatten(1));
  torch::cross_entropy_loss(logits, torch::randint(0, 5, {8})).backward();
  auto nonzero = [](const torch::Tensor& g) { return g.defined() && g.abs().sum().item<double>() > 0; };
  EXPECT_TRUE(nonzero(upstream.grad())) << "input quantizer of conv";
  EXPECT_TRUE(nonzero(conv->conv->weight.grad())) << "weight quantizer of conv";
  EXPECT_TRUE(nonzero(conv->weight_quantizer->named_parameters()["step"].grad()));
  EXPECT_TRUE(nonzero(conv->input_quantizer->named_parameters()["step"].grad()));
  EXPECT_TRUE(nonzero(conv->conv->bias.grad()));
  EXPECT_TRUE(nonzero(linear->linear->weight.grad())) << "weight quantizer of linear";
  EXPECT_TRUE(nonzero(linear->weight_quantizer->named_parameters()["step"].grad()));
  EXPECT_TRUE(nonzero(linear->input_quantizer->named_parameters()["step"].grad()));
}

TEST(LsqQuantizer, QuantizedConvolutionIsTheIntegerProductRescaled) {
  torch::manual_seed(9);
  CimConv2d conv(3, 4, std::array<int, 2>{3, 3}, std::array<int, 2>{2, 2}, std::array<int, 2>{1, 1}, true,
                 QuantBits{4, 4});
  conv->quantized = true;
  conv->train();
  const torch::Tensor x = torch::rand({2, 3, 7, 7}, torch::kDouble);
  conv->to(torch::kDouble);
  const torch::Tensor y = conv->forward(x);  // initialises the steps
  conv->eval();
  const torch::Tensor xi = ((x / conv->input_quantizer->step()).clamp(0, 15)).round();
  const torch::Tensor wi = conv->integer_weight();
  EXPECT_TRUE(torch::equal(wi, wi.round()));
  const torch::Tensor expect = torch::conv2d(xi, wi, {}, 2, 1) *
                                   conv->weight_quantizer->step().reshape({1, -1, 1, 1}) *
                                   conv->input_quantizer->step() +
                               conv->conv->bias.reshape({1, -1, 1, 1});
  EXPECT_TRUE(torch::equal(conv->forward(x), expect));
  EXPECT_TRUE(torch::equal(y, expect));
}

}  // namespace
}  // namespace cimsim::train
