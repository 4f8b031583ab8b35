#include "adc/adc_transfer.h"

#include <algorithm>
#include <cmath>

namespace cimsim {

AdcTransfer::AdcTransfer(const MacroConfig& macro, const AdcConfig& adc, const AdcInterval& interval)
    : ideal_(adc.ideal),
      lo_(interval.lo),
      hi_(interval.hi),
      step_((interval.hi - interval.lo) / double((1 << macro.adc_bits) - 1)),
      max_code_((1 << macro.adc_bits) - 1),
      errors_{adc.offset_lsb, adc.gain_error, adc.thermal_sigma_lsb, adc.inl_lsb} {}

int AdcTransfer::code_of(double y, double z) const {
  const double t = std::rint((errors_.input(y, step_, z) - lo_) / step_);
  return static_cast<int>(std::clamp(t, 0.0, double(max_code_)));
}

void AdcTransfer::convert(const float* y, double* value, int64_t n, AdcCounters& counters,
                          const CounterRng& thermal, uint64_t noise_base, uint64_t noise_stride) const {
  counters.conversions += n;
  if (ideal_) {
    for (int64_t i = 0; i < n; ++i) value[i] = y[i];
    return;
  }
  const double lo = lo_, step = step_, top = max_code_;
  int64_t low = 0, high = 0;
  if (errors_.none()) {
    // The hot loop: branch-free so the compiler vectorises it.
    for (int64_t i = 0; i < n; ++i) {
      const double t = std::rint((double(y[i]) - lo) / step);
      low += t < 0.0;
      high += t > top;
      const double code = std::min(std::max(t, 0.0), top);
      value[i] = lo + code * step;
    }
  } else {
    std::vector<double> z(std::size_t(n), 0.0);
    if (errors_.thermal_sigma_lsb > 0) thermal.normals(noise_base, noise_stride, n, z.data());
    for (int64_t i = 0; i < n; ++i) {
      const double t = std::rint((errors_.input(double(y[i]), step, z[std::size_t(i)]) - lo) / step);
      low += t < 0.0;
      high += t > top;
      const double code = std::min(std::max(t, 0.0), top);
      value[i] = lo + errors_.level(code) * step;
    }
  }
  counters.clipped_low += low;
  counters.clipped_high += high;
}

}  // namespace cimsim

namespace cimsim {

void AdcTransfer::build_table(int lo, int hi) {
  table_value_.clear();
  table_clip_.clear();
  if (ideal_ || errors_.thermal_sigma_lsb > 0 || hi < lo || int64_t(hi) - lo > (1 << 20)) return;
  table_lo_ = lo;
  const std::size_t n = std::size_t(hi - lo + 1);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = float(lo + int(i));
  table_value_.resize(n);
  table_clip_.resize(n);
  const CounterRng unused(0, {});
  for (std::size_t i = 0; i < n; ++i) {
    AdcCounters c;
    convert(&y[i], &table_value_[i], 1, c, unused, 0, 0);
    table_clip_[i] = int8_t(c.clipped_low ? -1 : c.clipped_high ? 1 : 0);
  }
}

}  // namespace cimsim
