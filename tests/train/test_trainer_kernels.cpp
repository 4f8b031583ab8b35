// The trainer's hand-written kernels against LibTorch's own operators: the convolution rows
// (im2col_rows) against unfold, forward and gradient; the counter-based normal draws for
// determinism under torch::manual_seed, independence of the thread count, and their moments.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>

#include "counter_normals.h"
#include "im2col_rows.h"

namespace cimsim::train {
namespace {

namespace F = torch::nn::functional;

TEST(Im2colRows, EqualsUnfoldAndItsGradient) {
  struct Shape {
    int64_t b, c, h, w, kh, kw, sy, sx, py, px;
  };
  for (const Shape s : {Shape{2, 3, 7, 6, 3, 3, 1, 1, 1, 1}, Shape{3, 2, 9, 8, 5, 3, 2, 1, 2, 0},
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

}  // namespace
}  // namespace cimsim::train
