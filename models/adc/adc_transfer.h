// The ADC transfer function of the numerics contract (docs/numerics.md, "ADC"):
//   y_in  = (1 + gain_error) * y + offset_lsb * step + thermal_sigma_lsb * step * z
//   code  = clamp(round_half_even((y_in - lo) / step), 0, 2^bits - 1)
//   value = lo + (code + inl_lsb[code]) * step
// with step = (hi - lo) / (2^bits - 1): noise first, then quantization, then clipping, as in
// aihwkit's forward pass. An ideal converter returns y unchanged. Offset, gain error and thermal
// noise are in LSB of the configured interval so that they scale with it, as SAR/flash datasheets
// quote them; the INL table gives the deviation of each code's level in LSB.
#pragma once

#include <cstdint>
#include <vector>

#include "adc/adc_nonidealities.h"
#include "config/hw_config.h"
#include "core/rng.h"

namespace cimsim {

struct AdcCounters {
  int64_t conversions = 0;
  int64_t clipped_low = 0;   // round((y_in - lo) / step) < 0
  int64_t clipped_high = 0;  // round((y_in - lo) / step) > 2^bits - 1

  void add(const AdcCounters& o) {
    conversions += o.conversions;
    clipped_low += o.clipped_low;
    clipped_high += o.clipped_high;
  }
};

// The loop of AdcTransfer::convert for a converter without errors: the contract's division per
// sample (portable), or AVX-512 comparisons of y against the code thresholds (below); the same bits.
enum class AdcKernel { kPortable, kAvx512 };
AdcKernel adc_kernel_best();  // AVX-512 where the CPU has it, detected once

class AdcTransfer {
 public:
  AdcTransfer(const MacroConfig& macro, const AdcConfig& adc, const AdcInterval& interval);

  bool ideal() const { return ideal_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double step() const { return step_; }
  int max_code() const { return max_code_; }
  bool has_thermal_noise() const { return errors_.thermal_sigma_lsb > 0; }

  // Converts y[i * stride_unused..] for i in [0, n): value[i] from y[i]. Thermal draws use index
  // noise_base + i * noise_stride of `thermal`. Counts conversions and clips into `counters`.
  // y must be finite.
  void convert(const float* y, double* value, int64_t n, AdcCounters& counters, const CounterRng& thermal,
               uint64_t noise_base, uint64_t noise_stride, AdcKernel kernel = adc_kernel_best()) const;
  // The code one sample converts to, given its thermal-noise draw z (0 without noise); for the
  // trace of the first replica. For an ideal converter: the code a converter of adc_bits over
  // the interval would give (the value used is y itself).
  int code_of(double y, double z = 0.0) const;

  // For integer partial sums (ideal cells, no read noise) and a deterministic converter, the
  // transfer function is tabulated once over every integer in [table_lo, table_hi]: value and
  // clip flag (-1 low, 0, +1 high) of y = table_lo + i. Computed with the same formula as
  // convert(), so both paths give identical bits. Empty for an ideal or noisy converter.
  bool has_table() const { return !table_value_.empty(); }
  int table_lo() const { return table_lo_; }
  std::size_t table_size() const { return table_value_.size(); }
  const double* table_value() const { return table_value_.data(); }
  const int8_t* table_clip() const { return table_clip_.data(); }
  // Builds the table for [lo, hi] if the converter is deterministic and the span is at most 2^20.
  void build_table(int lo, int hi);

 private:
  bool ideal_;
  double lo_, hi_, step_;
  int max_code_;
  AdcNonidealities errors_;
  // Without converter errors, t(y) = round_half_even((double(y) - lo) / step) never falls as y
  // grows, so t(y) >= k exactly when y >= rise_[k]: the smallest finite float reaching k (-inf
  // when every finite float does, +inf when none does), k = 0 .. max_code + 1, found once by
  // bisection with the contract's formula. The vector loop computes t approximately, within one
  // code, and corrects it with these: up_[c] = rise_[c + 1] (+inf for c = max_code) and
  // down_[c] = rise_[c] (-inf for c = 0), padded with +inf / -inf to at least 32 entries. Empty
  // (the division loop then) for an ideal converter or one with errors, when |lo| is over 2^20
  // steps (too far from 0 for the approximation), step is outside [1e-30, 1e30] or max_code is
  // over 2^16.
  std::vector<float> rise_, up_, down_;
  double rounded(float y) const { return std::rint((double(y) - lo_) / step_); }
  void find_thresholds();

  int table_lo_ = 0;
  std::vector<double> table_value_;
  std::vector<int8_t> table_clip_;
};

}  // namespace cimsim
