// Stage 2's CIM product against the independent plain-loop reference of the numerics contract
// (tests/support/reference_mvm.h): bit for bit in the exact order, close in the fast order; and
// its straight-through gradients.
#include <gtest/gtest.h>

#include <iomanip>
#include <random>
#include <sstream>

#include "../support/reference_mvm.h"
#include "../support/test_configs.h"
#include "cim_mvm.h"
#include "im2col_rows.h"

namespace cimsim::train {
namespace {

struct Case {
  int rows, rows_per_cycle, weight_bits, input_bits, dac_bits, cell_bits, adc_bits;
  bool digital, adc_ideal;
  double lo_fraction, hi_fraction;  // of the full interval; 1, 1: full
  int accumulator_bits;
  double wire_resistance;  // device.wire_resistance: the bit lines' IR drop
};

struct Operands {
  std::vector<std::vector<int>> W, X;
  torch::Tensor w, x;
};

Operands random_operands(int K, int N, int B, const Case& c, unsigned seed) {
  std::mt19937 gen(seed);
  const int wmax = (1 << (c.weight_bits - 1)) - 1, xmax = (1 << c.input_bits) - 1;
  std::uniform_int_distribution<int> wd(-wmax, wmax), xd(0, xmax);
  Operands o;
  o.W.assign(std::size_t(K), std::vector<int>(std::size_t(N)));
  o.X.assign(std::size_t(B), std::vector<int>(std::size_t(K)));
  o.w = torch::zeros({K, N}, torch::kDouble);
  o.x = torch::zeros({B, K}, torch::kDouble);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) o.w[k][n] = o.W[std::size_t(k)][std::size_t(n)] = wd(gen);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < K; ++k) o.x[b][k] = o.X[std::size_t(b)][std::size_t(k)] = xd(gen);
  return o;
}

HwConfig hw_for(const Case& c) {
  testing::HwParams p;
  p.rows = c.rows;
  p.cols = 64;
  p.rows_per_cycle = c.rows_per_cycle;
  p.weight_bits = c.weight_bits;
  p.input_bits = c.input_bits;
  p.dac_bits = c.dac_bits;
  p.cell_bits = c.cell_bits;
  p.adc_bits = c.adc_bits;
  p.subtraction = c.digital ? "digital" : "analog";
  p.adc_ideal = c.adc_ideal;
  p.accumulator_bits = c.accumulator_bits ? std::to_string(c.accumulator_bits) : "none";
  if (c.wire_resistance > 0) {
    std::ostringstream r;
    r << std::setprecision(17) << c.wire_resistance;
    p.device_extra = "  wire_resistance: " + r.str() + "\n";
  }
  return testing::make_hw(p);
}

class CimMvmCases : public ::testing::TestWithParam<Case> {};

TEST_P(CimMvmCases, ExactOrderEqualsTheReferenceBitForBit) {
  const Case c = GetParam();
  const HwConfig hw = hw_for(c);
  const int K = 45, N = 7, B = 9;
  const Operands o = random_operands(K, N, B, c, unsigned(c.rows_per_cycle * 31 + c.adc_bits));
  const AdcInterval full = hw.full_interval();
  const double lo = full.lo * c.lo_fraction, hi = full.hi * c.hi_fraction;
  CimMvm mvm(hw, map_layer(K, N, plain_row_groups(K, c.rows_per_cycle), hw.macro));
  const torch::Tensor y =
      mvm.forward(o.x, o.w, torch::tensor(lo, torch::kDouble), torch::tensor(hi, torch::kDouble), true);

  testing::ReferenceSpec r{c.rows,      c.rows_per_cycle,  c.weight_bits, c.input_bits, c.dac_bits,
                           c.cell_bits, c.adc_bits,        c.digital,     c.adc_ideal,  lo,
                           hi,          c.accumulator_bits};
  r.wire_resistance = hw.device.wire_resistance;
  const auto expected = testing::reference_mvm(r, o.W, o.X);
  auto acc = y.accessor<double, 2>();
  for (int b = 0; b < B; ++b)
    for (int n = 0; n < N; ++n)
      ASSERT_EQ(acc[b][n], expected[std::size_t(b)][std::size_t(n)]) << "vector " << b << " output " << n;

  if (c.accumulator_bits == 0) {
    // The fast order (float) differs by rounding only.
    const torch::Tensor fast = mvm.forward(o.x.to(torch::kFloat), o.w.to(torch::kFloat),
                                           torch::tensor(float(lo)), torch::tensor(float(hi)), false);
    const double scale = std::max(1.0, y.abs().max().item<double>());
    EXPECT_LT((fast.to(torch::kDouble) - y).abs().max().item<double>(), 1e-5 * scale);
  }
}

// The fast order's fused backward (the unclipped gradient from the effective weights, minus each
// clipped partial sum's share) against autograd through the contract's order, both in double.
// (With a saturating accumulator training uses the contract's order itself.)
TEST_P(CimMvmCases, FastOrderGradientsEqualTheContractOrder) {
  const Case c = GetParam();
  const HwConfig hw = hw_for(c);
  const int K = 45, N = 7, B = 9;
  const Operands o = random_operands(K, N, B, c, unsigned(c.rows_per_cycle * 17 + c.adc_bits));
  const AdcInterval full = hw.full_interval();
  CimMvm mvm(hw, map_layer(K, N, plain_row_groups(K, c.rows_per_cycle), hw.macro));
  torch::manual_seed(5);
  const torch::Tensor r = torch::randn({B, N}, torch::kDouble);
  std::vector<torch::Tensor> grads[2];
  for (int exact = 0; exact < 2; ++exact) {
    const torch::Tensor x = o.x.clone().requires_grad_(true), w = o.w.clone().requires_grad_(true);
    const torch::Tensor lo = torch::tensor(full.lo * c.lo_fraction, torch::kDouble).requires_grad_(true);
    const torch::Tensor hi = torch::tensor(full.hi * c.hi_fraction, torch::kDouble).requires_grad_(true);
    (mvm.forward(x, w, lo, hi, exact == 1, CimNoise{}, 3) * r).sum().backward();
    grads[exact] = {x.grad(), w.grad()};
    if (!c.adc_ideal) grads[exact].insert(grads[exact].end(), {lo.grad(), hi.grad()});
  }
  const char* names[] = {"x", "w", "lo", "hi"};
  for (std::size_t i = 0; i < grads[1].size(); ++i) {
    const double scale = std::max(1e-12, grads[1][i].abs().max().item<double>());
    EXPECT_LT((grads[0][i] - grads[1][i]).abs().max().item<double>(), 1e-9 * scale) << names[i];
    EXPECT_GT(scale, 1e-12) << names[i] << ": no gradient to compare";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, CimMvmCases,
    ::testing::Values(
        // rows, A, Wb, Ib, db, cb, Ab, digital, ideal ADC, lo, hi (of full), accumulator bits
        Case{16, 8, 4, 4, 1, 1, 5, false, false, 1, 1, 0, 0},       // bit-serial, binary cells, 3 row tiles
        Case{16, 8, 4, 4, 4, 1, 3, false, false, 0.5, 0.25, 0, 0},  // one phase, 3-bit ADC, clipping
        Case{64, 16, 8, 8, 2, 3, 4, true, false, 0, 0.3, 0, 0},     // digital subtraction, asymmetric interval
        Case{40, 5, 4, 3, 1, 2, 2, false, false, 0.2, 0.9, 0, 0},   // odd group size, 2-bit ADC
        Case{64, 64, 4, 4, 1, 1, 8, false, true, 1, 1, 0, 0},       // ideal ADC
        Case{16, 8, 5, 4, 2, 2, 4, false, false, 0.4, 0.4, 6, 0},   // saturating accumulator
        // A symmetric interval that is no round number, 31 steps: y = 0 sits exactly on a rounding
        // tie, which the fast order must round as the exact one does (ADC arithmetic in double).
        Case{16, 8, 4, 4, 1, 1, 5, false, false, 1 - 0x1p-22, 1 - 0x1p-22, 0, 0},
        // IR drop on the bit lines: analog with a clipping 4-bit ADC, digital with 2-bit cells.
        Case{16, 8, 4, 4, 1, 1, 4, false, false, 0.5, 0.5, 0, 0.001953125},
        Case{32, 8, 6, 4, 2, 2, 5, true, false, 0, 0.4, 0, 0.0009765625}));

TEST(CimMvm, StraightThroughGradientsReachInputsWeightsAndInterval) {
  const Case c{32, 8, 4, 4, 1, 1, 4, false, false, 0.3, 0.3, 0, 0};
  const HwConfig hw = hw_for(c);
  const int K = 20, N = 5, B = 6;
  const Operands o = random_operands(K, N, B, c, 3);
  CimMvm mvm(hw, map_layer(K, N, plain_row_groups(K, 8), hw.macro));
  const double full = hw.full_interval().hi;
  for (bool exact : {true, false}) {
    const torch::Tensor x = o.x.clone().requires_grad_(true), w = o.w.clone().requires_grad_(true);
    const torch::Tensor lo = torch::tensor(-0.3 * full, torch::kDouble).requires_grad_(true);
    const torch::Tensor hi = torch::tensor(0.3 * full, torch::kDouble).requires_grad_(true);
    const torch::Tensor y = mvm.forward(x, w, lo, hi, exact);
    y.pow(2).sum().backward();
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0) << exact;
    EXPECT_GT(w.grad().abs().sum().item<double>(), 0) << exact;
    EXPECT_NE(lo.grad().item<double>(), 0) << exact;
    EXPECT_NE(hi.grad().item<double>(), 0) << exact;
  }
  // With a wide interval (nothing clips) and an ideal-like fine ADC, the gradient wrt x is the
  // plain product's: d sum(y) / dx = row sums of w.
  const Case fine{32, 8, 4, 4, 1, 1, 8, false, true, 1, 1, 0, 0};
  const HwConfig hw_fine = hw_for(fine);
  CimMvm ideal(hw_fine, map_layer(K, N, plain_row_groups(K, 8), hw_fine.macro));
  const torch::Tensor x = o.x.clone().requires_grad_(true);
  ideal.forward(x, o.w, torch::tensor(0.0), torch::tensor(0.0), true).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), o.w.sum(1).unsqueeze(0).expand({B, K})));
}

// The convolution order (cim_conv_fast.h) against the rows order on the same layer: the same
// output bit for bit, gradients within rounding, with clipping, several phases, digital
// subtraction, strides and padding, and the rows fallback when a group splits a channel.
TEST(CimMvm, ConvolutionOrderEqualsTheRowsOrder) {
  struct ConvCase {
    Case c;
    int channels, kernel, stride, pad;
  };
  const std::vector<ConvCase> cases{
      {Case{64, 32, 4, 4, 4, 1, 3, false, false, 0.5, 0.25, 0, 0}, 4, 3, 1, 1},  // 3 channels a group, clipping
      {Case{32, 16, 4, 4, 1, 1, 5, false, false, 0.3, 0.6, 0, 0}, 3, 3, 2, 0},   // bit-serial, stride 2
      {Case{64, 64, 5, 4, 2, 2, 4, true, false, 0.2, 0.3, 0, 0}, 5, 5, 1, 2},    // digital, 5x5
      {Case{32, 16, 4, 4, 4, 1, 8, false, true, 1, 1, 0, 0}, 4, 3, 1, 1},        // ideal ADC
      {Case{32, 8, 4, 4, 4, 1, 4, false, false, 0.4, 0.4, 0, 0}, 2, 3, 1, 1}};   // groups split channels
  for (const ConvCase& cc : cases) {
    const HwConfig hw = hw_for(cc.c);
    // 10 images: two chunks of the backward's per-chunk sums.
    const int K = cc.channels * cc.kernel * cc.kernel, N = 6, B = 10, H = 9, W = 8;
    const LayerMapping mapping =
        map_layer(K, N, conv_row_groups(cc.channels, cc.kernel, cc.kernel, cc.c.rows_per_cycle), hw.macro);
    const CimMvm mvm(hw, mapping);
    const ConvGeometry geometry{cc.kernel, cc.kernel, cc.stride, cc.stride, cc.pad, cc.pad};
    torch::manual_seed(cc.channels * 7 + cc.kernel);
    const int wmax = (1 << (cc.c.weight_bits - 1)) - 1;
    const torch::Tensor x0 = torch::randint(0, 1 << cc.c.input_bits, {B, cc.channels, H, W}, torch::kDouble);
    const torch::Tensor w0 = torch::randint(-wmax, wmax + 1, {K, N}, torch::kDouble);
    const AdcInterval full = hw.full_interval();
    std::vector<torch::Tensor> results[2];
    for (int rows_order = 0; rows_order < 2; ++rows_order) {
      const torch::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
      const torch::Tensor lo = torch::tensor(full.lo * cc.c.lo_fraction, torch::kDouble).requires_grad_(true);
      const torch::Tensor hi = torch::tensor(full.hi * cc.c.hi_fraction, torch::kDouble).requires_grad_(true);
      torch::Tensor out;
      if (rows_order) {
        const torch::Tensor rows =
            im2col_rows(x, {cc.kernel, cc.kernel}, {cc.stride, cc.stride}, {cc.pad, cc.pad});
        out = mvm.forward(rows, w, lo, hi, false, CimNoise{}, B);
      } else {
        out = mvm.forward_conv(x, w, geometry, lo, hi, false);
      }
      torch::manual_seed(9);
      (out * torch::randn(out.sizes(), torch::kDouble)).sum().backward();
      results[rows_order] = {out.detach(), x.grad(), w.grad()};
      if (!cc.c.adc_ideal) results[rows_order].insert(results[rows_order].end(), {lo.grad(), hi.grad()});
    }
    // Partial-sum noise: the same draws in the same layout, so again the same outputs.
    const double full_hi = hw.full_interval().hi;
    const torch::Tensor lo = torch::tensor(-0.3 * full_hi, torch::kDouble),
                        hi = torch::tensor(0.3 * full_hi, torch::kDouble);
    CimNoise noise;
    noise.partial_sum_sigma = 0.7;
    torch::manual_seed(11);
    const torch::Tensor noisy_conv = mvm.forward_conv(x0, w0, geometry, lo, hi, false, noise);
    torch::manual_seed(11);
    const torch::Tensor noisy_rows =
        mvm.forward(im2col_rows(x0, {cc.kernel, cc.kernel}, {cc.stride, cc.stride}, {cc.pad, cc.pad}), w0, lo,
                    hi, false, noise, B);
    EXPECT_TRUE(torch::equal(noisy_conv, noisy_rows)) << "noise, rows_per_cycle " << cc.c.rows_per_cycle;
    ASSERT_TRUE(torch::equal(results[0][0], results[1][0]))
        << "rows_per_cycle " << cc.c.rows_per_cycle << " max diff "
        << (results[0][0] - results[1][0]).abs().max().item<double>() << " of "
        << results[1][0].abs().max().item<double>();
    const char* names[] = {"out", "x", "w", "lo", "hi"};
    for (std::size_t i = 1; i < results[1].size(); ++i) {
      const double scale = std::max(1e-12, results[1][i].abs().max().item<double>());
      EXPECT_LT((results[0][i] - results[1][i]).abs().max().item<double>(), 1e-9 * scale)
          << names[i] << ", rows_per_cycle " << cc.c.rows_per_cycle;
      EXPECT_GT(scale, 1e-12) << names[i] << ": no gradient to compare";
    }
  }
}

// With IR drop the columns hold both sides even for analog subtraction; the straight-through
// gradient stays analog's: zero weights get one, and as r -> 0 it tends to the gradient without.
TEST(CimMvm, IrDropKeepsTheAnalogGradientOfZeroWeights) {
  const int K = 45, N = 7, B = 9;
  std::vector<torch::Tensor> grads, outs;
  for (const double r : {0.0, 0x1p-24}) {
    const Case c{16, 8, 4, 4, 1, 1, 8, false, true, 1, 1, 0, r};
    const HwConfig hw = hw_for(c);
    ASSERT_EQ(hw.device.wire_resistance, r);
    const Operands o = random_operands(K, N, B, c, 11);
    CimMvm mvm(hw, map_layer(K, N, plain_row_groups(K, 8), hw.macro));
    const torch::Tensor x = o.x.clone(), w = o.w.clone().requires_grad_(true);
    const torch::Tensor lo = torch::tensor(hw.full_interval().lo, torch::kDouble);
    const torch::Tensor hi = torch::tensor(hw.full_interval().hi, torch::kDouble);
    const torch::Tensor y = mvm.forward(x, w, lo, hi, false);
    outs.push_back(y.detach());
    y.pow(2).sum().backward();
    grads.push_back(w.grad());
    const torch::Tensor at_zero = w.grad().masked_select(o.w == 0);
    ASSERT_GT(at_zero.numel(), 0);
    EXPECT_GT(at_zero.abs().sum().item<double>(), 0) << "r " << r;
  }
  EXPECT_LT((outs[1] - outs[0]).abs().max().item<double>(), 1e-3 * outs[0].abs().max().item<double>());
  const double scale = grads[0].abs().max().item<double>();
  EXPECT_LT((grads[1] - grads[0]).abs().max().item<double>(), 1e-3 * scale);
}

// A toy problem: the ADC's interval is much wider than the partial sums; lowering the
// quantization error of the output means narrowing it, and gradient descent on the interval does.
TEST(CimMvm, LearnedIntervalMovesToLowerTheLoss) {
  const Case c{64, 16, 4, 4, 4, 3, 4, false, false, 1, 1, 0, 0};
  const HwConfig hw = hw_for(c);
  const int K = 16, N = 4, B = 64;
  torch::manual_seed(0);
  const torch::Tensor x = torch::randint(0, 3, {B, K}, torch::kDouble);
  const torch::Tensor w = torch::randint(-1, 2, {K, N}, torch::kDouble);
  const torch::Tensor target = torch::matmul(x, w);
  CimMvm mvm(hw, map_layer(K, N, plain_row_groups(K, 16), hw.macro));
  const double full = hw.full_interval().hi;
  torch::Tensor lo = torch::tensor(-full, torch::kDouble).requires_grad_(true);
  torch::Tensor hi = torch::tensor(full, torch::kDouble).requires_grad_(true);
  auto loss_of = [&] { return (mvm.forward(x, w, lo, hi, false) - target).pow(2).mean(); };
  const double before = loss_of().item<double>();
  // Adam: its steps do not depend on LSQ's gradient scaling.
  torch::optim::Adam adam({lo, hi}, torch::optim::AdamOptions(0.02 * full));
  for (int i = 0; i < 60; ++i) {
    adam.zero_grad();
    loss_of().backward();
    adam.step();
  }
  const double after = loss_of().item<double>();
  EXPECT_LT(hi.item<double>() - lo.item<double>(), 2 * full);
  EXPECT_LT(after, 0.5 * before) << "before " << before << " after " << after;
}

}  // namespace
}  // namespace cimsim::train
