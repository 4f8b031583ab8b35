#include "wire_sums.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace cimsim::train {
namespace {

// One row m of the backward: the running sums J_k (into J, G x N), then back from the last row
// S = sum_{q >= k} J_q, c = u (1 - 2 r (S + after J)), grad x_k = sum_n c g_k, share of grad g_k += c x_k.
template <typename T>
void backward_row(const T* x, const T* g, const T* u, int64_t G, int64_t N, T two_r, T after, T* J, T* S,
                  T* share, T* grad_x) {
  for (int64_t k = 0; k < G; ++k) {
    const T xv = x[k];
    const T* gk = g + k * N;
    T* jk = J + k * N;
    if (k == 0) {
      for (int64_t n = 0; n < N; ++n) jk[n] = xv * gk[n];
    } else {
      const T* jp = jk - N;
      for (int64_t n = 0; n < N; ++n) jk[n] = jp[n] + xv * gk[n];
    }
  }
  const T* total = J + (G - 1) * N;
  std::fill(S, S + N, T(0));
  for (int64_t k = G - 1; k >= 0; --k) {
    const T* jk = J + k * N;
    const T* gk = g + k * N;
    const T xv = x[k];
    T* sk = share + k * N;
    T dx = 0;
#pragma omp simd reduction(+ : dx)
    for (int64_t n = 0; n < N; ++n) {
      S[n] += jk[n];
      const T c = u[n] * (T(1) - two_r * (S[n] + after * total[n]));
      dx += c * gk[n];
      sk[n] += c * xv;
    }
    grad_x[k] = dx;
  }
}

class WireSums : public torch::autograd::Function<WireSums> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in,
                               const torch::Tensor& g_in, double r, double after) {
    const torch::Tensor x = x_in.contiguous(), g = g_in.contiguous();
    const int64_t M = x.size(0), G = x.size(1), N = g.size(1);
    torch::Tensor out = torch::empty({M, N}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "wire_sums", [&] {
      const scalar_t* xd = x.data_ptr<scalar_t>();
      const scalar_t* gd = g.data_ptr<scalar_t>();
      scalar_t* od = out.data_ptr<scalar_t>();
      const scalar_t rr = scalar_t(r), aa = scalar_t(after);
      at::parallel_for(0, M, 16, [&](int64_t m0, int64_t m1) {
        std::vector<scalar_t> J(static_cast<std::size_t>(N)), C(static_cast<std::size_t>(N));
        for (int64_t m = m0; m < m1; ++m) {
          std::fill(J.begin(), J.end(), scalar_t(0));
          std::fill(C.begin(), C.end(), scalar_t(0));
          for (int64_t k = 0; k < G; ++k) {
            const scalar_t xv = xd[m * G + k];
            const scalar_t* gk = gd + k * N;
            // A zero digit adds +-0 to J, which leaves it as it is (J is never -0).
            if (xv != 0)
              for (int64_t n = 0; n < N; ++n) J[std::size_t(n)] += xv * gk[n];
            for (int64_t n = 0; n < N; ++n) C[std::size_t(n)] += J[std::size_t(n)] * J[std::size_t(n)];
          }
          for (int64_t n = 0; n < N; ++n) {
            const scalar_t j = J[std::size_t(n)];
            od[m * N + n] = j - rr * (C[std::size_t(n)] + aa * j * j);
          }
        }
      });
    });
    ctx->save_for_backward({x, g});
    ctx->saved_data["r"] = r;
    ctx->saved_data["after"] = after;
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor x = saved[0], g = saved[1], u = grads[0].contiguous();
    const double r = ctx->saved_data["r"].toDouble(), after = ctx->saved_data["after"].toDouble();
    const int64_t M = x.size(0), G = x.size(1), N = g.size(1);
    // Rows of x in fixed blocks (at most 64, the same whatever the thread count), each with its own
    // share of grad g, summed in block order.
    const int64_t block = std::max<int64_t>(16, (M + 63) / 64);
    const int64_t blocks = (M + block - 1) / block;
    torch::Tensor grad_x = torch::empty({M, G}, x.options());
    torch::Tensor shares = torch::zeros({blocks, G, N}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "wire_sums_backward", [&] {
      const scalar_t* xd = x.data_ptr<scalar_t>();
      const scalar_t* gd = g.data_ptr<scalar_t>();
      const scalar_t* ud = u.data_ptr<scalar_t>();
      scalar_t* gx = grad_x.data_ptr<scalar_t>();
      scalar_t* sh = shares.data_ptr<scalar_t>();
      const scalar_t two_r = scalar_t(2 * r), aa = scalar_t(after);
      at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
        std::vector<scalar_t> J(static_cast<std::size_t>(G * N)), S(static_cast<std::size_t>(N));
        for (int64_t b = b0; b < b1; ++b) {
          scalar_t* share = sh + b * G * N;
          for (int64_t m = b * block; m < std::min(M, (b + 1) * block); ++m)
            backward_row(xd + m * G, gd, ud + m * N, G, N, two_r, aa, J.data(), S.data(), share, gx + m * G);
        }
      });
    });
    return {grad_x, shares.sum(0), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor wire_sums(const torch::Tensor& x, const torch::Tensor& g, double r, double after) {
  return WireSums::apply(x, g, r, after);
}

}  // namespace cimsim::train
