// One side's bit-line sums with the wire's IR drop (docs/numerics.md section 7, "Bit-line effects";
// models/device/bitline_model.h), as one autograd function: x [M, G] the digits on a row group's G
// rows, g [G, N] one side's conductances of N bit lines, `after` the wire segments between the
// group's last row and the sense end. Row currents I_k = x_k g_k, segment currents J_q = sum of I_k
// over k <= q, and
//   value = J - r (sum_q J_q^2 + after J^2)          (J = J_{G-1}, the bit line's whole current)
// summed per vector and bit line in row order, the simulator's order (so in double with integer
// digits and target levels every term is exact and the two agree bit for bit).
// Gradient: d value / d I_k = 1 - 2 r (sum_{q >= k} J_q + after J), times g_k for x_k and x_k for g_k.
// The gradient of g is summed over fixed blocks of rows of x, so it does not depend on the thread count.
#pragma once

#include <torch/torch.h>

namespace cimsim::train {

torch::Tensor wire_sums(const torch::Tensor& x, const torch::Tensor& g, double r, double after);

}  // namespace cimsim::train
