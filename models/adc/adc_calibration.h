// Choosing a layer's ADC interval [lo, hi] from the distribution of the partial sums that reach its
// converters (the partial-sum histogram of docs/stats.md): issue 5's `cimsim calibrate`.
//
// The histogram's bins are integer-centred; each bin stands for its representative value
//   v_j = first_edge + j * width + width / 2
// (the integer itself for width 1, which is exact for the integer partial sums of ideal cells), with
// underflow counted at first_edge and overflow at the last bin's upper edge (both lie outside the
// converter's full range, so every interval clips them). Methods (docs/calibration.md):
//   minmax:     lo = the smallest occupied v_j, hi = the largest;
//   percentile: two-sided, P percent kept: lo = the largest v_j with at most a = (100 - P) / 200 of
//               the partial sums below it, hi = the smallest v_j with at most a above it (so each
//               side clips at most a; a value equal to lo or hi does not clip);
//   mse:        the interval that minimises the mean of (Q(v) - v)^2 over the distribution, Q the
//               ideal adc_bits quantizer on [lo, hi] (numerics.md section 8 without converter
//               errors: lo + clamp(round_half_even((v - lo) / step), 0, n) step, step = (hi - lo) / n,
//               n = 2^adc_bits - 1), searched on a grid of 97 x 97 (lo, hi) pairs between the
//               smallest and the largest occupied v_j, then refined three times on a 25 x 25 grid of
//               +-1 grid step around the best pair (ties: the first pair found, lo then hi ascending).
// The result is clamped to the full range; one that then has zero width (one occupied value, or all
// partial sums outside the range) becomes the unit-wide interval around it, moved inside the range.
// The percentile method keeps a whole number of partial sums: a = floor((100 - P) / 200 x total).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/hw_config.h"

namespace cimsim {

struct PartialSumCounts {
  double first_edge = 0, bin_width = 1;
  std::vector<int64_t> counts;
  int64_t underflow = 0, overflow = 0;
  int64_t total() const;
  double value(std::size_t bin) const { return first_edge + (double(bin) + 0.5) * bin_width; }
};

enum class CalibrationMethod { kMinMax, kPercentile, kMse };

// The methods' names, in the enum's order: "minmax", "percentile", "mse" (the one list that the
// command line, the calibration file, the sweep and the flow files accept).
const std::vector<std::string>& calibration_method_names();
// One of those names; throws InputError naming the choices otherwise.
CalibrationMethod parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod method);

struct CalibrationSpec {
  CalibrationMethod method = CalibrationMethod::kMse;
  double percentile = 99.99;  // percent kept, in (0, 100]
  int adc_bits = 5;
  double full_lo = 0, full_hi = 0;  // the converter's full range
};

// The chosen interval (full = false). Throws InputError for a distribution with no partial sums.
AdcInterval calibrate_interval(const PartialSumCounts& sums, const CalibrationSpec& spec);
// `cimsim calibrate --zero-level`, after the method: with n = 2^adc_bits - 1, step s = (hi - lo) / n
// and k = round_half_even(-lo / s), when 0 <= k <= n the interval becomes [-k s, (n - k) s] (moved by
// at most s / 2, width kept), so that the converter's level k, lo + k s, is 0 (to rounding). Returns
// false and leaves the interval when 0 lies more than half a step outside it or the moved interval
// would leave the full range [full_lo, full_hi].
bool move_zero_onto_level(double& lo, double& hi, int adc_bits, double full_lo, double full_hi);

// Mean of (Q(v) - v)^2 over the distribution for the ideal adc_bits quantizer on `interval`.
double quantization_mse(const PartialSumCounts& sums, double lo, double hi, int adc_bits);
// Fractions of the partial sums below lo and above hi.
struct ClipFractions {
  double low = 0, high = 0;
};
ClipFractions clip_fractions(const PartialSumCounts& sums, double lo, double hi);

}  // namespace cimsim
