#include "cim_mvm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace cimsim::train {
namespace {

// value forward, gradient of `surrogate` backward: value + (surrogate - surrogate) adds an exact 0.
torch::Tensor with_gradient_of(const torch::Tensor& value, const torch::Tensor& surrogate) {
  return value.detach() + (surrogate - surrogate.detach());
}

}  // namespace

CimMvm::CimMvm(const HwConfig& hw, LayerMapping mapping) : hw_(hw), mapping_(std::move(mapping)) {
  int width = 0;
  for (const RowGroup& g : mapping_.groups) width = std::max(width, g.size);
  const int64_t groups = int64_t(mapping_.groups.size());
  group_index_ = torch::full({groups, width}, int64_t(mapping_.inputs), torch::kLong);
  auto index = group_index_.accessor<int64_t, 2>();
  for (int64_t g = 0; g < groups; ++g) {
    const RowGroup& rg = mapping_.groups[std::size_t(g)];
    for (int a = 0; a < rg.size; ++a) index[g][a] = rg.begin + a;
  }
}

torch::Tensor CimMvm::digits(const torch::Tensor& x) const {
  const MacroConfig& m = hw_.macro;
  const int phases = m.phases();
  const torch::Tensor xd = x.detach();
  std::vector<torch::Tensor> out;
  for (int p = 0; p < phases; ++p) {
    const double shift = std::ldexp(1.0, p * m.dac_bits);
    // x integer-valued and below 2^16: floor(x / 2^(p db)) is exact, so is the remainder.
    const torch::Tensor digit = torch::remainder(torch::floor(xd / shift), double(1 << m.dac_bits));
    out.push_back(with_gradient_of(digit, x * (1.0 / (shift * phases))));
  }
  return torch::stack(out);
}

std::vector<torch::Tensor> CimMvm::levels(const torch::Tensor& w, const CimNoise& noise) const {
  const MacroConfig& m = hw_.macro;
  const int slices = m.slices();
  const double g_max = m.max_cell_level();
  const torch::Tensor wd = w.detach();
  const torch::Tensor magnitude = wd.abs();
  const torch::Tensor positive = (wd > 0).to(w.dtype()), negative = (wd < 0).to(w.dtype());
  const bool noisy = noise.program_sigma > 0 || noise.program_lognormal_sigma > 0;
  // The device model of numerics.md section 6, steps 2-4, on one side's target levels.
  auto program = [&](const torch::Tensor& level) {
    if (!noisy) return level;
    torch::Tensor g = level;
    if (noise.program_lognormal_sigma > 0)
      g = g * torch::exp(noise.program_lognormal_sigma * torch::randn_like(g));
    if (noise.program_sigma > 0) g = g + noise.program_sigma * g_max * torch::randn_like(g);
    return torch::clamp(g, 0.0, g_max);
  };
  std::vector<torch::Tensor> plus, minus;
  for (int s = 0; s < slices; ++s) {
    const double shift = std::ldexp(1.0, s * m.cell_bits);
    const torch::Tensor slice = torch::remainder(torch::floor(magnitude / shift), g_max + 1.0);
    const torch::Tensor surrogate = w * (1.0 / (shift * slices));
    const torch::Tensor lp = program(slice * positive), lm = program(slice * negative);
    if (m.subtraction == Subtraction::kAnalog) {
      plus.push_back(with_gradient_of(lp - lm, surrogate));
    } else {
      plus.push_back(with_gradient_of(lp, surrogate * positive));
      minus.push_back(with_gradient_of(lm, -surrogate * negative));
    }
  }
  std::vector<torch::Tensor> sides{torch::stack(plus)};
  if (!minus.empty()) sides.push_back(torch::stack(minus));
  return sides;
}

namespace {

// The ADC of numerics.md section 8 as one autograd function: the forward value in y's dtype in one
// pass (double: the simulator's bits), the backward in one more pass: d v / d y = 1 where the code
// is not clipped, 0 where it is; LSQ's interval gradient (see cim_mvm.h), scaled by `scale`.
struct AdcParams {
  double gain = 0, offset_lsb = 0, n = 1, scale = 1;
  const std::vector<double>* inl = nullptr;
};

class AdcFunction : public torch::autograd::Function<AdcFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& y_in,
                               const torch::Tensor& lo, const torch::Tensor& hi, AdcParams params) {
    const torch::Tensor y = y_in.contiguous();
    torch::Tensor value = torch::empty_like(y);
    const double l = lo.item<double>(), h = hi.item<double>();
    // In double whatever y's dtype: the codes are then the exact order's (and the simulator's) for
    // the same partial sums; a float computation moves ties, such as y = 0 on a symmetric interval
    // with an odd number of steps, to the other code.
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "adc_forward", [&] {
      const double step = (h - l) / params.n, top = params.n, gain = 1.0 + params.gain;
      const double offset = params.offset_lsb * step;
      const bool plain = params.gain == 0 && params.offset_lsb == 0;
      const scalar_t* in = y.data_ptr<scalar_t>();
      scalar_t* out = value.data_ptr<scalar_t>();
      const std::vector<double>* inl = params.inl;
      at::parallel_for(0, y.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const double yi = plain ? double(in[i]) : gain * double(in[i]) + offset;
          const double code = std::min(std::max(std::nearbyint((yi - l) / step), 0.0), top);
          const double level = inl ? code + (*inl)[std::size_t(code)] : code;
          out[i] = scalar_t(l + level * step);
        }
      });
    });
    ctx->save_for_backward({y});
    ctx->saved_data["lo"] = l;
    ctx->saved_data["hi"] = h;
    ctx->saved_data["n"] = params.n;
    ctx->saved_data["scale"] = params.scale;
    ctx->saved_data["interval_dtype"] = lo.scalar_type();
    return value;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor y = ctx->get_saved_variables()[0];
    const torch::Tensor grad = grads[0].contiguous();
    const double l = ctx->saved_data["lo"].toDouble(), h = ctx->saved_data["hi"].toDouble();
    const double n = ctx->saved_data["n"].toDouble(), scale = ctx->saved_data["scale"].toDouble();
    torch::Tensor grad_y = torch::empty_like(y);
    double sum_lo = 0, sum_hi = 0;
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "adc_backward", [&] {
      const double lo_v = l, step = (h - l) / n, top = n;
      const scalar_t* in = y.data_ptr<scalar_t>();
      const scalar_t* g = grad.data_ptr<scalar_t>();
      scalar_t* gy = grad_y.data_ptr<scalar_t>();
      std::mutex mutex;
      at::parallel_for(0, y.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        double part_lo = 0, part_hi = 0;
        for (int64_t i = begin; i < end; ++i) {
          const double u = (double(in[i]) - lo_v) / step;
          const double t = std::nearbyint(u);
          if (t < 0) {
            gy[i] = 0;
            part_lo += double(g[i]);
          } else if (t > top) {
            gy[i] = 0;
            part_hi += double(g[i]);
          } else {
            gy[i] = g[i];
            const double delta = (t - u) / n;
            part_lo -= double(g[i]) * delta;
            part_hi += double(g[i]) * delta;
          }
        }
        const std::lock_guard<std::mutex> lock(mutex);
        sum_lo += part_lo;
        sum_hi += part_hi;
      });
    });
    const auto options = torch::TensorOptions().dtype(ctx->saved_data["interval_dtype"].toScalarType());
    return {grad_y, torch::tensor(sum_lo * scale, options), torch::tensor(sum_hi * scale, options),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor CimMvm::convert(const torch::Tensor& y, const torch::Tensor& lo, const torch::Tensor& hi,
                              int64_t samples) const {
  if (hw_.adc.ideal) return y;
  AdcParams params;
  params.gain = hw_.adc.gain_error;
  params.offset_lsb = hw_.adc.offset_lsb;
  params.n = double((1 << hw_.macro.adc_bits) - 1);
  // LSQ's g = 1 / sqrt(N Qp) with N the conversions per sample (as for activation steps).
  params.scale =
      1.0 / std::sqrt(double(std::max<int64_t>(1, y.numel() / std::max<int64_t>(1, samples))) * params.n);
  params.inl = hw_.adc.inl_lsb.empty() ? nullptr : &hw_.adc.inl_lsb;
  return AdcFunction::apply(y, lo, hi, params);
}

torch::Tensor CimMvm::forward_ordered(const torch::Tensor& xp, const std::vector<torch::Tensor>& sides,
                                      const torch::Tensor& lo, const torch::Tensor& hi, torch::Dtype dtype,
                                      double partial_sum_sigma, int64_t samples) const {
  const MacroConfig& m = hw_.macro;
  const int64_t rows = xp.size(1);
  const int64_t outputs = mapping_.outputs;
  const double saturation = m.accumulator_bits > 0 ? std::ldexp(1.0, m.accumulator_bits - 1) : 0;
  auto sat = [&](const torch::Tensor& a) {
    return saturation > 0 ? torch::clamp(a, -saturation, saturation - 1.0) : a;
  };
  const auto options = torch::TensorOptions().dtype(dtype);
  std::vector<torch::Tensor> levels_of_side;  // converted once, not per (group, phase)
  for (const torch::Tensor& side : sides) levels_of_side.push_back(side.to(dtype));
  torch::Tensor out = torch::zeros({rows, outputs}, options);
  for (const RowTile& tile : mapping_.row_tiles) {
    torch::Tensor acc = torch::zeros({rows, outputs}, options);
    for (int g = tile.first_group; g < tile.first_group + tile.num_groups; ++g) {
      const RowGroup& group = mapping_.groups[std::size_t(g)];
      for (int p = 0; p < m.phases(); ++p) {
        const torch::Tensor x = xp[p].narrow(1, group.begin, group.size).to(dtype);
        for (int s = 0; s < m.slices(); ++s) {
          const double shift = std::ldexp(1.0, p * m.dac_bits + s * m.cell_bits);
          // Integer operands: every product and sum is exact in double, whatever the order.
          auto converted = [&](const torch::Tensor& levels) {
            torch::Tensor y = torch::matmul(x, levels[s].narrow(0, group.begin, group.size));
            if (partial_sum_sigma > 0) y = y + partial_sum_sigma * torch::randn_like(y);
            return convert(y, lo, hi, samples);
          };
          torch::Tensor v = converted(levels_of_side[0]);
          if (levels_of_side.size() > 1) v = v - converted(levels_of_side[1]);
          acc = sat(acc + v * shift);
        }
      }
    }
    out = sat(out + acc);
  }
  return out;
}

torch::Tensor CimMvm::forward_fast(const torch::Tensor& xp, const std::vector<torch::Tensor>& sides,
                                   const torch::Tensor& lo, const torch::Tensor& hi, double partial_sum_sigma,
                                   int64_t samples) const {
  const MacroConfig& m = hw_.macro;
  // Gather the rows of every group (a zero row where a group is shorter): x [P, M, G, A],
  // levels [S, G, A, N].
  const torch::Tensor x_padded =
      torch::nn::functional::pad(xp, torch::nn::functional::PadFuncOptions({0, 1}));
  const torch::Tensor index = group_index_.to(xp.device());
  const torch::Tensor xg =
      x_padded.index_select(2, index.flatten()).unflatten(2, {index.size(0), index.size(1)});
  std::vector<double> weights;
  for (int p = 0; p < m.phases(); ++p)
    for (int s = 0; s < m.slices(); ++s) weights.push_back(std::ldexp(1.0, p * m.dac_bits + s * m.cell_bits));
  const torch::Tensor scale =
      torch::tensor(weights, xp.options()).view({m.phases(), m.slices(), 1, 1, 1});  // [P, S, 1, 1, 1]
  torch::Tensor out;
  for (std::size_t side = 0; side < sides.size(); ++side) {
    const torch::Tensor level_padded =
        torch::nn::functional::pad(sides[side], torch::nn::functional::PadFuncOptions({0, 0, 0, 1}));
    const torch::Tensor lg =
        level_padded.index_select(1, index.flatten()).unflatten(1, {index.size(0), index.size(1)});
    // y[p, s, g, m, n] = sum_a x[p, m, g, a] * L[s, g, a, n]
    torch::Tensor y = torch::einsum("pmga,sgan->psgmn", {xg, lg});
    if (partial_sum_sigma > 0) y = y + partial_sum_sigma * torch::randn_like(y);
    const torch::Tensor v = (convert(y, lo, hi, samples) * scale).sum({0, 1, 2});
    out = side == 0 ? v : out - v;
  }
  return out;
}

torch::Tensor CimMvm::forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& lo,
                              const torch::Tensor& hi, bool exact, const CimNoise& noise,
                              int64_t samples) const {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != mapping_.inputs || w.size(0) != mapping_.inputs ||
      w.size(1) != mapping_.outputs) {
    throw std::invalid_argument("CimMvm: x must be [M, " + std::to_string(mapping_.inputs) + "] and w [" +
                                std::to_string(mapping_.inputs) + ", " + std::to_string(mapping_.outputs) +
                                "]");
  }
  const torch::Tensor xp = digits(x);
  const std::vector<torch::Tensor> sides = levels(w, noise);
  if (exact) return forward_ordered(xp, sides, lo, hi, torch::kDouble, noise.partial_sum_sigma, samples);
  // Saturation depends on the order of additions: then the ordered path in the tensors' dtype.
  if (hw_.macro.accumulator_bits > 0)
    return forward_ordered(xp, sides, lo, hi, x.scalar_type(), noise.partial_sum_sigma, samples);
  return forward_fast(xp, sides, lo, hi, noise.partial_sum_sigma, samples);
}

}  // namespace cimsim::train
