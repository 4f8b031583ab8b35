#include "im2col_rows.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace cimsim::train {
namespace {

struct Geometry {
  int64_t batch, channels, height, width, kh, kw, sy, sx, py, px, oh, ow;
  int64_t columns() const { return channels * kh * kw; }
  int64_t pixels() const { return oh * ow; }
};

// Calls f(k, pixel, count) for every run of `count` row elements k.. that read the input
// pixels pixel.. of image b in a row (pixel -1: outside the image, zeros).
template <typename F>
void for_each_run(const Geometry& g, int64_t b, F&& f) {
  const int64_t K = g.columns();
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int64_t row = b * g.pixels() + oy * g.ow + ox;
      const int64_t x0 = ox * g.sx - g.px;
      // kx in [lo, hi) reads inside the image.
      const int64_t lo = std::max<int64_t>(0, -x0), hi = std::min<int64_t>(g.kw, g.width - x0);
      for (int64_t c = 0; c < g.channels; ++c) {
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sy - g.py + ky;
          const int64_t k = row * K + (c * g.kh + ky) * g.kw;
          if (iy < 0 || iy >= g.height || hi <= lo) {
            f(k, -1, g.kw);
            continue;
          }
          if (lo > 0) f(k, -1, lo);
          f(k + lo, (c * g.height + iy) * g.width + x0 + lo, hi - lo);
          if (hi < g.kw) f(k + hi, -1, g.kw - hi);
        }
      }
    }
  }
}

class Im2colRows : public torch::autograd::Function<Im2colRows> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in, Geometry g) {
    const torch::Tensor x = x_in.contiguous();
    torch::Tensor rows = torch::empty({g.batch * g.pixels(), g.columns()}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "im2col_rows", [&] {
      const scalar_t* in = x.data_ptr<scalar_t>();
      scalar_t* out = rows.data_ptr<scalar_t>();
      const int64_t image = g.channels * g.height * g.width;
      at::parallel_for(0, g.batch, 1, [&](int64_t first, int64_t last) {
        for (int64_t b = first; b < last; ++b) {
          const scalar_t* img = in + b * image;
          for_each_run(g, b, [&](int64_t k, int64_t pixel, int64_t count) {
            for (int64_t i = 0; i < count; ++i) out[k + i] = pixel < 0 ? scalar_t(0) : img[pixel + i];
          });
        }
      });
    });
    const std::vector<int64_t> geometry{g.batch, g.channels, g.height, g.width, g.kh, g.kw,
                                        g.sy,    g.sx,       g.py,     g.px,    g.oh, g.ow};
    ctx->saved_data["geometry"] = geometry;
    return rows;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const std::vector<int64_t> v = ctx->saved_data["geometry"].toIntVector();
    const Geometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
    const torch::Tensor grad = grads[0].contiguous();
    torch::Tensor grad_x = torch::zeros({g.batch, g.channels, g.height, g.width}, grad.options());
    AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "im2col_rows_backward", [&] {
      const scalar_t* in = grad.data_ptr<scalar_t>();
      scalar_t* out = grad_x.data_ptr<scalar_t>();
      const int64_t image = g.channels * g.height * g.width;
      at::parallel_for(0, g.batch, 1, [&](int64_t first, int64_t last) {
        for (int64_t b = first; b < last; ++b) {
          scalar_t* img = out + b * image;
          for_each_run(g, b, [&](int64_t k, int64_t pixel, int64_t count) {
            if (pixel >= 0)
              for (int64_t i = 0; i < count; ++i) img[pixel + i] += in[k + i];
          });
        }
      });
    });
    return {grad_x, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor im2col_rows(const torch::Tensor& x, std::array<int64_t, 2> kernel,
                          std::array<int64_t, 2> stride, std::array<int64_t, 2> padding) {
  Geometry g{x.size(0), x.size(1), x.size(2),  x.size(3),  kernel[0], kernel[1],
             stride[0], stride[1], padding[0], padding[1], 0,         0};
  g.oh = (g.height + 2 * g.py - g.kh) / g.sy + 1;
  g.ow = (g.width + 2 * g.px - g.kw) / g.sx + 1;
  return Im2colRows::apply(x, g);
}

}  // namespace cimsim::train
