// Stage 2's CIM matrix-vector product: the numerics contract of docs/numerics.md for one layer, in
// ATen, with straight-through estimators so that it trains.
//
// Forward, for integer-valued inputs x [M, K] (0 <= x < 2^input_bits) and weights w [K, N]
// (|w| <= 2^(weight_bits-1) - 1): the rows are cut into the layer's row groups and row tiles
// (core/layer_mapping.h), the inputs into DAC phases, the weights into cell slices on
// differential pairs; every partial sum y = x_p[group] . L_s[group] goes through the ADC of
// numerics.md section 8 with the layer's interval [lo, hi]; the results are shifted, added in a
// shift-add register per row tile in (group, phase, slice) order, saturated if
// accumulator_bits is set, and the row tiles added in order (section 9).
//
// Two evaluation orders give the same partial sums and ADC outputs:
//   exact: in double, one product and one addition at a time in the contract's order, so the
//     result equals the simulator's bit for bit (ideal devices, no noise);
//   fast: one fused autograd function (cim_mvm_fast.h) in the tensors' dtype, partial sums of all
//     (side, slice) columns per (row block, phase, group) product, outputs added in double (the
//     training path; differs from exact by rounding only).
// With accumulator_bits set, training uses the contract's order in the tensors' dtype (saturation
// depends on the order of additions).
//
// Gradients (straight-through): d out / d x = w and d out / d w = x where no ADC clips (the
// digit and slice decompositions pass gradient as if they were the identity: digit p of x gets
// 2^(-p db) / P of x's gradient, slice s of w 2^(-s cb) / S); a clipped partial sum passes none.
// The interval gets LSQ's gradient (Esser et al. 2020) through v = lo + code * step with
// step = (hi - lo) / (2^adc_bits - 1): inside, dv/dlo = -(round(u) - u) / n and
// dv/dhi = (round(u) - u) / n for u = (y - lo) / step, n = 2^adc_bits - 1; below the range
// dv/dlo = 1, above it dv/dhi = 1; both scaled by 1 / sqrt(conversions per sample x n). The ADC
// arithmetic is in double in both orders, so both give the same codes for the same partial sums.
#pragma once

#include <torch/torch.h>

#include "adc/adc_nonidealities.h"
#include "cim_conv_fast.h"
#include "cim_mvm_fast.h"
#include "config/hw_config.h"
#include "mapping/layer_mapping.h"
#include "weight_columns.h"

namespace cimsim::train {

// Noise added during training (all zero for the exact forward the parity tests use).
struct CimNoise {
  // Programming variation, redrawn every forward, with the simulator's device model
  // (numerics.md section 6, steps 2-4): g = clamp(L exp(lognormal z1) + sigma g_max z2, 0, g_max).
  double program_sigma = 0;
  double program_lognormal_sigma = 0;
  // Gaussian noise on every partial sum before its ADC, in MAC units (from the simulator's
  // measured error for the layer, hw_stats.h).
  double partial_sum_sigma = 0;
  // When not empty, instead of the programming variation above, the measured per-level device
  // error (hw_stats.h, feedback "cells"): g = L + level_mean[L] + level_std[L] z, per cell, no clamp.
  std::vector<double> level_mean, level_std;
};

class CimMvm {
 public:
  // `mapping` is the layer's mapping on `hw`'s macros (map_layer / conv_row_groups).
  CimMvm(const HwConfig& hw, LayerMapping mapping);

  // x [M, K], w [K, N] integer-valued (gradients flow through); lo, hi 0-dim tensors (gradients
  // flow unless the ADC is ideal). Returns [M, N]: double in the exact order, x's dtype otherwise.
  // `samples`: the images in x (its rows are their im2col rows), for LSQ's per-sample gradient scale.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& lo,
                        const torch::Tensor& hi, bool exact, const CimNoise& noise = {},
                        int64_t samples = 1) const;

  // The same for a convolution: x [B, C_in, H, W] integer-valued, w [C_in kh kw, N] with rows in
  // (channel, ky, kx) order. Returns rows [B oh ow, N] as forward() does for x's im2col rows. The fast order
  // runs as convolutions (cim_conv_fast.h) when every row group holds whole channels, else on im2col rows.
  torch::Tensor forward_conv(const torch::Tensor& x, const torch::Tensor& w, const ConvGeometry& geometry,
                             const torch::Tensor& lo, const torch::Tensor& hi, bool exact,
                             const CimNoise& noise = {}) const;

  const LayerMapping& mapping() const { return mapping_; }
  // 2^(accumulator_bits - 1), or 0 when the registers do not saturate (numerics.md section 9).
  double accumulator_bound() const;

 private:
  // Digits x_p (forward exact) with the straight-through gradient, [P, x's shape].
  torch::Tensor digits(const torch::Tensor& x) const;
  // LSQ's interval gradient scale for `rows` rows of x holding `samples` samples.
  double lsq_scale(int64_t rows, int64_t samples) const;
  // The ADC on partial sums y: forward exact (numerics.md section 8), LSQ gradient times `scale`.
  torch::Tensor convert(const torch::Tensor& y, const torch::Tensor& lo, const torch::Tensor& hi,
                        double scale) const;
  // One product and one addition at a time in the contract's order, in `dtype`.
  // columns: the cell levels [K, (side, slice, output)] (weight_columns.h).
  torch::Tensor forward_ordered(const torch::Tensor& xp, const torch::Tensor& columns,
                                const torch::Tensor& lo, const torch::Tensor& hi, torch::Dtype dtype,
                                double partial_sum_sigma, int64_t samples) const;
  // The cell levels [K, (side, slice, output)] of w with `noise`'s programming variation.
  torch::Tensor columns(const torch::Tensor& w, const CimNoise& noise) const;
  torch::Tensor forward_fast(const torch::Tensor& xp, const torch::Tensor& columns, const torch::Tensor& lo,
                             const torch::Tensor& hi, double partial_sum_sigma, int64_t samples) const;

  HwConfig hw_;
  LayerMapping mapping_;
  AdcNonidealities adc_errors_;  // the simulator's, without thermal noise
  SlicedProductSpec fast_spec_;  // the fast order's layout and ADC
  WeightSlicing slicing_;        // the weights' slices and sides (noise set per forward)
};

}  // namespace cimsim::train
