// Stage 2's ADC on one partial sum: the simulator's transfer function (models/adc: input errors,
// round half to even, clip, INL level; thermal noise is not modelled in training), in double
// whatever the tensors' dtype (a float computation moves ties, such as y = 0 on a symmetric
// interval with an odd number of steps, to the other code), and the straight-through / LSQ
// gradient state of cim_mvm.h. Shared by both evaluation orders of CimMvm so that they give the
// same codes for the same partial sums.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "adc/adc_nonidealities.h"

namespace cimsim::train {

class AdcSte {
 public:
  // lo, hi: the interval; levels: 2^adc_bits - 1; errors: offset, gain error, INL (thermal noise ignored).
  AdcSte(double lo, double hi, double levels, const AdcNonidealities& errors)
      : lo_(lo), step_((hi - lo) / levels), top_(levels), errors_(errors) {
    errors_.thermal_sigma_lsb = 0;
  }

  // The output value lo + (code + INL(code)) * step.
  double value(double y) const {
    const double code =
        std::min(std::max(std::nearbyint((errors_.input(y, step_, 0.0) - lo_) / step_), 0.0), top_);
    return lo_ + errors_.level(code) * step_;
  }

  // The gradient state of y: -inf below the range (d v / d lo = 1), +inf above it (d v / d hi = 1),
  // else delta = (round(u) - u) / levels with u = (y - lo) / step (d v / d lo = -delta,
  // d v / d hi = delta, d v / d y = 1).
  double gradient_state(double y) const {
    const double u = (y - lo_) / step_;
    const double t = std::nearbyint(u);
    if (t < 0) return -std::numeric_limits<double>::infinity();
    if (t > top_) return std::numeric_limits<double>::infinity();
    return (t - u) / top_;
  }

  // value() and gradient_state() of count partial sums. Without input errors or INL the loop has
  // no branches, so it vectorizes where the file is compiled with -fno-trapping-math (nearbyint
  // then becomes one vector instruction with the same results).
  template <typename T>
  void convert(const T* y, int64_t count, double* value_out, T* state_out) const {
    if (!errors_.none()) {
      for (int64_t k = 0; k < count; ++k) {
        value_out[k] = value(double(y[k]));
        state_out[k] = T(gradient_state(double(y[k])));
      }
      return;
    }
    // Members in locals: the stores could otherwise alias them, which stops vectorization.
    const double inf = std::numeric_limits<double>::infinity(), lo = lo_, step = step_, top = top_;
    for (int64_t k = 0; k < count; ++k) {
      const double u = (double(y[k]) - lo) / step;
      const double t = std::nearbyint(u);
      value_out[k] = lo + std::min(std::max(t, 0.0), top) * step;
      double state = (t - u) / top;
      state = t < 0 ? -inf : state;
      state = t > top ? inf : state;
      state_out[k] = T(state);
    }
  }

 private:
  double lo_, step_, top_;
  AdcNonidealities errors_;
};

// For partial sums with gradient states st (AdcSte::gradient_state) and gradients dy as if unclipped: adds
// d loss / d lo and d loss / d hi to lo_sum and hi_sum; returns how many are clipped.
template <typename T>
int64_t adc_interval_sums(const T* st, const double* dy, int64_t count, double& lo_sum, double& hi_sum) {
  const double inf = std::numeric_limits<double>::infinity();
  double lo = 0, hi = 0;
  int64_t clipped = 0;
#pragma omp simd reduction(+ : lo, hi, clipped)
  for (int64_t k = 0; k < count; ++k) {
    const double s = double(st[k]), go = dy[k];
    const bool low = s == -inf, high = s == inf;
    const double inside = low || high ? 0.0 : s;
    lo += low ? go : -go * inside;
    hi += high ? go : go * inside;
    clipped += low || high;
  }
  lo_sum += lo;
  hi_sum += hi;
  return clipped;
}

}  // namespace cimsim::train
