#include "dequantize.h"

#include <ATen/Parallel.h>

#include <vector>

namespace cimsim::train {
namespace {

// Strides of element (b, n, l) of the product in its layout.
struct Layout {
  int64_t image, channel, position;
};

Layout layout_of(bool rows_layout, int64_t N, int64_t L) {
  return rows_layout ? Layout{L * N, 1, N} : Layout{N * L, L, 1};
}

class DequantizeProduct : public torch::autograd::Function<DequantizeProduct> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& product_in,
                               int64_t batch, bool rows_layout, const torch::Tensor& s_w_in,
                               const torch::Tensor& s_x_in, const torch::Tensor& bias_in) {
    const torch::Tensor product = product_in.contiguous();
    const torch::Tensor s_w = s_w_in.to(product.scalar_type()).contiguous();
    const torch::Tensor s_x = s_x_in.to(product.scalar_type()).contiguous();
    const bool has_bias = bias_in.numel() > 0;
    const torch::Tensor bias = has_bias ? bias_in.to(product.scalar_type()).contiguous() : torch::Tensor();
    const int64_t N = s_w.numel(), L = product.numel() / (batch * N);
    const Layout at = layout_of(rows_layout, N, L);
    torch::Tensor out = torch::empty({batch, N, L}, product.options());
    AT_DISPATCH_FLOATING_TYPES(product.scalar_type(), "dequantize_forward", [&] {
      const scalar_t* p = product.data_ptr<scalar_t>();
      const scalar_t* sw = s_w.data_ptr<scalar_t>();
      const scalar_t sx = *s_x.data_ptr<scalar_t>();
      const scalar_t* bs = has_bias ? bias.data_ptr<scalar_t>() : nullptr;
      scalar_t* o = out.data_ptr<scalar_t>();
      at::parallel_for(0, batch, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          for (int64_t n = 0; n < N; ++n) {
            const scalar_t* pn = p + b * at.image + n * at.channel;
            scalar_t* on = o + (b * N + n) * L;
            for (int64_t l = 0; l < L; ++l) {
              const scalar_t v = (pn[l * at.position] * sw[n]) * sx;
              on[l] = bs ? v + bs[n] : v;
            }
          }
        }
      });
    });
    ctx->save_for_backward({product, s_w, s_x});
    ctx->saved_data["batch"] = batch;
    ctx->saved_data["rows_layout"] = rows_layout;
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["s_w_dtype"] = s_w_in.scalar_type();
    ctx->saved_data["s_x_dtype"] = s_x_in.scalar_type();
    if (has_bias) ctx->saved_data["bias_dtype"] = bias_in.scalar_type();
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &product = saved[0], &s_w = saved[1], &s_x = saved[2];
    const torch::Tensor grad = grads[0].contiguous();
    const int64_t batch = ctx->saved_data["batch"].toInt();
    const bool rows_layout = ctx->saved_data["rows_layout"].toBool();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const int64_t N = s_w.numel(), L = product.numel() / (batch * N);
    const Layout at = layout_of(rows_layout, N, L);
    torch::Tensor grad_product = torch::empty_like(product);
    // Per image: N sums for s_w, N for the bias, one for s_x; then added over images in order.
    std::vector<double> parts(std::size_t(batch * (2 * N + 1)), 0.0);
    AT_DISPATCH_FLOATING_TYPES(product.scalar_type(), "dequantize_backward", [&] {
      const scalar_t* p = product.data_ptr<scalar_t>();
      const scalar_t* sw = s_w.data_ptr<scalar_t>();
      const scalar_t sx = *s_x.data_ptr<scalar_t>();
      const scalar_t* g = grad.data_ptr<scalar_t>();
      scalar_t* gp = grad_product.data_ptr<scalar_t>();
      at::parallel_for(0, batch, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          double* part = parts.data() + b * (2 * N + 1);
          for (int64_t n = 0; n < N; ++n) {
            const scalar_t* pn = p + b * at.image + n * at.channel;
            scalar_t* gpn = gp + b * at.image + n * at.channel;
            const scalar_t* gn = g + (b * N + n) * L;
            double sum_w = 0, sum_x = 0, sum_b = 0;
            for (int64_t l = 0; l < L; ++l) {
              const scalar_t gx = gn[l] * sx;  // the gradient reaching (product * s_w)
              gpn[l * at.position] = gx * sw[n];
              sum_w += double(gx) * double(pn[l * at.position]);
              sum_x += double(gn[l]) * double(pn[l * at.position] * sw[n]);
              sum_b += double(gn[l]);
            }
            part[n] = sum_w;
            part[N + n] = sum_b;
            part[2 * N] += sum_x;
          }
        }
      });
    });
    std::vector<double> sum(std::size_t(2 * N + 1), 0.0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < 2 * N + 1; ++i) sum[std::size_t(i)] += parts[std::size_t(b * (2 * N + 1) + i)];
    auto tensor = [&](int64_t first, int64_t count, const char* dtype_key) {
      const auto options = torch::TensorOptions().dtype(torch::kDouble);
      // clone: `sum` dies with this function, and to() keeps its storage for a double dtype
      return torch::from_blob(sum.data() + first, {count}, options)
          .to(ctx->saved_data[dtype_key].toScalarType())
          .clone();
    };
    return {grad_product,
            torch::Tensor(),
            torch::Tensor(),
            tensor(0, N, "s_w_dtype"),
            tensor(2 * N, 1, "s_x_dtype"),
            has_bias ? tensor(N, N, "bias_dtype") : torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dequantize_product(const torch::Tensor& product, int64_t batch, bool rows_layout,
                                 const torch::Tensor& s_w, const torch::Tensor& s_x,
                                 const torch::Tensor& bias) {
  // Function::apply takes no undefined tensors: an empty one stands for "no bias".
  return DequantizeProduct::apply(product, batch, rows_layout, s_w, s_x,
                                  bias.defined() ? bias : torch::empty({0}, s_w.options()));
}

}  // namespace cimsim::train
