#include "cim_mvm_fast.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "adc_ste.h"

namespace cimsim::train {
namespace {

constexpr int64_t kBlockRows = 1024;

// The spec travels to the backward in the autograd context's saved data.
void save(torch::autograd::AutogradContext* ctx, const SlicedProductSpec& spec) {
  std::vector<int64_t> groups;
  for (const RowGroup& g : spec.groups) {
    groups.push_back(g.begin);
    groups.push_back(g.size);
  }
  ctx->saved_data["groups"] = groups;
  ctx->saved_data["outputs"] = spec.outputs;
  ctx->saved_data["coefficients"] = spec.coefficients;
  ctx->saved_data["scale"] = spec.lsq_scale;
}

std::vector<RowGroup> saved_groups(torch::autograd::AutogradContext* ctx) {
  const std::vector<int64_t> flat = ctx->saved_data["groups"].toIntVector();
  std::vector<RowGroup> groups;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    groups.push_back(RowGroup{int(flat[i]), int(flat[i + 1])});
  return groups;
}

class SlicedAdcProduct : public torch::autograd::Function<SlicedAdcProduct> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xp_in,
                               const torch::Tensor& columns_in, const torch::Tensor& lo,
                               const torch::Tensor& hi, const torch::Tensor& noise,
                               const SlicedProductSpec& spec) {
    const torch::Tensor xp = xp_in.contiguous(), columns = columns_in.contiguous();
    const int64_t P = xp.size(0), M = xp.size(1), C = columns.size(1), N = spec.outputs, J = C / N;
    const int64_t G = int64_t(spec.groups.size());
    const double l = lo.item<double>(), h = hi.item<double>();
    const AdcSte adc(l, h, spec.levels, spec.adc_errors);
    torch::Tensor out = torch::empty({M, N}, xp.options());
    torch::Tensor state = torch::empty({P, G, M, C}, xp.options());
    const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;
    AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "sliced_adc_forward", [&] {
      at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        const torch::NoGradGuard no_grad;  // grad mode is per thread
        std::vector<double> acc, value(std::size_t(std::min(kBlockRows, M) * C));
        for (int64_t block = first; block < last; ++block) {
          const int64_t r0 = block * kBlockRows, rows = std::min(kBlockRows, M - r0);
          acc.assign(std::size_t(rows * N), 0.0);
          for (int64_t p = 0; p < P; ++p) {
            const double* coef = spec.coefficients.data() + p * J;
            for (int64_t g = 0; g < G; ++g) {
              const RowGroup& group = spec.groups[std::size_t(g)];
              torch::Tensor y = torch::mm(xp[p].narrow(0, r0, rows).narrow(1, group.begin, group.size),
                                          columns.narrow(0, group.begin, group.size));
              if (noise.numel() > 0) y.add_(noise[p][g].narrow(0, r0, rows));
              scalar_t* st = state.data_ptr<scalar_t>() + ((p * G + g) * M + r0) * C;
              const scalar_t* in = y.data_ptr<scalar_t>();
              if (spec.ideal) {
                for (int64_t k = 0; k < rows * C; ++k) {
                  value[std::size_t(k)] = double(in[k]);
                  st[k] = 0;
                }
              } else {
                adc.convert(in, rows * C, value.data(), st);
              }
              for (int64_t i = 0; i < rows; ++i) {
                double* a = acc.data() + i * N;
                const double* v = value.data() + i * C;
                for (int64_t j = 0; j < J; ++j)
                  for (int64_t n = 0; n < N; ++n) a[n] += coef[j] * v[j * N + n];
              }
            }
          }
          scalar_t* o = out.data_ptr<scalar_t>() + r0 * N;
          for (int64_t k = 0; k < rows * N; ++k) o[k] = scalar_t(acc[std::size_t(k)]);
        }
      });
    });
    ctx->save_for_backward({xp, columns, state});
    save(ctx, spec);
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
    for (int64_t p = 0; p < P; ++p) {
      torch::Tensor w = torch::zeros({K, N}, columns.options().dtype(torch::kDouble));
      for (int64_t j = 0; j < J; ++j)
        w.add_(columns.narrow(1, j * N, N).to(torch::kDouble), coefficients[std::size_t(p * J + j)]);
      effective.push_back(w.to(columns.scalar_type()).t().contiguous());  // [N, K]
    }
    const torch::Tensor columns_t = columns.t().contiguous();  // [C, K]
    torch::Tensor grad_xp = torch::empty_like(xp);
    // Per block: x_p^T . grad [P, K, N] and the clipped partial sums' share of the columns' gradient [C, K].
    torch::Tensor products = torch::empty({blocks, P, K, N}, xp.options());
    torch::Tensor clipped_share = torch::zeros({blocks, C, K}, xp.options());
    std::vector<double> sum_lo(std::size_t(blocks), 0.0), sum_hi(std::size_t(blocks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(xp.scalar_type(), "sliced_adc_backward", [&] {
      at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        const torch::NoGradGuard no_grad;  // grad mode is per thread
        for (int64_t block = first; block < last; ++block) {
          const int64_t r0 = block * kBlockRows, rows = std::min(kBlockRows, M - r0);
          const torch::Tensor grad_block = grad.narrow(0, r0, rows);
          const scalar_t* gout = grad_block.data_ptr<scalar_t>();
          const scalar_t* ct = columns_t.data_ptr<scalar_t>();
          scalar_t* share = clipped_share[block].data_ptr<scalar_t>();
          double part_lo = 0, part_hi = 0;
          for (int64_t p = 0; p < P; ++p) {
            const torch::Tensor x_block = xp[p].narrow(0, r0, rows);
            torch::Tensor gx_block = grad_xp[p].narrow(0, r0, rows);
            torch::mm_out(gx_block, grad_block, effective[std::size_t(p)]);
            torch::Tensor product = products[block][p];
            torch::mm_out(product, x_block.t(), grad_block);
            const scalar_t* x = x_block.data_ptr<scalar_t>();
            scalar_t* gx = gx_block.data_ptr<scalar_t>();
            const double* coef = coefficients.data() + p * J;
            for (int64_t g = 0; g < G; ++g) {
              const int64_t b = groups[std::size_t(g)].begin, size = groups[std::size_t(g)].size;
              const scalar_t* st = state.data_ptr<scalar_t>() + ((p * G + g) * M + r0) * C;
              for (int64_t i = 0; i < rows; ++i) {
                for (int64_t j = 0; j < J; ++j) {
                  for (int64_t n = 0; n < N; ++n) {
                    const int64_t c = j * N + n;
                    const double go = coef[j] * double(gout[i * N + n]), s = double(st[i * C + c]);
                    if (std::isfinite(s)) {
                      part_lo -= go * s;
                      part_hi += go * s;
                      continue;
                    }
                    (s < 0 ? part_lo : part_hi) += go;
                    // Take back this partial sum's share of the unclipped gradient.
                    const scalar_t f = scalar_t(go);
                    scalar_t* gx_row = gx + i * K + b;
                    const scalar_t* c_row = ct + c * K + b;
                    scalar_t* share_row = share + c * K + b;
                    const scalar_t* x_row = x + i * K + b;
                    for (int64_t a = 0; a < size; ++a) {
                      gx_row[a] -= f * c_row[a];
                      share_row[a] += f * x_row[a];
                    }
                  }
                }
              }
            }
          }
          sum_lo[std::size_t(block)] = part_lo;
          sum_hi[std::size_t(block)] = part_hi;
        }
      });
    });
    // The blocks' parts in block order: the same sums for any number of threads.
    torch::Tensor product_sum = torch::zeros({P, K, N}, xp.options());
    torch::Tensor share_sum = torch::zeros({C, K}, xp.options());
    double total_lo = 0, total_hi = 0;
    for (int64_t block = 0; block < blocks; ++block) {
      product_sum.add_(products[block]);
      share_sum.add_(clipped_share[block]);
      total_lo += sum_lo[std::size_t(block)];
      total_hi += sum_hi[std::size_t(block)];
    }
    // d loss / d columns[:, j] = sum_p coefficient[p][j] x_p^T grad - the clipped shares.
    torch::Tensor grad_columns = -share_sum.t();
    for (int64_t j = 0; j < J; ++j) {
      torch::Tensor column = grad_columns.narrow(1, j * N, N);
      for (int64_t p = 0; p < P; ++p) column.add_(product_sum[p], coefficients[std::size_t(p * J + j)]);
    }
    const double scale = ctx->saved_data["scale"].toDouble();
    const auto options = torch::TensorOptions().dtype(ctx->saved_data["interval_dtype"].toScalarType());
    return {grad_xp,
            grad_columns.contiguous(),
            torch::tensor(total_lo * scale, options),
            torch::tensor(total_hi * scale, options),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sliced_adc_product(const torch::Tensor& xp, const torch::Tensor& columns,
                                 const torch::Tensor& lo, const torch::Tensor& hi, const torch::Tensor& noise,
                                 const SlicedProductSpec& spec) {
  // Function::apply needs defined tensors: no noise is an empty one.
  return SlicedAdcProduct::apply(xp, columns, lo, hi,
                                 noise.defined() ? noise : torch::empty({0}, xp.options()), spec);
}

}  // namespace cimsim::train
