// A convolution's input as the rows the macros see: rows[b * L + oy * OW + ox][(c * KH + ky) * KW + kx]
// = x[b][c][oy * sy - py + ky][ox * sx - px + kx] (0 outside the image), with L = OH * OW: the
// bundle's row order (c_in, k_h, k_w). One pass each way; torch's unfold gives [B, K, L] and the
// transpose to rows and back cost 3x this (bench_train, LeNet-5 stage cim). The backward adds each
// row element's gradient to its pixel, one image per task, so it does not depend on the thread
// count.
#pragma once

#include <torch/torch.h>

#include <array>

namespace cimsim::train {

torch::Tensor im2col_rows(const torch::Tensor& x, std::array<int64_t, 2> kernel,
                          std::array<int64_t, 2> stride, std::array<int64_t, 2> padding);

}  // namespace cimsim::train
