#include "weight_columns.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "counter_normals.h"

namespace cimsim::train {
namespace {

class WeightColumns : public torch::autograd::Function<WeightColumns> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& w_in,
                               const WeightSlicing& slicing) {
    const torch::Tensor w = w_in.contiguous();
    const int64_t K = w.size(0), N = w.size(1), S = slicing.slices, sides = slicing.sides();
    const bool measured = !slicing.level_mean.empty();
    const bool lognormal = !measured && slicing.program_lognormal_sigma > 0;
    const bool additive = measured || slicing.program_sigma > 0;
    if (measured && (slicing.level_mean.size() != std::size_t(slicing.g_max) + 1 ||
                     slicing.level_std.size() != slicing.level_mean.size()))
      throw std::logic_error("weight_columns: per-level errors for another cell level count");
    // Draws for both sides' levels [2, S, K, N], whatever the subtraction (analog programs both too).
    torch::Tensor z_log, z_add;
    if (lognormal) z_log = counter_normals({2, S, K, N}, w.scalar_type(), RngTag::kProgramLognormal);
    if (additive) z_add = counter_normals({2, S, K, N}, w.scalar_type(), RngTag::kProgramAdditive);
    torch::Tensor columns = torch::empty({K, sides * S * N}, w.options());
    AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "weight_columns", [&] {
      const scalar_t* wd = w.data_ptr<scalar_t>();
      const scalar_t* zl = lognormal ? z_log.data_ptr<scalar_t>() : nullptr;
      const scalar_t* za = additive ? z_add.data_ptr<scalar_t>() : nullptr;
      scalar_t* out = columns.data_ptr<scalar_t>();
      const scalar_t g_max = scalar_t(slicing.g_max), modulus = scalar_t(slicing.g_max + 1.0);
      const scalar_t log_sigma = scalar_t(slicing.program_lognormal_sigma);
      const scalar_t add_sigma = scalar_t(slicing.program_sigma * slicing.g_max);
      std::vector<scalar_t> mean_of, std_of;  // per level (measured)
      for (std::size_t l = 0; measured && l < slicing.level_mean.size(); ++l) {
        mean_of.push_back(scalar_t(slicing.level_mean[l]));
        std_of.push_back(scalar_t(slicing.level_std[l]));
      }
      at::parallel_for(0, K, 16, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) {
          for (int64_t s = 0; s < S; ++s) {
            const scalar_t shift = scalar_t(std::ldexp(1.0, int(s) * slicing.cell_bits));
            for (int64_t n = 0; n < N; ++n) {
              const scalar_t v = wd[k * N + n];
              const scalar_t slice = std::fmod(std::floor(std::abs(v) / shift), modulus);
              scalar_t level[2] = {v > 0 ? slice : scalar_t(0), v < 0 ? slice : scalar_t(0)};
              if (lognormal || additive) {
                for (int64_t side = 0; side < 2; ++side) {
                  const int64_t z = ((side * S + s) * K + k) * N + n;
                  scalar_t g = level[side];
                  if (measured) {
                    const std::size_t l = std::size_t(g);
                    level[side] = g + mean_of[l] + std_of[l] * za[z];
                    continue;
                  }
                  if (lognormal) g = g * std::exp(log_sigma * zl[z]);
                  if (additive) g = g + add_sigma * za[z];
                  level[side] = std::min(std::max(g, scalar_t(0)), g_max);
                }
              }
              if (sides == 1) {
                out[k * S * N + s * N + n] = level[0] - level[1];
              } else {
                out[k * 2 * S * N + s * N + n] = level[0];
                out[k * 2 * S * N + (S + s) * N + n] = level[1];
              }
            }
          }
        }
      });
    });
    ctx->save_for_backward({w});
    ctx->saved_data["slices"] = S;
    ctx->saved_data["cell_bits"] = int64_t(slicing.cell_bits);
    ctx->saved_data["sides"] = sides;
    ctx->saved_data["analog"] = slicing.analog;
    return columns;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor w = ctx->get_saved_variables()[0];
    const torch::Tensor grad = grads[0].contiguous();
    const int64_t K = w.size(0), N = w.size(1), S = ctx->saved_data["slices"].toInt();
    const int64_t sides = ctx->saved_data["sides"].toInt();
    const bool analog = ctx->saved_data["analog"].toBool();
    const int cell_bits = int(ctx->saved_data["cell_bits"].toInt());
    torch::Tensor grad_w = torch::empty_like(w);
    AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "weight_columns_backward", [&] {
      const scalar_t* wd = w.data_ptr<scalar_t>();
      const scalar_t* g = grad.data_ptr<scalar_t>();
      scalar_t* gw = grad_w.data_ptr<scalar_t>();
      std::vector<scalar_t> weight(static_cast<std::size_t>(S));
      for (int64_t s = 0; s < S; ++s)
        weight[std::size_t(s)] = scalar_t(1.0 / (std::ldexp(1.0, int(s) * cell_bits) * double(S)));
      at::parallel_for(0, K, 16, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) {
          const scalar_t* row = g + k * sides * S * N;
          for (int64_t n = 0; n < N; ++n) {
            const scalar_t v = wd[k * N + n];
            scalar_t sum = 0;
            if (analog && sides == 2) {
              // Split sides: the pair's column is c = L+ - L-, so d/dc = (d/dL+ - d/dL-) / 2 when the
              // loss sees c only; every w, zero included, gets analog's share of it.
              for (int64_t s = 0; s < S; ++s)
                sum += weight[std::size_t(s)] * scalar_t(0.5) * (row[s * N + n] - row[(S + s) * N + n]);
              gw[k * N + n] = sum;
              continue;
            }
            // digital: the positive side where w > 0, minus the negative side where w < 0, none at 0
            const int64_t side = sides == 1 || v > 0 ? 0 : 1;
            const scalar_t sign = sides == 1 || v > 0 ? scalar_t(1) : v < 0 ? scalar_t(-1) : scalar_t(0);
            for (int64_t s = 0; s < S; ++s) sum += weight[std::size_t(s)] * row[(side * S + s) * N + n];
            gw[k * N + n] = sign * sum;
          }
        }
      });
    });
    return {grad_w, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor weight_columns(const torch::Tensor& w, const WeightSlicing& slicing) {
  return WeightColumns::apply(w, slicing);
}

}  // namespace cimsim::train
