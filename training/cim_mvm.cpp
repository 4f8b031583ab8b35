#include "cim_mvm.h"

#include <cmath>
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

torch::Tensor CimMvm::convert(const torch::Tensor& y, const torch::Tensor& lo,
                              const torch::Tensor& hi) const {
  if (hw_.adc.ideal) return y;
  const double n = double((1 << hw_.macro.adc_bits) - 1);
  const torch::Tensor yd = y.detach();
  const torch::Tensor lod = lo.detach().to(torch::kDouble), hid = hi.detach().to(torch::kDouble);
  // Forward exactly as numerics.md section 8, in double.
  const torch::Tensor step = (hid - lod) / n;
  const AdcConfig& a = hw_.adc;
  const torch::Tensor y_in = (1.0 + a.gain_error) * yd.to(torch::kDouble) + a.offset_lsb * step;
  const torch::Tensor t = torch::round((y_in - lod) / step);
  const torch::Tensor code = torch::clamp(t, 0.0, n);
  torch::Tensor level = code;
  if (!a.inl_lsb.empty()) {
    const torch::Tensor inl = torch::tensor(a.inl_lsb, torch::kDouble);
    level = code + inl.index({code.to(torch::kLong)});
  }
  const torch::Tensor value = (lod + level * step).to(y.dtype());
  // Backward: LSQ's surrogate lo + (clamp(u, 0, n) + (round(u) - u) inside) step, its gradient
  // scaled by 1 / sqrt(conversions x n) for the interval.
  const double scale = 1.0 / std::sqrt(double(std::max<int64_t>(1, y.numel())) * n);
  const torch::Tensor los = lo * scale + (lo - lo * scale).detach();
  const torch::Tensor his = hi * scale + (hi - hi * scale).detach();
  const torch::Tensor step_s = (his - los) / n;
  const torch::Tensor u = (y - los) / step_s;
  const torch::Tensor inside = ((t >= 0) & (t <= n)).to(y.dtype());
  const torch::Tensor offset = ((t - ((yd.to(torch::kDouble) - lod) / step)).to(y.dtype()) * inside).detach();
  const torch::Tensor surrogate = los + (torch::clamp(u, 0.0, n) + offset) * step_s;
  return with_gradient_of(value, surrogate);
}

torch::Tensor CimMvm::forward_ordered(const torch::Tensor& xp, const std::vector<torch::Tensor>& sides,
                                      const torch::Tensor& lo, const torch::Tensor& hi, torch::Dtype dtype,
                                      double partial_sum_sigma) const {
  const MacroConfig& m = hw_.macro;
  const int64_t rows = xp.size(1);
  const int64_t outputs = mapping_.outputs;
  const double saturation = m.accumulator_bits > 0 ? std::ldexp(1.0, m.accumulator_bits - 1) : 0;
  auto sat = [&](const torch::Tensor& a) {
    return saturation > 0 ? torch::clamp(a, -saturation, saturation - 1.0) : a;
  };
  const auto options = torch::TensorOptions().dtype(dtype);
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
            torch::Tensor y = torch::matmul(x, levels[s].narrow(0, group.begin, group.size).to(dtype));
            if (partial_sum_sigma > 0) y = y + partial_sum_sigma * torch::randn_like(y);
            return convert(y, lo, hi);
          };
          torch::Tensor v = converted(sides[0]);
          if (sides.size() > 1) v = v - converted(sides[1]);
          acc = sat(acc + v * shift);
        }
      }
    }
    out = sat(out + acc);
  }
  return out;
}

torch::Tensor CimMvm::forward_fast(const torch::Tensor& xp, const std::vector<torch::Tensor>& sides,
                                   const torch::Tensor& lo, const torch::Tensor& hi,
                                   double partial_sum_sigma) const {
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
    const torch::Tensor v = (convert(y, lo, hi) * scale).sum({0, 1, 2});
    out = side == 0 ? v : out - v;
  }
  return out;
}

torch::Tensor CimMvm::forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& lo,
                              const torch::Tensor& hi, bool exact, const CimNoise& noise) const {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != mapping_.inputs || w.size(0) != mapping_.inputs ||
      w.size(1) != mapping_.outputs) {
    throw std::invalid_argument("CimMvm: x must be [M, " + std::to_string(mapping_.inputs) + "] and w [" +
                                std::to_string(mapping_.inputs) + ", " + std::to_string(mapping_.outputs) +
                                "]");
  }
  const torch::Tensor xp = digits(x);
  const std::vector<torch::Tensor> sides = levels(w, noise);
  if (exact) return forward_ordered(xp, sides, lo, hi, torch::kDouble, noise.partial_sum_sigma);
  // Saturation depends on the order of additions: then the ordered path in the tensors' dtype.
  if (hw_.macro.accumulator_bits > 0)
    return forward_ordered(xp, sides, lo, hi, x.scalar_type(), noise.partial_sum_sigma);
  return forward_fast(xp, sides, lo, hi, noise.partial_sum_sigma);
}

}  // namespace cimsim::train
