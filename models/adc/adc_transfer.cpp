#include "adc/adc_transfer.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "core/cpu_features.h"

#ifdef CIMSIM_X86_KERNELS
#include <immintrin.h>
#endif

namespace cimsim {

namespace {

// Finite floats in value order as integers: -0 just below +0, which convert alike.
int64_t order_key(float f) {
  int32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b < 0 ? int64_t(b ^ 0x7fffffff) : int64_t(b);
}

float from_order_key(int64_t key) {
  const int32_t b = key < 0 ? int32_t(key) ^ 0x7fffffff : int32_t(key);
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

#ifdef CIMSIM_X86_KERNELS
// convert()'s loop without converter errors, 16 samples at a time. a = (y - lo) / step in single
// precision is within 0.07 codes of the contract's quotient wherever |lo| <= 2^20 step and the
// quotient is within 2 codes of the interval (and on the same side of it elsewhere), so
// c = clamp(round(a), 0, top) is within one code of the contract's clamped code; comparing y with
// the thresholds of the codes above (up) and below (down) makes it exact. Clips: t < 0 exactly
// when y < rise[0], t > top exactly when y >= rise[top + 1].
__attribute__((target("avx512f,popcnt"))) void convert_avx512(const float* y, double* value, int64_t n,
                                                              double lo, double step, int top,
                                                              const float* up, const float* down,
                                                              float clip_low, float clip_high,
                                                              AdcCounters& counters) {
  const __m512 lo_f = _mm512_set1_ps(float(lo)), inv_f = _mm512_set1_ps(float(1.0 / step));
  const __m512 a_min = _mm512_set1_ps(-1.0f), a_max = _mm512_set1_ps(float(top + 1));
  const __m512 below_all = _mm512_set1_ps(clip_low), above_all = _mm512_set1_ps(clip_high);
  const __m512i zero = _mm512_setzero_si512(), top_v = _mm512_set1_epi32(top), one = _mm512_set1_epi32(1);
  const __m512d lo_d = _mm512_set1_pd(lo), step_d = _mm512_set1_pd(step);
  const bool permute = top < 32;  // the tables in two registers each, else gathered
  const __m512 up0 = _mm512_loadu_ps(up), up1 = _mm512_loadu_ps(up + 16);
  const __m512 down0 = _mm512_loadu_ps(down), down1 = _mm512_loadu_ps(down + 16);
  int64_t low = 0, high = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, y + i);
    const __m512 a = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_sub_ps(x, lo_f), inv_f), a_min), a_max);
    __m512i c = _mm512_cvt_roundps_epi32(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    c = _mm512_min_epi32(_mm512_max_epi32(c, zero), top_v);
    const __m512 u = permute ? _mm512_permutex2var_ps(up0, c, up1) : _mm512_i32gather_ps(c, up, 4);
    const __m512 d = permute ? _mm512_permutex2var_ps(down0, c, down1) : _mm512_i32gather_ps(c, down, 4);
    c = _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(x, u, _CMP_GE_OQ), c, one);
    c = _mm512_mask_sub_epi32(c, _mm512_cmp_ps_mask(x, d, _CMP_LT_OQ), c, one);
    low += _mm_popcnt_u32(_mm512_mask_cmp_ps_mask(m, x, below_all, _CMP_LT_OQ));
    high += _mm_popcnt_u32(_mm512_mask_cmp_ps_mask(m, x, above_all, _CMP_GE_OQ));
    // value = lo + code * step, the product rounded before the sum as in the plain loop.
    const __m512d v0 =
        _mm512_add_pd(lo_d, _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(c)), step_d));
    const __m512d v1 =
        _mm512_add_pd(lo_d, _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(c, 1)), step_d));
    _mm512_mask_storeu_pd(value + i, __mmask8(m), v0);
    _mm512_mask_storeu_pd(value + i + 8, __mmask8(m >> 8), v1);
  }
  counters.clipped_low += low;
  counters.clipped_high += high;
}
#endif

}  // namespace

AdcKernel adc_kernel_best() { return cpu_features().avx512f ? AdcKernel::kAvx512 : AdcKernel::kPortable; }

AdcTransfer::AdcTransfer(const MacroConfig& macro, const AdcConfig& adc, const AdcInterval& interval)
    : ideal_(adc.ideal),
      lo_(interval.lo),
      hi_(interval.hi),
      step_((interval.hi - interval.lo) / double((1 << macro.adc_bits) - 1)),
      max_code_((1 << macro.adc_bits) - 1),
      errors_{adc.offset_lsb, adc.gain_error, adc.thermal_sigma_lsb, adc.inl_lsb} {
  find_thresholds();
}

void AdcTransfer::find_thresholds() {
  if (ideal_ || !errors_.none() || !(step_ >= 1e-30 && step_ <= 1e30) ||
      std::abs(lo_) > std::ldexp(step_, 20) || max_code_ > (1 << 16))
    return;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const int64_t first = order_key(-FLT_MAX), last = order_key(FLT_MAX);
  for (int k = 0; k <= max_code_ + 1; ++k) {
    if (rounded(-FLT_MAX) >= k) {
      rise_.push_back(-kInf);
    } else if (rounded(FLT_MAX) < k) {
      rise_.push_back(kInf);
    } else {
      int64_t below = first, at = last;  // rounded(below) < k <= rounded(at), as order keys
      while (at - below > 1) {
        const int64_t mid = below + (at - below) / 2;
        (rounded(from_order_key(mid)) >= k ? at : below) = mid;
      }
      rise_.push_back(from_order_key(at));
    }
  }
  const std::size_t size = std::max<std::size_t>(32, std::size_t(max_code_) + 1);
  up_.assign(size, kInf);
  down_.assign(size, -kInf);
  for (int c = 0; c < max_code_; ++c) up_[std::size_t(c)] = rise_[std::size_t(c) + 1];
  for (int c = 1; c <= max_code_; ++c) down_[std::size_t(c)] = rise_[std::size_t(c)];
}

int AdcTransfer::code_of(double y, double z) const {
  const double t = std::rint((errors_.input(y, step_, z) - lo_) / step_);
  return static_cast<int>(std::clamp(t, 0.0, double(max_code_)));
}

void AdcTransfer::convert(const float* y, double* value, int64_t n, AdcCounters& counters,
                          const CounterRng& thermal, uint64_t noise_base, uint64_t noise_stride,
                          AdcKernel kernel) const {
  counters.conversions += n;
  if (ideal_) {
    for (int64_t i = 0; i < n; ++i) value[i] = y[i];
    return;
  }
  if (kernel == AdcKernel::kAvx512 && !rise_.empty()) {
#ifdef CIMSIM_X86_KERNELS
    convert_avx512(y, value, n, lo_, step_, max_code_, up_.data(), down_.data(), rise_.front(), rise_.back(),
                   counters);
    return;
#else
    throw std::logic_error("AdcTransfer::convert: no AVX-512 kernel on this architecture");
#endif
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
