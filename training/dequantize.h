// The dequantization of a quantized layer's integer product as one autograd function:
//   out[b, n, l] = ((product(b, n, l) * s_w[n]) * s_x) + bias[n]
// rounded after each operation in the product's dtype, in this order (docs/model-bundle.md), for
// image b, output channel n and output position l. `product` is either in rows layout [B * L, N]
// (the CIM product of im2col rows, row b * L + l) or channels-first [B, N, L...]; the result is
// [B, N, L] contiguous either way, so a convolution's output needs no transposing copy.
// Gradients: product gets g * s_x * s_w[n]; s_w[n] the sum over (b, l) of g * s_x * product; s_x
// the sum of g * s_w[n] * product; bias[n] the sum of g; the sums in double, per image and then
// over images in order (independent of the thread count).
#pragma once

#include <torch/torch.h>

namespace cimsim::train {

// s_w [N], s_x [1], bias [N] or undefined (no bias). rows_layout: product is [B * L, N].
torch::Tensor dequantize_product(const torch::Tensor& product, int64_t batch, bool rows_layout,
                                 const torch::Tensor& s_w, const torch::Tensor& s_x,
                                 const torch::Tensor& bias);

}  // namespace cimsim::train
