// The cell levels of a CIM layer's weights as one autograd function: integer-valued weights
// w [K, N] (|w| <= 2^(weight_bits-1) - 1) become the columns C [K, sides x slices x N], column
// (side * slices + s) * N + n holding slice s of |w[k, n]| on side `side`:
//   slice s = floor(|w| / 2^(s cell_bits)) mod (g_max + 1), on the positive side where w > 0 and on
//   the negative side where w < 0 (numerics.md section 5);
//   each side's level programmed with the simulator's device model (numerics.md section 6, steps
//   2-4): g = clamp(L exp(lognormal_sigma z1) + sigma g_max z2, 0, g_max), z fresh standard normals
//   (counter_normals.h) every call; or, with measured per-level errors (level_mean, level_std not
//   empty), g = L + level_mean[L] + level_std[L] z2, no clamp (z2 the additive term's draw);
//   analog subtraction: one side, the column is L+ - L-; digital: two sides, L+ then L-.
// Straight-through gradient: slice s of w passes 2^(-s cell_bits) / slices of its column's gradient
// to w (analog), or, with digital subtraction, +that from the positive side where w > 0 and -that
// from the negative side where w < 0. The noise passes no gradient.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace cimsim::train {

struct WeightSlicing {
  int slices = 1;
  int cell_bits = 1;
  double g_max = 1;    // the largest cell level, 2^cell_bits - 1
  bool analog = true;  // analog subtraction: one side L+ - L-; digital: L+ and L-
  // Analog subtraction with both sides' columns (the bit-line IR drop needs each side): columns as
  // digital, gradient as analog (slice s of every w, zero included, gets (d/dL+ - d/dL-) / 2, the
  // gradient of the pair's difference when the loss sees only that).
  bool split_sides = false;
  double program_sigma = 0;
  double program_lognormal_sigma = 0;
  std::vector<double> level_mean, level_std;  // per level 0 .. g_max, or empty
  int sides() const { return analog && !split_sides ? 1 : 2; }
};

torch::Tensor weight_columns(const torch::Tensor& w, const WeightSlicing& slicing);

}  // namespace cimsim::train
