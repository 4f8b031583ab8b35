// The bit line's row-count-dependent effects (docs/numerics.md section 7, "Bit-line effects"): a
// first-order IR drop along the bit-line wire, and the bit-line current that current-dependent read
// noise scales with. Rows are at positions 0 .. rows-1 along the macro's bit line, the sense end
// after row rows-1. For one vector and one physical bit line with row currents I_k = x_k g_k (DAC
// digit times the cell's conductance, in MAC units), the wire segment below position q carries
// J_q = sum of I_k over k <= q, and the first-order attenuated sum is
//   y = J - r * sum_q J_q^2          (J the bit line's whole current, r = device.wire_resistance)
// (sum over the q from the group's first row to the sense end: rows before it carry nothing, every
// segment after its last row carries J). Every term is an integer for target levels, so the sums are
// exact; for fixed-point conductances they are summed in row order.
#pragma once

#include <Eigen/Core>

namespace cimsim {

// For `count` vectors (rows of `digits`, count x group rows) over one row group whose rows are
// `sides`' rows (group rows x 2 P: column 2 q + side, the conductances of pair q's G+ and G-), with
// `segments_after` = rows - 1 - (position of the group's last row): fills y (count x signals; signal
// q = (J+ - r C+) - (J- - r C-) with analog subtraction, signal 2 q + side = J - r C with digital),
// rounded once to float, and, when `current` is not null, current (count x signals) = |J+| + |J-|
// (analog) or |J| (digital).
void bitline_sums(const Eigen::MatrixXf& digits, const Eigen::Ref<const Eigen::MatrixXd>& sides, bool analog,
                  double wire_resistance, int segments_after, Eigen::MatrixXf& y, Eigen::MatrixXd* current);

}  // namespace cimsim
