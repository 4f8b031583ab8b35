#include "cim_mvm_fast.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "adc_ste.h"

namespace cimsim::train {

// The spec travels to the backward in the autograd context's saved data.
void save_spec(torch::autograd::AutogradContext* ctx, const SlicedProductSpec& spec, double lsq_scale) {
  std::vector<int64_t> groups;
  for (const RowGroup& g : spec.groups) {
    groups.push_back(g.begin);
    groups.push_back(g.size);
  }
  ctx->saved_data["groups"] = groups;
  ctx->saved_data["outputs"] = spec.outputs;
  ctx->saved_data["coefficients"] = spec.coefficients;
  ctx->saved_data["scale"] = lsq_scale;
}

std::vector<RowGroup> saved_groups(torch::autograd::AutogradContext* ctx) {
  const std::vector<int64_t> flat = ctx->saved_data["groups"].toIntVector();
  std::vector<RowGroup> groups;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    groups.push_back(RowGroup{int(flat[i]), int(flat[i + 1])});
  return groups;
}

std::vector<torch::Tensor> interval_gradients(torch::autograd::AutogradContext* ctx, double sum_lo,
                                              double sum_hi) {
  const double scale = ctx->saved_data["scale"].toDouble();
  const auto options = torch::TensorOptions().dtype(ctx->saved_data["interval_dtype"].toScalarType());
  return {torch::tensor(sum_lo * scale, options), torch::tensor(sum_hi * scale, options)};
}

torch::Tensor effective_weights(const torch::Tensor& columns, const std::vector<double>& coefficients,
                                int64_t phase, int64_t outputs) {
  const int64_t J = columns.size(1) / outputs;
  torch::Tensor w = torch::zeros({columns.size(0), outputs}, columns.options().dtype(torch::kDouble));
  for (int64_t j = 0; j < J; ++j)
    w.add_(columns.narrow(1, j * outputs, outputs).to(torch::kDouble),
           coefficients[std::size_t(phase * J + j)]);
  return w.to(columns.scalar_type());
}

namespace {

constexpr int64_t kBlockRows = 1024;

// A [rows, cols] matrix view of raw memory (no dispatcher calls, unlike narrow and select).
template <typename T>
torch::Tensor matrix(const T* data, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride,
                     const torch::TensorOptions& options) {
  return torch::from_blob(const_cast<T*>(data), {rows, cols}, {row_stride, col_stride}, options);
}

// Takes back each clipped partial sum's share of the unclipped gradient, for the rows of one row
// group (rows [b, b + size) of x's and the columns' K): st is the group's ADC state of `rows`
// vectors x C signals (non-finite where the conversion clipped), dy their unclipped gradients.
template <typename T>
void take_back_clipped(const T* st, const double* dy, int64_t rows, int64_t C, int64_t K, int64_t b,
                       int64_t size, const T* x, const T* columns_t, T* gx, T* share) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t c = 0; c < C; ++c) {
      if (std::isfinite(double(st[i * C + c]))) continue;
      const T f = T(dy[std::size_t(i * C + c)]);
      T* gx_row = gx + i * K + b;
      const T* c_row = columns_t + c * K + b;
      T* share_row = share + c * K + b;
      const T* x_row = x + i * K + b;
      for (int64_t a = 0; a < size; ++a) {
        gx_row[a] -= f * c_row[a];
        share_row[a] += f * x_row[a];
      }
    }
  }
}

// d loss / d columns[:, j] = sum_p coefficient[p][j] x_p^T grad - the clipped shares, from the
// blocks' products x_p^T grad [blocks, P, K, N] and shares [blocks, C, K], added in block order
// (the same sums for any number of threads).
torch::Tensor columns_gradient(const torch::Tensor& products, const torch::Tensor& clipped_share,
                               const std::vector<double>& coefficients, int64_t N) {
  const int64_t blocks = products.size(0), P = products.size(1), K = products.size(2);
  const int64_t C = clipped_share.size(1), J = C / N;
  torch::Tensor product_sum = torch::zeros({P, K, N}, products.options());
  torch::Tensor share_sum = torch::zeros({C, K}, products.options());
  for (int64_t block = 0; block < blocks; ++block) {
    product_sum.add_(products[block]);
    share_sum.add_(clipped_share[block]);
  }
  torch::Tensor grad_columns = -share_sum.t();
  for (int64_t j = 0; j < J; ++j) {
    torch::Tensor column = grad_columns.narrow(1, j * N, N);
    for (int64_t p = 0; p < P; ++p) column.add_(product_sum[p], coefficients[std::size_t(p * J + j)]);
  }
  return grad_columns;
}

class SlicedAdcProduct : public torch::autograd::Function<SlicedAdcProduct> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xp_in,
                               const torch::Tensor& columns_in, const torch::Tensor& lo,
                               const torch::Tensor& hi, const torch::Tensor& noise,
                               const SlicedProductSpec& spec, double lsq_scale) {
    const torch::Tensor xp = xp_in.contiguous(), columns = columns_in.contiguous();
    const int64_t P = xp.size(0), M = xp.size(1), K = xp.size(2), C = columns.size(1), N = spec.outputs;
    const int64_t J = C / N, G = int64_t(spec.groups.size());
    const double l = lo.item<double>(), h = hi.item<double>();
    const AdcSte adc(l, h, spec.levels, spec.adc_errors);
    torch::Tensor out = torch::empty({M, N}, xp.options());
    torch::Tensor state = torch::empty({P, G, M, C}, xp.options());
    const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;
    AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "sliced_adc_forward", [&] {
      at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        const c10::InferenceMode inference;  // no autograd bookkeeping in the workers
        const auto options = xp.options();
        std::vector<double> acc, value(std::size_t(std::min(kBlockRows, M) * C));
        std::vector<scalar_t> y_buffer(std::size_t(std::min(kBlockRows, M) * C));
        const scalar_t* x_data = xp.data_ptr<scalar_t>();
        const scalar_t* c_data = columns.data_ptr<scalar_t>();
        const scalar_t* noise_data = noise.numel() > 0 ? noise.data_ptr<scalar_t>() : nullptr;
        for (int64_t block = first; block < last; ++block) {
          const int64_t r0 = block * kBlockRows, rows = std::min(kBlockRows, M - r0);
          acc.assign(std::size_t(rows * N), 0.0);
          for (int64_t p = 0; p < P; ++p) {
            const double* coef = spec.coefficients.data() + p * J;
            for (int64_t g = 0; g < G; ++g) {
              const RowGroup& group = spec.groups[std::size_t(g)];
              scalar_t* y = y_buffer.data();
              torch::Tensor y_view = matrix(y, rows, C, C, 1, options);
              torch::mm_out(y_view,
                            matrix(x_data + (p * M + r0) * K + group.begin, rows, group.size, K, 1, options),
                            matrix(c_data + group.begin * C, group.size, C, C, 1, options));
              if (noise_data) {
                const scalar_t* z = noise_data + ((p * G + g) * M + r0) * C;
                for (int64_t k = 0; k < rows * C; ++k) y[k] += z[k];
              }
              scalar_t* st = state.data_ptr<scalar_t>() + ((p * G + g) * M + r0) * C;
              const scalar_t* in = y;
              if (spec.ideal) {
                for (int64_t k = 0; k < rows * C; ++k) {
                  value[std::size_t(k)] = double(in[k]);
                  st[k] = 0;
                }
              } else {
                adc.convert(in, rows * C, value.data(), st);
              }
              shift_add_rows(value.data(), rows, J, N, coef, acc.data());
            }
          }
          scalar_t* o = out.data_ptr<scalar_t>() + r0 * N;
          for (int64_t k = 0; k < rows * N; ++k) o[k] = scalar_t(acc[std::size_t(k)]);
        }
      });
    });
    ctx->save_for_backward({xp, columns, state});
    save_spec(ctx, spec, lsq_scale);
    ctx->saved_data["interval_dtype"] = lo.scalar_type();
    return out;
  }

  // Straight-through: d out / d y = coefficient where the ADC does not clip, 0 where it does. The
  // backward computes the unclipped gradient with two products of the plain layer's size per phase
  // (the columns' coefficients folded in), then takes back each clipped partial sum's share, which
  // costs one row group's rows per clipped partial sum.
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &xp = saved[0], &columns = saved[1], &state = saved[2];
    const torch::Tensor grad = grads[0].contiguous();
    const std::vector<RowGroup> groups = saved_groups(ctx);
    const std::vector<double> coefficients = ctx->saved_data["coefficients"].toDoubleVector();
    const int64_t P = xp.size(0), M = xp.size(1), K = xp.size(2), C = columns.size(1);
    const int64_t N = ctx->saved_data["outputs"].toInt(), J = C / N, G = int64_t(groups.size());
    const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;
    // The effective weights of each phase: sum_j coefficient[p][j] * columns[:, j].
    std::vector<torch::Tensor> effective;
    for (int64_t p = 0; p < P; ++p)
      effective.push_back(effective_weights(columns, coefficients, p, N).t().contiguous());  // [N, K]
    const torch::Tensor columns_t = columns.t().contiguous();                                // [C, K]
    torch::Tensor grad_xp = torch::empty_like(xp);
    // Per block: x_p^T . grad [P, K, N] and the clipped partial sums' share of the columns' gradient [C, K].
    torch::Tensor products = torch::empty({blocks, P, K, N}, xp.options());
    torch::Tensor clipped_share = torch::zeros({blocks, C, K}, xp.options());
    std::vector<double> sum_lo(std::size_t(blocks), 0.0), sum_hi(std::size_t(blocks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "sliced_adc_backward", [&] {
      at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        const c10::InferenceMode inference;  // no autograd bookkeeping in the workers
        const auto options = xp.options();
        std::vector<double> dy(std::size_t(std::min(kBlockRows, M) * C));
        for (int64_t block = first; block < last; ++block) {
          const int64_t r0 = block * kBlockRows, rows = std::min(kBlockRows, M - r0);
          const scalar_t* gout = grad.data_ptr<scalar_t>() + r0 * N;
          const torch::Tensor grad_block = matrix(gout, rows, N, N, 1, options);
          const scalar_t* ct = columns_t.data_ptr<scalar_t>();
          scalar_t* share = clipped_share.data_ptr<scalar_t>() + block * C * K;
          double part_lo = 0, part_hi = 0;
          for (int64_t p = 0; p < P; ++p) {
            const scalar_t* x = xp.data_ptr<scalar_t>() + (p * M + r0) * K;
            scalar_t* gx = grad_xp.data_ptr<scalar_t>() + (p * M + r0) * K;
            torch::Tensor gx_block = matrix(gx, rows, K, K, 1, options);
            torch::mm_out(gx_block, grad_block, effective[std::size_t(p)]);
            torch::Tensor product =
                matrix(products.data_ptr<scalar_t>() + (block * P + p) * K * N, K, N, N, 1, options);
            torch::mm_out(product, matrix(x, K, rows, 1, K, options), grad_block);
            // d loss / d y of every partial sum of the block as if unclipped: coefficient * grad.
            const double* coef = coefficients.data() + p * J;
            unclipped_partial_sum_gradient(gout, rows, J, N, coef, dy.data());
            for (int64_t g = 0; g < G; ++g) {
              const int64_t b = groups[std::size_t(g)].begin, size = groups[std::size_t(g)].size;
              const scalar_t* st = state.data_ptr<scalar_t>() + ((p * G + g) * M + r0) * C;
              // The interval's gradient, and a count of the clipped partial sums (vectorized).
              double lo_sum = 0, hi_sum = 0;
              const int64_t clipped = adc_interval_sums(st, dy.data(), rows * C, lo_sum, hi_sum);
              part_lo += lo_sum;
              part_hi += hi_sum;
              if (clipped != 0) take_back_clipped(st, dy.data(), rows, C, K, b, size, x, ct, gx, share);
            }
          }
          sum_lo[std::size_t(block)] = part_lo;
          sum_hi[std::size_t(block)] = part_hi;
        }
      });
    });
    const torch::Tensor grad_columns = columns_gradient(products, clipped_share, coefficients, N);
    double total_lo = 0, total_hi = 0;  // in block order: the same sums for any number of threads
    for (int64_t block = 0; block < blocks; ++block) {
      total_lo += sum_lo[std::size_t(block)];
      total_hi += sum_hi[std::size_t(block)];
    }
    const std::vector<torch::Tensor> interval = interval_gradients(ctx, total_lo, total_hi);
    return {grad_xp,         grad_columns.contiguous(), interval[0],    interval[1],
            torch::Tensor(), torch::Tensor(),           torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sliced_adc_product(const torch::Tensor& xp, const torch::Tensor& columns,
                                 const torch::Tensor& lo, const torch::Tensor& hi, const torch::Tensor& noise,
                                 const SlicedProductSpec& spec, double lsq_scale) {
  // Function::apply needs defined tensors: no noise is an empty one.
  return SlicedAdcProduct::apply(xp, columns, lo, hi,
                                 noise.defined() ? noise : torch::empty({0}, xp.options()), spec, lsq_scale);
}

}  // namespace cimsim::train
