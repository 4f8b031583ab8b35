// The fast evaluation order of a CIM convolution (cim_mvm.h) without im2col rows: when every row
// group holds whole input channels (kernel splitting, core/layer_mapping.h), the partial sums of
// group g for all columns c = (side, slice, output) are one convolution of the group's input
// channels with the columns' cell levels as weights, so LibTorch's convolution (oneDNN, channels
// last) computes them. Per (phase, group) and image, the partial sums go through the ADC and are
// added, times their (phase, side, slice) coefficient, to the output in double, in (phase, group,
// side, slice) order: the same partial sums, codes and additions as the rows order
// (cim_mvm_fast.h), so the same output bit for bit, in the same rows layout.
//
// Backward: the unclipped gradient of each phase is the backward of one plain convolution with
// the phase's effective weights (sum of coefficient x columns), then each clipped partial sum's
// share is taken back over its window; the interval gets LSQ's gradient (adc_ste.h). The clipped
// shares and interval sums are added per chunk of 8 images in chunk order.
#pragma once

#include <torch/torch.h>

#include "cim_mvm_fast.h"

namespace cimsim::train {

struct ConvGeometry {
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t output_h(int64_t height) const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  int64_t output_w(int64_t width) const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
};

// True if every group of `spec` is a whole number of input channels of `geometry`'s kernel.
bool groups_hold_whole_channels(const SlicedProductSpec& spec, const ConvGeometry& geometry);

// xp [P, B, C_in, H, W] digits, columns [K, C] cell levels with K = C_in kh kw in (channel, ky, kx)
// order, lo and hi 0-dim (double), noise [P, G, B, oh ow, C] added to the partial sums before their
// ADC, or undefined. Returns rows [B oh ow, N] (row (b, y, x)) in xp's dtype; gradients reach xp,
// columns, lo and hi.
torch::Tensor sliced_adc_conv(const torch::Tensor& xp, const torch::Tensor& columns, const torch::Tensor& lo,
                              const torch::Tensor& hi, const torch::Tensor& noise,
                              const SlicedProductSpec& spec, const ConvGeometry& geometry, double lsq_scale);

}  // namespace cimsim::train
