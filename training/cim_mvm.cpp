#include "cim_mvm.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "adc_ste.h"
#include "counter_normals.h"
#include "im2col_rows.h"
#include "macro/macro_numerics.h"
#include "wire_sums.h"

namespace cimsim::train {
namespace {

// value forward, gradient of `surrogate` backward: value + (surrogate - surrogate) adds an exact 0.
torch::Tensor with_gradient_of(const torch::Tensor& value, const torch::Tensor& surrogate) {
  return value.detach() + (surrogate - surrogate.detach());
}

}  // namespace

CimMvm::CimMvm(const HwConfig& hw, LayerMapping mapping)
    : hw_(hw),
      mapping_(std::move(mapping)),
      adc_errors_{hw.adc.offset_lsb, hw.adc.gain_error, 0.0, hw.adc.inl_lsb} {
  const MacroConfig& m = hw_.macro;
  fast_spec_.groups = mapping_.groups;
  fast_spec_.outputs = mapping_.outputs;
  const int sides = m.subtraction == Subtraction::kAnalog ? 1 : 2;
  for (int p = 0; p < m.phases(); ++p)
    for (int side = 0; side < sides; ++side)
      for (int s = 0; s < m.slices(); ++s)
        fast_spec_.coefficients.push_back((side == 0 ? 1.0 : -1.0) *
                                          std::ldexp(1.0, p * m.dac_bits + s * m.cell_bits));
  fast_spec_.ideal = hw_.adc.ideal;
  fast_spec_.levels = double((1 << m.adc_bits) - 1);
  fast_spec_.adc_errors = adc_errors_;
  slicing_.slices = m.slices();
  slicing_.cell_bits = m.cell_bits;
  slicing_.g_max = m.max_cell_level();
  slicing_.analog = sides == 1;
  // The IR drop acts on each physical bit line: the columns then hold both sides (L+ and L-) even
  // with analog subtraction, which forward_ordered subtracts after the bit lines' sums (the gradient
  // stays analog's).
  slicing_.split_sides = slicing_.analog && hw_.device.wire_resistance > 0;
}

torch::Tensor CimMvm::digits(const torch::Tensor& x) const {
  const MacroConfig& m = hw_.macro;
  const int phases = m.phases();
  // One phase: the digit is x itself (0 <= x < 2^dac_bits), with x's own gradient.
  if (phases == 1) return x.unsqueeze(0);
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

namespace {

// The ADC of numerics.md section 8 as one autograd function: the forward value (adc_ste.h)
// in y's dtype, the backward in one more pass: d v / d y = 1 where the code is not clipped, 0
// where it is; LSQ's interval gradient (see cim_mvm.h), scaled by `scale`.
struct AdcParams {
  double n = 1, scale = 1;
  const AdcNonidealities* errors = nullptr;
};

class AdcFunction : public torch::autograd::Function<AdcFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& y_in,
                               const torch::Tensor& lo, const torch::Tensor& hi, AdcParams params) {
    const torch::Tensor y = y_in.contiguous();
    torch::Tensor value = torch::empty_like(y);
    const double l = lo.item<double>(), h = hi.item<double>();
    const AdcSte adc(l, h, params.n, *params.errors);
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "adc_forward", [&] {
      const scalar_t* in = y.data_ptr<scalar_t>();
      scalar_t* out = value.data_ptr<scalar_t>();
      at::parallel_for(0, y.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = scalar_t(adc.value(double(in[i])));
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
    const AdcSte adc(ctx->saved_data["lo"].toDouble(), ctx->saved_data["hi"].toDouble(),
                     ctx->saved_data["n"].toDouble(), AdcNonidealities{});
    const double scale = ctx->saved_data["scale"].toDouble();
    torch::Tensor grad_y = torch::empty_like(y);
    // Fixed chunks whose interval sums are added in chunk order: the same for any thread count.
    constexpr int64_t kChunk = 1 << 14;
    const int64_t chunks = (y.numel() + kChunk - 1) / kChunk;
    std::vector<double> lo_parts(std::size_t(chunks), 0.0), hi_parts(std::size_t(chunks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "adc_backward", [&] {
      const scalar_t* in = y.data_ptr<scalar_t>();
      const scalar_t* g = grad.data_ptr<scalar_t>();
      scalar_t* gy = grad_y.data_ptr<scalar_t>();
      at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
        std::vector<double> state(kChunk), dy(kChunk);
        for (int64_t chunk = first; chunk < last; ++chunk) {
          const int64_t begin = chunk * kChunk, n = std::min(kChunk, y.numel() - begin);
          for (int64_t i = 0; i < n; ++i) {
            state[std::size_t(i)] = adc.gradient_state(double(in[begin + i]));
            dy[std::size_t(i)] = double(g[begin + i]);
            gy[begin + i] = std::isfinite(state[std::size_t(i)]) ? g[begin + i] : scalar_t(0);
          }
          adc_interval_sums(state.data(), dy.data(), n, lo_parts[std::size_t(chunk)],
                            hi_parts[std::size_t(chunk)]);
        }
      });
    });
    double sum_lo = 0, sum_hi = 0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      sum_lo += lo_parts[std::size_t(chunk)];
      sum_hi += hi_parts[std::size_t(chunk)];
    }
    const auto options = torch::TensorOptions().dtype(ctx->saved_data["interval_dtype"].toScalarType());
    return {grad_y, torch::tensor(sum_lo * scale, options), torch::tensor(sum_hi * scale, options),
            torch::Tensor()};
  }
};

}  // namespace

double CimMvm::lsq_scale(int64_t rows, int64_t samples) const {
  // LSQ's g = 1 / sqrt(N Qp) with N the layer's conversions per sample (as for activation steps).
  const MacroConfig& m = hw_.macro;
  const int64_t sides = m.subtraction == Subtraction::kAnalog ? 1 : 2;
  const int64_t per_row =
      int64_t(m.phases()) * int64_t(mapping_.groups.size()) * sides * m.slices() * int64_t(mapping_.outputs);
  const double conversions = double(per_row) * double(rows) / double(std::max<int64_t>(1, samples));
  return 1.0 / std::sqrt(std::max(1.0, conversions) * double((1 << m.adc_bits) - 1));
}

torch::Tensor CimMvm::convert(const torch::Tensor& y, const torch::Tensor& lo, const torch::Tensor& hi,
                              double scale) const {
  if (hw_.adc.ideal) return y;
  AdcParams params;
  params.n = double((1 << hw_.macro.adc_bits) - 1);
  params.scale = scale;
  params.errors = &adc_errors_;
  return AdcFunction::apply(y, lo, hi, params);
}

torch::Tensor CimMvm::forward_ordered(const torch::Tensor& xp, const torch::Tensor& columns,
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
  const double scale = lsq_scale(rows, samples);
  const torch::Tensor levels = columns.to(dtype);  // converted once, not per (group, phase)
  const int64_t slices = m.slices();
  const double wire = hw_.device.wire_resistance;
  torch::Tensor out = torch::zeros({rows, outputs}, options);
  for (const RowTile& tile : mapping_.row_tiles) {
    torch::Tensor acc = torch::zeros({rows, outputs}, options);
    for (int g = tile.first_group; g < tile.first_group + tile.num_groups; ++g) {
      const RowGroup& group = mapping_.groups[std::size_t(g)];
      for (int p = 0; p < m.phases(); ++p) {
        const torch::Tensor x = xp[p].narrow(1, group.begin, group.size).to(dtype);
        for (int s = 0; s < m.slices(); ++s) {
          const double shift = std::ldexp(1.0, p * m.dac_bits + s * m.cell_bits);
          if (wire > 0) {
            // Each bit line with its IR drop; its value held as float, as the simulator holds it.
            const double after = double(m.rows - (group.begin - tile.row_begin) - group.size);
            auto bitline = [&](int64_t side) {
              return wire_sums(
                  x, levels.narrow(1, (side * slices + s) * outputs, outputs).narrow(0, group.begin, group.size),
                  wire, after);
            };
            auto converted = [&](const torch::Tensor& sum) {
              torch::Tensor y = sum.to(torch::kFloat).to(dtype);
              if (partial_sum_sigma > 0)
                y = y +
                    partial_sum_sigma * counter_normals(y.sizes(), y.scalar_type(), RngTag::kTrainPartialSum);
              return convert(y, lo, hi, scale);
            };
            const torch::Tensor v = m.subtraction == Subtraction::kAnalog
                                        ? converted(bitline(0) - bitline(1))
                                        : converted(bitline(0)) - converted(bitline(1));
            acc = sat(acc + v * shift);
            continue;
          }
          // Integer operands: every product and sum is exact in double, whatever the order.
          auto converted = [&](int64_t side) {
            torch::Tensor y = torch::matmul(
                x,
                levels.narrow(1, (side * slices + s) * outputs, outputs).narrow(0, group.begin, group.size));
            if (partial_sum_sigma > 0)
              y = y +
                  partial_sum_sigma * counter_normals(y.sizes(), y.scalar_type(), RngTag::kTrainPartialSum);
            return convert(y, lo, hi, scale);
          };
          torch::Tensor v = converted(0);
          if (slicing_.sides() > 1) v = v - converted(1);
          acc = sat(acc + v * shift);
        }
      }
    }
    out = sat(out + acc);
  }
  return out;
}

torch::Tensor CimMvm::forward_fast(const torch::Tensor& xp, const torch::Tensor& columns_in,
                                   const torch::Tensor& lo, const torch::Tensor& hi, double partial_sum_sigma,
                                   int64_t samples) const {
  const torch::Tensor columns = columns_in.to(xp.scalar_type());
  torch::Tensor noise;
  if (partial_sum_sigma > 0) {
    noise = partial_sum_sigma *
            counter_normals({xp.size(0), int64_t(mapping_.groups.size()), xp.size(1), columns.size(1)},
                            xp.scalar_type(), RngTag::kTrainPartialSum);
  }
  return sliced_adc_product(xp, columns, lo, hi, noise, fast_spec_, lsq_scale(xp.size(1), samples));
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
  const torch::Tensor columns = this->columns(w, noise);
  if (exact) return forward_ordered(xp, columns, lo, hi, torch::kDouble, noise.partial_sum_sigma, samples);
  // Saturation depends on the order of additions, and the IR drop on each bit line's rows: then the
  // ordered path in the tensors' dtype.
  if (hw_.macro.accumulator_bits > 0 || hw_.device.wire_resistance > 0)
    return forward_ordered(xp, columns, lo, hi, x.scalar_type(), noise.partial_sum_sigma, samples);
  return forward_fast(xp, columns, lo, hi, noise.partial_sum_sigma, samples);
}

torch::Tensor CimMvm::columns(const torch::Tensor& w, const CimNoise& noise) const {
  WeightSlicing slicing = slicing_;
  slicing.program_sigma = noise.program_sigma;
  slicing.program_lognormal_sigma = noise.program_lognormal_sigma;
  slicing.level_mean = noise.level_mean;
  slicing.level_std = noise.level_std;
  return weight_columns(w, slicing);
}

torch::Tensor CimMvm::forward_conv(const torch::Tensor& x, const torch::Tensor& w,
                                   const ConvGeometry& geometry, const torch::Tensor& lo,
                                   const torch::Tensor& hi, bool exact, const CimNoise& noise) const {
  const int64_t batch = x.size(0);
  if (x.dim() != 4 || x.size(1) * geometry.kernel_h * geometry.kernel_w != mapping_.inputs || w.dim() != 2 ||
      w.size(0) != mapping_.inputs || w.size(1) != mapping_.outputs) {
    throw std::invalid_argument("CimMvm::forward_conv: x must be [B, C_in, H, W] with C_in kh kw = " +
                                std::to_string(mapping_.inputs) + " and w [" +
                                std::to_string(mapping_.inputs) + ", " + std::to_string(mapping_.outputs) +
                                "]");
  }
  if (!exact && hw_.macro.accumulator_bits == 0 && hw_.device.wire_resistance == 0 &&
      groups_hold_whole_channels(fast_spec_, geometry)) {
    const torch::Tensor xp = digits(x);
    const int64_t oh = geometry.output_h(x.size(2)), ow = geometry.output_w(x.size(3));
    const torch::Tensor cells = columns(w, noise).to(x.scalar_type());
    torch::Tensor draws;
    if (noise.partial_sum_sigma > 0) {
      // [P, G, B, oh ow, C]: row-major the same layout as the rows order's [P, G, B oh ow, C]
      draws = noise.partial_sum_sigma *
              counter_normals({xp.size(0), int64_t(mapping_.groups.size()), batch, oh * ow, cells.size(1)},
                              x.scalar_type(), RngTag::kTrainPartialSum);
    }
    return sliced_adc_conv(xp, cells, lo, hi, draws, fast_spec_, geometry, lsq_scale(batch * oh * ow, batch));
  }
  const torch::Tensor rows =
      im2col_rows(x, {geometry.kernel_h, geometry.kernel_w}, {geometry.stride_h, geometry.stride_w},
                  {geometry.pad_h, geometry.pad_w});
  return forward(rows, w, lo, hi, exact, noise, batch);
}

double CimMvm::accumulator_bound() const { return cimsim::accumulator_bound(hw_.macro); }

}  // namespace cimsim::train
