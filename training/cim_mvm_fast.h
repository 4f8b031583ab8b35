// The fast evaluation order of CimMvm (cim_mvm.h) as one autograd function: for every block of
// rows, phase p and row group g one matrix product x_p[rows, group] . C[group, :] gives the
// partial sums of all columns c = (side, slice, output) at once; each goes through the ADC and is
// added, times its (phase, side, slice) coefficient, to the output, in double per row block. The
// backward recomputes nothing: per partial sum it keeps one number, the ADC's gradient state
// (adc_ste.h), and does two more products per (row block, phase, group).
//
// Row blocks are 1024 rows, independent of the thread count; the weight gradient adds the blocks'
// parts in block order, so results do not depend on the number of threads.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "adc/adc_nonidealities.h"
#include "mapping/layer_mapping.h"

namespace cimsim::train {

struct SlicedProductSpec {
  std::vector<RowGroup> groups;      // disjoint row ranges that cover the K rows
  int64_t outputs = 0;               // N; the columns are (side, slice, output), output fastest
  std::vector<double> coefficients;  // [phase][side * slices + slice]: +-2^(p db + s cb)
  bool ideal = false;                // the ADC passes partial sums through
  double levels = 1;                 // 2^adc_bits - 1
  AdcNonidealities adc_errors;       // offset, gain error, INL
};

// xp [P, M, K] digits, columns [K, C] cell levels, lo and hi 0-dim (double), noise [P, G, M, C]
// added to the partial sums before their ADC, or undefined; lsq_scale: LSQ's interval gradient scale. Returns
// [M, N] in xp's dtype; gradients reach xp, columns, lo and hi.
torch::Tensor sliced_adc_product(const torch::Tensor& xp, const torch::Tensor& columns,
                                 const torch::Tensor& lo, const torch::Tensor& hi, const torch::Tensor& noise,
                                 const SlicedProductSpec& spec, double lsq_scale);

// The shift-add of `rows` rows of converted partial sums: acc[i, n] += coef[j] * value[i, j N + n]
// for j = 0..J-1 in order (value rows of J N, acc rows of N).
inline void shift_add_rows(const double* value, int64_t rows, int64_t J, int64_t N, const double* coef,
                           double* acc) {
  for (int64_t i = 0; i < rows; ++i) {
    double* a = acc + i * N;
    const double* v = value + i * J * N;
    for (int64_t j = 0; j < J; ++j)
      for (int64_t n = 0; n < N; ++n) a[n] += coef[j] * v[j * N + n];
  }
}

// The gradient reaching every partial sum as if unclipped: dy[i, j N + n] = coef[j] * grad[i, n].
template <typename T>
void unclipped_partial_sum_gradient(const T* grad, int64_t rows, int64_t J, int64_t N, const double* coef,
                                    double* dy) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < J; ++j)
      for (int64_t n = 0; n < N; ++n) dy[(i * J + j) * N + n] = coef[j] * double(grad[i * N + n]);
}

// The interval gradients d loss / d lo and d loss / d hi, times LSQ's scale, in the interval's
// dtype saved as "interval_dtype" (as both backwards return them).
std::vector<torch::Tensor> interval_gradients(torch::autograd::AutogradContext* ctx, double sum_lo,
                                              double sum_hi);

// Phase p's effective weights [K, N]: the sum over columns j = (side, slice) of
// coefficients[p J + j] x columns[:, j N : (j + 1) N], added in double, in the columns' dtype.
torch::Tensor effective_weights(const torch::Tensor& columns, const std::vector<double>& coefficients,
                                int64_t phase, int64_t outputs);

// The spec and LSQ scale in an autograd context's saved data, and the row groups back from it
// (shared with the convolution order, cim_conv_fast.h).
void save_spec(torch::autograd::AutogradContext* ctx, const SlicedProductSpec& spec, double lsq_scale);
std::vector<RowGroup> saved_groups(torch::autograd::AutogradContext* ctx);

}  // namespace cimsim::train
