#include "cim_conv_fast.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "adc_ste.h"

namespace cimsim::train {
namespace {

constexpr int64_t kChunkImages = 8;

std::vector<int64_t> geometry_vector(const ConvGeometry& g) {
  return {g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w};
}

ConvGeometry geometry_of(const std::vector<int64_t>& v) { return {v[0], v[1], v[2], v[3], v[4], v[5]}; }

// The columns of rows [begin, begin + size) as convolution weights [C, size / (kh kw), kh, kw].
torch::Tensor group_weights(const torch::Tensor& columns, const RowGroup& group, const ConvGeometry& g) {
  return columns.narrow(0, group.begin, group.size)
      .t()
      .reshape({columns.size(1), group.size / (g.kernel_h * g.kernel_w), g.kernel_h, g.kernel_w})
      .contiguous(at::MemoryFormat::ChannelsLast);
}

// The unclipped gradients of the inputs [P, B, H, W, C_in] and the columns [K, C]: per phase the
// backward of a plain convolution with the effective weights.
void unclipped_gradients(const torch::Tensor& xl, const torch::Tensor& columns, const torch::Tensor& grad,
                         const std::vector<double>& coefficients, const ConvGeometry& geo, int64_t N,
                         torch::Tensor& grad_xl, torch::Tensor& grad_columns) {
  const int64_t P = xl.size(0), B = xl.size(1), H = xl.size(2), W = xl.size(3), Cin = xl.size(4);
  const int64_t K = columns.size(0), J = columns.size(1) / N;
  const int64_t oh = geo.output_h(H), ow = geo.output_w(W);
  for (int64_t p = 0; p < P; ++p) {
    const torch::Tensor weight = effective_weights(columns, coefficients, p, N)
                                     .t()
                                     .reshape({N, Cin, geo.kernel_h, geo.kernel_w})
                                     .contiguous(at::MemoryFormat::ChannelsLast);
    auto [grad_x, grad_w, grad_b] = at::convolution_backward(
        grad.view({B, oh, ow, N}).permute({0, 3, 1, 2}), xl[p].permute({0, 3, 1, 2}), weight, c10::nullopt,
        {geo.stride_h, geo.stride_w}, {geo.pad_h, geo.pad_w}, {1, 1}, false, {0, 0}, 1, {true, true, false});
    grad_xl[p].permute({0, 3, 1, 2}).copy_(grad_x);
    // grad_w [N, C_in, kh, kw] -> [K, N] in the columns' (channel, ky, kx) row order
    const torch::Tensor grad_effective = grad_w.reshape({N, K}).t();
    for (int64_t j = 0; j < J; ++j)
      grad_columns.narrow(1, j * N, N).add_(grad_effective, coefficients[std::size_t(p * J + j)]);
  }
}

class SlicedAdcConv : public torch::autograd::Function<SlicedAdcConv> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xp_in,
                               const torch::Tensor& columns_in, const torch::Tensor& lo,
                               const torch::Tensor& hi, const torch::Tensor& noise,
                               const SlicedProductSpec& spec, const ConvGeometry& geo, double lsq_scale) {
    // Channels last ([P, B, H, W, C_in] in memory): oneDNN's convolutions of a few channels are
    // several times faster so, and the partial sums come out as rows [B, L, C].
    const torch::Tensor xl = xp_in.permute({0, 1, 3, 4, 2}).contiguous();
    const torch::Tensor columns = columns_in.contiguous();
    const int64_t P = xp_in.size(0), B = xp_in.size(1), C = columns.size(1), N = spec.outputs, J = C / N;
    const int64_t G = int64_t(spec.groups.size()), taps = geo.kernel_h * geo.kernel_w;
    const AdcSte adc(lo.item<double>(), hi.item<double>(), spec.levels, spec.adc_errors);
    std::vector<torch::Tensor> weights;  // per group, the same in every phase
    for (const RowGroup& group : spec.groups) weights.push_back(group_weights(columns, group, geo));
    torch::Tensor acc, state;  // acc: the outputs [B, L, N] in double
    int64_t L = 0;
    for (int64_t p = 0; p < P; ++p) {
      const torch::Tensor x = xl[p].permute({0, 3, 1, 2});  // [B, C_in, H, W], channels-last strides
      const double* coef = spec.coefficients.data() + p * J;
      for (int64_t g = 0; g < G; ++g) {
        const RowGroup& group = spec.groups[std::size_t(g)];
        const torch::Tensor y =
            at::conv2d(x.narrow(1, group.begin / taps, group.size / taps), weights[std::size_t(g)], {},
                       {geo.stride_h, geo.stride_w}, {geo.pad_h, geo.pad_w})
                .permute({0, 2, 3, 1})
                .contiguous();  // [B, oh, ow, C]: a view when oneDNN kept channels last
        if (!state.defined()) {
          L = y.size(1) * y.size(2);
          state = torch::empty({P, G, B, L, C}, xl.options());
          acc = torch::zeros({B, L, N}, torch::TensorOptions().dtype(torch::kDouble));
        }
        if (noise.numel() > 0) y.add_(noise[p][g].view(y.sizes()));  // [B, oh, ow, C]
        AT_DISPATCH_FLOATING_TYPES(xl.scalar_type(), "sliced_adc_conv_forward", [&] {
          const scalar_t* y_data = y.data_ptr<scalar_t>();
          scalar_t* st_data = state.data_ptr<scalar_t>() + (p * G + g) * B * L * C;
          at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
            std::vector<double> value(std::size_t(L * C));
            for (int64_t b = b0; b < b1; ++b) {
              const scalar_t* in = y_data + b * L * C;
              scalar_t* st = st_data + b * L * C;
              if (spec.ideal) {
                for (int64_t k = 0; k < L * C; ++k) {
                  value[std::size_t(k)] = double(in[k]);
                  st[k] = 0;
                }
              } else {
                adc.convert(in, L * C, value.data(), st);
              }
              shift_add_rows(value.data(), L, J, N, coef, acc.data_ptr<double>() + b * L * N);
            }
          });
        });
      }
    }
    const torch::Tensor out = acc.to(xl.scalar_type()).view({B * L, N});
    ctx->save_for_backward({xl, columns, state});
    save_spec(ctx, spec, lsq_scale);
    ctx->saved_data["geometry"] = geometry_vector(geo);
    ctx->saved_data["interval_dtype"] = lo.scalar_type();
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &xl = saved[0], &columns = saved[1], &state = saved[2];
    const std::vector<RowGroup> groups = saved_groups(ctx);
    const std::vector<double> coefficients = ctx->saved_data["coefficients"].toDoubleVector();
    const ConvGeometry geo = geometry_of(ctx->saved_data["geometry"].toIntVector());
    const int64_t P = xl.size(0), B = xl.size(1), H = xl.size(2), W = xl.size(3), Cin = xl.size(4);
    const int64_t K = columns.size(0), C = columns.size(1), N = ctx->saved_data["outputs"].toInt(), J = C / N;
    const int64_t G = int64_t(groups.size()), L = state.size(3), taps = geo.kernel_h * geo.kernel_w;
    const int64_t ow = geo.output_w(W);
    const torch::Tensor grad = grads[0].contiguous();  // [B L, N]
    torch::Tensor grad_xl = torch::empty_like(xl);
    torch::Tensor grad_columns = torch::zeros({K, C}, columns.options());
    unclipped_gradients(xl, columns, grad, coefficients, geo, N, grad_xl, grad_columns);
    // The interval's gradient and the clipped partial sums' shares, per chunk of images.
    const int64_t chunks = (B + kChunkImages - 1) / kChunkImages;
    torch::Tensor clipped_share = torch::zeros({chunks, C, K}, xl.options());
    std::vector<double> sum_lo(std::size_t(chunks), 0.0), sum_hi(std::size_t(chunks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(xl.scalar_type(), "sliced_adc_conv_backward", [&] {
      const scalar_t* g_data = grad.data_ptr<scalar_t>();
      const scalar_t* c_data = columns.data_ptr<scalar_t>();
      at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
        std::vector<double> dy(std::size_t(L * C));
        for (int64_t chunk = first; chunk < last; ++chunk) {
          scalar_t* share = clipped_share.data_ptr<scalar_t>() + chunk * C * K;
          for (int64_t b = chunk * kChunkImages; b < std::min(B, (chunk + 1) * kChunkImages); ++b) {
            const scalar_t* gout = g_data + b * L * N;
            for (int64_t p = 0; p < P; ++p) {
              const double* coef = coefficients.data() + p * J;
              unclipped_partial_sum_gradient(gout, L, J, N, coef, dy.data());
              const scalar_t* x = xl.data_ptr<scalar_t>() + (p * B + b) * H * W * Cin;
              scalar_t* gx = grad_xl.data_ptr<scalar_t>() + (p * B + b) * H * W * Cin;
              for (int64_t g = 0; g < G; ++g) {
                const scalar_t* st = state.data_ptr<scalar_t>() + ((p * G + g) * B + b) * L * C;
                const int64_t clipped = adc_interval_sums(st, dy.data(), L * C, sum_lo[std::size_t(chunk)],
                                                          sum_hi[std::size_t(chunk)]);
                if (clipped == 0) continue;
                const RowGroup& group = groups[std::size_t(g)];
                for (int64_t l = 0; l < L; ++l) {
                  const int64_t y0 = (l / ow) * geo.stride_h - geo.pad_h,
                                x0 = (l % ow) * geo.stride_w - geo.pad_w;
                  for (int64_t c = 0; c < C; ++c) {
                    if (std::isfinite(double(st[l * C + c]))) continue;
                    const scalar_t f = scalar_t(dy[std::size_t(l * C + c)]);
                    for (int64_t k = group.begin; k < group.begin + group.size; ++k) {
                      const int64_t iy = y0 + (k % taps) / geo.kernel_w, ix = x0 + (k % taps) % geo.kernel_w;
                      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                      const int64_t at = (iy * W + ix) * Cin + k / taps;
                      gx[at] -= f * c_data[k * C + c];
                      share[c * K + k] += f * x[at];
                    }
                  }
                }
              }
            }
          }
        }
      });
    });
    double total_lo = 0, total_hi = 0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      grad_columns.sub_(clipped_share[chunk].t());
      total_lo += sum_lo[std::size_t(chunk)];
      total_hi += sum_hi[std::size_t(chunk)];
    }
    const std::vector<torch::Tensor> interval = interval_gradients(ctx, total_lo, total_hi);
    return {grad_xl.permute({0, 1, 4, 2, 3}),
            grad_columns,
            interval[0],
            interval[1],
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool groups_hold_whole_channels(const SlicedProductSpec& spec, const ConvGeometry& geometry) {
  const int64_t taps = geometry.kernel_h * geometry.kernel_w;
  return std::all_of(spec.groups.begin(), spec.groups.end(),
                     [&](const RowGroup& g) { return g.begin % taps == 0 && g.size % taps == 0; });
}

torch::Tensor sliced_adc_conv(const torch::Tensor& xp, const torch::Tensor& columns, const torch::Tensor& lo,
                              const torch::Tensor& hi, const torch::Tensor& noise,
                              const SlicedProductSpec& spec, const ConvGeometry& geometry, double lsq_scale) {
  // Function::apply needs defined tensors: no noise is an empty one.
  return SlicedAdcConv::apply(xp, columns, lo, hi, noise.defined() ? noise : torch::empty({0}, xp.options()),
                              spec, geometry, lsq_scale);
}

}  // namespace cimsim::train
