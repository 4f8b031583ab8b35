// The trainer's hand-written kernels against LibTorch's own operators: the convolution rows
// (im2col_rows) against unfold, forward and gradient; the counter-based normal draws for
// determinism under torch::manual_seed, independence of the thread count, and their moments; the
// weight columns (weight_columns) and the dequantization (dequantize_product) against the same
// arithmetic written with LibTorch operators, forward bit for bit and gradient; the bit-line IR-drop
// sums (wire_sums) against the formula in LibTorch operators, forward and gradient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <vector>

#include "counter_normals.h"
#include "dequantize.h"
#include "im2col_rows.h"
#include "wire_sums.h"
#include "weight_columns.h"

namespace cimsim::train {
namespace {

namespace F = torch::nn::functional;

TEST(Im2colRows, EqualsUnfoldAndItsGradient) {
  struct Shape {
    int64_t b, c, h, w, kh, kw, sy, sx, py, px;
  };
  for (const Shape& s : {Shape{2, 3, 7, 6, 3, 3, 1, 1, 1, 1}, Shape{3, 2, 9, 8, 5, 3, 2, 1, 2, 0},
                        Shape{1, 4, 5, 5, 1, 1, 2, 2, 0, 0}, Shape{2, 1, 6, 7, 4, 4, 3, 2, 1, 3}}) {
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({s.b, s.c, s.h, s.w}, torch::kDouble);
    const torch::Tensor xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
    const torch::Tensor rows = im2col_rows(xa, {s.kh, s.kw}, {s.sy, s.sx}, {s.py, s.px});
    const torch::Tensor cols =
        F::unfold(xb, F::UnfoldFuncOptions({s.kh, s.kw}).stride({s.sy, s.sx}).padding({s.py, s.px}));
    const torch::Tensor expected = cols.transpose(1, 2).reshape({-1, cols.size(1)});
    ASSERT_TRUE(torch::equal(rows, expected)) << s.kh << "x" << s.kw << " stride " << s.sy;
    const torch::Tensor r = torch::randn(rows.sizes(), torch::kDouble);
    (rows * r).sum().backward();
    (expected * r).sum().backward();
    EXPECT_LT((xa.grad() - xb.grad()).abs().max().item<double>(), 1e-12);
    EXPECT_GT(xa.grad().abs().sum().item<double>(), 0);
  }
}

TEST(CounterNormals, SeededThreadCountFreeAndStandard) {
  const int threads = torch::get_num_threads();
  torch::manual_seed(7);
  const torch::Tensor a = counter_normals({300, 700}, torch::kFloat, RngTag::kProgramAdditive);
  const torch::Tensor a2 = counter_normals({300, 700}, torch::kFloat, RngTag::kProgramAdditive);
  torch::set_num_threads(1);
  torch::manual_seed(7);
  const torch::Tensor b = counter_normals({300, 700}, torch::kFloat, RngTag::kProgramAdditive);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a, b));    // same seed, any thread count: the same draws
  EXPECT_FALSE(torch::equal(a, a2));  // the next call draws anew
  EXPECT_NEAR(a.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(a.std().item<double>(), 1.0, 0.01);
  // Tails: P(|z| > 2) = 4.55%.
  EXPECT_NEAR((a.abs() > 2).to(torch::kDouble).mean().item<double>(), 0.0455, 0.003);
  torch::manual_seed(7);
  const torch::Tensor d = counter_normals({300, 700}, torch::kDouble, RngTag::kProgramAdditive);
  EXPECT_TRUE(torch::equal(d.to(torch::kFloat), a));
}

// value forward, gradient of `surrogate` backward.
torch::Tensor with_gradient_of(const torch::Tensor& value, const torch::Tensor& surrogate) {
  return value.detach() + (surrogate - surrogate.detach());
}

// `slices` slices of `cell_bits`-bit cells, analog or digital subtraction, no noise.
WeightSlicing slicing_of(int slices, int cell_bits, bool analog) {
  WeightSlicing s;
  s.slices = slices;
  s.cell_bits = cell_bits;
  s.g_max = std::ldexp(1.0, cell_bits) - 1;
  s.analog = analog;
  return s;
}

// weight_columns.h's definition in LibTorch operators (noise off): [K, (side, slice, output)].
torch::Tensor reference_columns(const torch::Tensor& w, const WeightSlicing& slicing) {
  const torch::Tensor magnitude = w.detach().abs();
  const torch::Tensor positive = (w.detach() > 0).to(w.dtype()), negative = (w.detach() < 0).to(w.dtype());
  std::vector<torch::Tensor> plus, minus;
  for (int s = 0; s < slicing.slices; ++s) {
    const double shift = std::ldexp(1.0, s * slicing.cell_bits);
    const torch::Tensor slice = torch::remainder(torch::floor(magnitude / shift), slicing.g_max + 1.0);
    const torch::Tensor surrogate = w * (1.0 / (shift * slicing.slices));
    if (slicing.analog) {
      plus.push_back(with_gradient_of(slice * positive - slice * negative, surrogate));
    } else {
      plus.push_back(with_gradient_of(slice * positive, surrogate * positive));
      minus.push_back(with_gradient_of(slice * negative, -surrogate * negative));
    }
  }
  std::vector<torch::Tensor> sides{torch::stack(plus)};
  if (!minus.empty()) sides.push_back(torch::stack(minus));
  return torch::stack(sides).permute({2, 0, 1, 3}).reshape({w.size(0), -1});
}

TEST(WeightColumns, EqualTheSlicingDefinitionAndItsGradient) {
  // 4-bit weights on 1-bit cells (3 slices) and on 2-bit cells (2 slices), analog and digital.
  for (const WeightSlicing& slicing : {slicing_of(3, 1, true), slicing_of(3, 1, false), slicing_of(2, 2, true),
                                       slicing_of(2, 2, false)}) {
    torch::manual_seed(3);
    const torch::Tensor w = torch::randint(-7, 8, {37, 11}, torch::kDouble);
    const torch::Tensor wa = w.clone().requires_grad_(true), wb = w.clone().requires_grad_(true);
    const torch::Tensor got = weight_columns(wa, slicing), expected = reference_columns(wb, slicing);
    ASSERT_TRUE(torch::equal(got, expected)) << slicing.slices << " slices, analog " << slicing.analog;
    const torch::Tensor r = torch::randn(got.sizes(), torch::kDouble);
    (got * r).sum().backward();
    (expected * r).sum().backward();
    EXPECT_LT((wa.grad() - wb.grad()).abs().max().item<double>(), 1e-12);
    EXPECT_GT(wa.grad().abs().sum().item<double>(), 0);
  }
}

TEST(WeightColumns, ProgrammingNoiseIsSeededClampedAndSized) {
  WeightSlicing slicing = slicing_of(3, 1, false);
  slicing.program_sigma = 0.1;
  const torch::Tensor w = torch::randint(-7, 8, {200, 100}, torch::kFloat);
  torch::manual_seed(5);
  const torch::Tensor a = weight_columns(w, slicing);
  torch::manual_seed(5);
  const torch::Tensor b = weight_columns(w, slicing);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_GE(a.min().item<double>(), 0.0);
  EXPECT_LE(a.max().item<double>(), 1.0);
  // Levels at 1 lose what the clamp at g_max cuts off: mean 1 - sigma / sqrt(2 pi) = 0.9601.
  const torch::Tensor clean = weight_columns(w, slicing_of(3, 1, false));
  const torch::Tensor ones = a.masked_select(clean == 1).to(torch::kDouble);
  EXPECT_NEAR(ones.mean().item<double>(), 1.0 - 0.1 / std::sqrt(2 * M_PI), 0.003);
  // The unclamped ones: a normal of sigma 0.1 below 1; P(1 - g > 0.1) = P(z > 1) / P(z > 0) = 0.3173.
  EXPECT_NEAR((ones < 0.9).to(torch::kDouble).mean().item<double>(), 0.3173 / 2, 0.01);
}

TEST(WeightColumns, MeasuredLevelErrorsPerturbEachCellByItsLevel) {
  // 2-bit cells, digital subtraction: both sides' columns are levels 0..3 themselves.
  const torch::Tensor w = torch::randint(-15, 16, {300, 200}, torch::kDouble);
  const WeightSlicing clean_slicing = slicing_of(2, 2, false);
  const torch::Tensor clean = weight_columns(w, clean_slicing);
  WeightSlicing slicing = clean_slicing;
  slicing.program_sigma = 0.5;  // ignored: the measured errors replace the preset's model
  slicing.level_mean = {0.125, -0.25, 0.0, -0.5};
  // No spread: every cell of level L is exactly L + mean_L (no clamp, whatever the side).
  slicing.level_std = {0.0, 0.0, 0.0, 0.0};
  const torch::Tensor shifted = weight_columns(w, slicing);
  for (int l = 0; l <= 3; ++l) {
    const torch::Tensor got = shifted.masked_select(clean == l);
    EXPECT_TRUE(torch::all(got == l + slicing.level_mean[std::size_t(l)]).item<bool>()) << "level " << l;
  }
  // With a spread: each level's cells have its mean and std (120,000 cells, 4 sigma bounds).
  slicing.level_std = {0.2, 0.0, 0.3, 0.1};
  torch::manual_seed(9);
  const torch::Tensor a = weight_columns(w, slicing);
  torch::manual_seed(9);
  EXPECT_TRUE(torch::equal(a, weight_columns(w, slicing)));  // seeded
  for (int l = 0; l <= 3; ++l) {
    const torch::Tensor d = a.masked_select(clean == l) - l;
    const double n = double(d.numel()), sd = slicing.level_std[std::size_t(l)];
    ASSERT_GT(n, 1000) << "level " << l;
    EXPECT_NEAR(d.mean().item<double>(), slicing.level_mean[std::size_t(l)], 4 * sd / std::sqrt(n) + 1e-12);
    EXPECT_NEAR(d.std(false).item<double>(), sd, 4 * sd / std::sqrt(2 * n) + 1e-12);
  }
  EXPECT_LT(a.min().item<double>(), 0.0);  // not clamped: level 0's cells spread both ways
}

TEST(DequantizeProduct, EqualsTheOperatorsAndTheirGradients) {
  for (const bool rows_layout : {true, false}) {
    for (const bool with_bias : {true, false}) {
      for (const torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
        torch::manual_seed(4);
        const int64_t B = 3, N = 5, L = 7;
        const torch::Tensor product = torch::randint(-50, 50, {B, N, L}, dtype);
        const torch::Tensor input =
            rows_layout ? product.transpose(1, 2).reshape({B * L, N}).contiguous() : product;
        auto leaf = [](torch::Tensor t) { return t.clone().requires_grad_(true); };
        const torch::Tensor sw0 = torch::rand({N}, dtype) + 0.1, sx0 = torch::rand({1}, dtype) + 0.1,
                            b0 = torch::randn({N}, dtype);
        torch::Tensor pa = leaf(input), swa = leaf(sw0), sxa = leaf(sx0), ba = leaf(b0);
        torch::Tensor pb = leaf(product), swb = leaf(sw0), sxb = leaf(sx0), bb = leaf(b0);
        const torch::Tensor got =
            dequantize_product(pa, B, rows_layout, swa, sxa, with_bias ? ba : torch::Tensor());
        torch::Tensor expected = (pb * swb.reshape({1, N, 1})) * sxb;
        if (with_bias) expected = expected + bb.reshape({1, N, 1});
        ASSERT_TRUE(torch::equal(got, expected)) << rows_layout << with_bias;
        const torch::Tensor r = torch::randn(got.sizes(), dtype);
        (got * r).sum().backward();
        (expected * r).sum().backward();
        const torch::Tensor grad_p = rows_layout ? pb.grad().transpose(1, 2).reshape({B * L, N}) : pb.grad();
        EXPECT_TRUE(torch::allclose(pa.grad(), grad_p, 1e-6, 1e-6));
        EXPECT_TRUE(torch::allclose(swa.grad(), swb.grad(), 1e-5, 1e-5));
        EXPECT_TRUE(torch::allclose(sxa.grad(), sxb.grad(), 1e-5, 1e-5));
        if (with_bias) {
          EXPECT_TRUE(torch::allclose(ba.grad(), bb.grad(), 1e-5, 1e-5));
        }
        EXPECT_GT(swa.grad().abs().sum().item<double>(), 0);
      }
    }
  }
}

// The IR-drop sums written with LibTorch operators (running sums by cumsum, autograd for the
// gradient): value = J - r (sum_q J_q^2 + after J^2).
torch::Tensor wire_sums_by_operators(const torch::Tensor& x, const torch::Tensor& g, double r, double after) {
  const torch::Tensor J = (x.unsqueeze(2) * g.unsqueeze(0)).cumsum(1);  // [M, G, N]
  const torch::Tensor total = J.select(1, x.size(1) - 1);
  return total - r * (J.square().sum(1) + after * total * total);
}

TEST(WireSums, EqualsTheFormulaAndItsGradient) {
  for (const bool integer_levels : {true, false}) {
    torch::manual_seed(3);
    const int64_t M = 300, G = 37, N = 11;  // 300 rows: several of the gradient's row blocks
    const torch::Tensor x = torch::randint(0, 16, {M, G}, torch::kDouble).requires_grad_();
    // target levels 0..7, or fixed-point conductances (multiples of 2^-16) around them
    torch::Tensor levels = torch::randint(0, 8, {G, N}, torch::kDouble);
    if (!integer_levels) levels = (levels + 0.3 * torch::randn({G, N}, torch::kDouble)).mul(65536).round().div(65536);
    const torch::Tensor g = levels.clone().requires_grad_();
    const double r = 1e-3, after = 5;
    const torch::Tensor w = torch::randn({M, N}, torch::kDouble);  // a loss sum(w * value)
    const torch::Tensor fused = wire_sums(x, g, r, after);
    const auto fused_grads = torch::autograd::grad({(fused * w).sum()}, {x, g});
    const torch::Tensor reference = wire_sums_by_operators(x, g, r, after);
    const auto reference_grads = torch::autograd::grad({(reference * w).sum()}, {x, g});
    if (integer_levels) {
      EXPECT_TRUE(torch::equal(fused, reference));  // every term an integer: exact in any order
    } else {
      EXPECT_TRUE(torch::allclose(fused, reference, 1e-12, 1e-9));
    }
    EXPECT_TRUE(torch::allclose(fused_grads[0], reference_grads[0], 1e-10, 1e-8)) << "x";
    EXPECT_TRUE(torch::allclose(fused_grads[1], reference_grads[1], 1e-10, 1e-8)) << "g";
    // the IR drop is in it: r = 0 would give plain sums
    EXPECT_FALSE(torch::allclose(fused, torch::matmul(x, g)));
  }
}

// Forward and gradient do not depend on the number of threads (the gradient of g is summed over fixed
// row blocks); float32 as in training.
TEST(WireSums, ThreadCountIndependent) {
  torch::manual_seed(4);
  const torch::Tensor x = torch::randint(0, 16, {1000, 64}, torch::kFloat).requires_grad_();
  const torch::Tensor g = (torch::rand({64, 24}) * 7).requires_grad_();
  const torch::Tensor w = torch::randn({1000, 24});
  auto run = [&](int threads) {
    torch::set_num_threads(threads);
    const torch::Tensor y = wire_sums(x, g, 3e-4, 40);
    const auto grads = torch::autograd::grad({(y * w).sum()}, {x, g});
    return std::array<torch::Tensor, 3>{y, grads[0], grads[1]};
  };
  const auto one = run(1), two = run(2);
  torch::set_num_threads(2);
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], two[i])) << i;
}

}  // namespace
}  // namespace cimsim::train
