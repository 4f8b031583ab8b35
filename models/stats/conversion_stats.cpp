#include "stats/conversion_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/cpu_features.h"

#ifdef CIMSIM_X86_KERNELS
#include <immintrin.h>
#endif

namespace cimsim {

void PartialSumHistogram::init(double range_lo, double range_hi) {
  const double span = std::floor(range_hi) - std::ceil(range_lo) + 1.0;
  width_ = std::max(1.0, std::ceil(span / kMaxBins));
  first_edge_ = std::ceil(range_lo) - 0.5;
  bins_ = int64_t(std::ceil(span / width_));
  banked_.assign(std::size_t((bins_ + 2) * kBanks), 0);
}

void PartialSumHistogram::add(const float* y, int64_t n) {
  constexpr int64_t kChunk = 256;
  int32_t slot[kChunk];
  const double width = width_;
  const double top = double(bins_);
  const double edge = first_edge_;
  for (int64_t offset = 0; offset < n; offset += kChunk) {
    const int64_t m = std::min(kChunk, n - offset);
    const float* in = y + offset;
    // Vectorisable: position in bins clamped to [-1, bins]; +1 makes it non-negative, so the
    // truncating conversion floors it, and slot 0 becomes the underflow slot.
    if (width == 1.0) {  // the usual case; dividing by 1 is exact, so skip the division
      for (int64_t i = 0; i < m; ++i) {
        const double pos = std::min(std::max(double(in[i]) - edge, -1.0), top);
        slot[i] = int32_t(pos + 1.0);
      }
    } else {
      for (int64_t i = 0; i < m; ++i) {
        const double pos = std::min(std::max((double(in[i]) - edge) / width, -1.0), top);
        slot[i] = int32_t(pos + 1.0);
      }
    }
    for (int64_t i = 0; i < m; ++i) ++banked_[std::size_t(slot[i]) * kBanks + std::size_t(i & (kBanks - 1))];
  }
}

void PartialSumHistogram::add_count(double y, int64_t count) {
  const double pos = std::min(std::max((y - first_edge_) / width_, -1.0), double(bins_));
  banked_[std::size_t(int64_t(pos + 1.0)) * kBanks] += count;
}

void PartialSumHistogram::merge(const PartialSumHistogram& other) {
  if (other.banked_.empty()) return;
  if (banked_.empty()) {
    *this = other;
    return;
  }
  if (other.banked_.size() != banked_.size() || other.first_edge_ != first_edge_ || other.width_ != width_) {
    throw std::logic_error("PartialSumHistogram::merge: histograms over different bins");
  }
  for (std::size_t i = 0; i < banked_.size(); ++i) banked_[i] += other.banked_[i];
}

int64_t PartialSumHistogram::slot_count(int64_t slot) const {
  if (banked_.empty()) return 0;
  int64_t c = 0;
  for (int q = 0; q < kBanks; ++q) c += banked_[std::size_t(slot * kBanks + q)];
  return c;
}

std::vector<int64_t> PartialSumHistogram::counts() const {
  std::vector<int64_t> c(std::size_t(bins_), 0);
  for (int64_t j = 0; j < bins_; ++j) c[std::size_t(j)] = slot_count(j + 1);
  return c;
}

int64_t PartialSumHistogram::total() const {
  int64_t t = 0;
  for (int64_t c : banked_) t += c;
  return t;
}

HistogramFigures PartialSumHistogram::figures() const {
  return {first_edge_, width_, counts(), underflow(), overflow()};
}

namespace {

template <class V>
void add_errors(ErrorAccumulator& a, const V* value, const float* ideal, int64_t n) {
  double s = 0, s2 = 0, signal = 0;
#pragma omp simd reduction(+ : s, s2, signal)
  for (int64_t i = 0; i < n; ++i) {
    const double y = ideal[i];
    const double e = double(value[i]) - y;
    s += e;
    s2 += e * e;
    signal += y * y;
  }
  a.count += n;
  a.sum += s;
  a.sum_sq += s2;
  a.signal_sq += signal;
}

}  // namespace

void ErrorAccumulator::add(const double* value, const float* ideal, int64_t n) { add_errors(*this, value, ideal, n); }

void ErrorAccumulator::add(const float* value, const float* ideal, int64_t n) { add_errors(*this, value, ideal, n); }

void ErrorAccumulator::merge(const ErrorAccumulator& o) {
  count += o.count;
  sum += o.sum;
  sum_sq += o.sum_sq;
  signal_sq += o.signal_sq;
}

double ErrorAccumulator::mean() const { return count ? sum / double(count) : 0.0; }

double ErrorAccumulator::stddev() const {
  if (count == 0) return 0.0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_sq / double(count) - m * m));
}

double ErrorAccumulator::sqnr_db() const {
  if (sum_sq == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal_sq / sum_sq);
}

void IntegerTally::init(int32_t lo, int32_t hi) {
  lo_ = lo;
  counts_.assign(std::size_t(int64_t(hi) - lo + 1), 0);
}

void IntegerTally::add(const int32_t* y, const double* table, double* value, int64_t n) {
  int64_t* counts = counts_.data();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t offset = y[i] - lo_;
    value[i] = table[offset];
    ++counts[offset];
  }
}

namespace {

#ifdef CIMSIM_X86_KERNELS
// The lookups and sums of add_accumulate, eight vectors per AVX-512 gather, each register loaded
// and stored once for all columns; every product rounded before its sum, in column order, as in
// the plain loop (no fused multiply-add). table[y - lo] for y in [lo, hi].
__attribute__((target("avx512f"))) void lookup_accumulate_avx512(const int32_t* y, int64_t stride,
                                                                 int columns, int32_t lo, const double* table,
                                                                 double* acc, const double* scales,
                                                                 int64_t n) {
  const __m256i offset = _mm256_set1_epi32(lo);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512d sum = _mm512_loadu_pd(acc + i);
    for (int c = 0; c < columns; ++c) {
      const __m256i at =
          _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y + c * stride + i)), offset);
      const __m512d value = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xff, at, table, 8);
      sum = _mm512_add_pd(sum, _mm512_mul_pd(value, _mm512_set1_pd(scales[c])));
    }
    _mm512_storeu_pd(acc + i, sum);
  }
  for (; i < n; ++i)
    for (int c = 0; c < columns; ++c) acc[i] += table[y[c * stride + i] - lo] * scales[c];
}
#endif

}  // namespace

TallyKernel tally_kernel_best() {
  return cpu_features().avx512f ? TallyKernel::kAvx512 : TallyKernel::kPortable;
}

void IntegerTally::add_accumulate(const int32_t* y, int64_t stride, int columns, const double* table,
                                  double* acc, const double* scales, int64_t n, TallyKernel kernel) {
  int64_t* counts = counts_.data();
  const int32_t lo = lo_;
  if (kernel == TallyKernel::kAvx512) {
#ifdef CIMSIM_X86_KERNELS
    // The lookups vectorised, the counting (a scatter with conflicts) left scalar.
    lookup_accumulate_avx512(y, stride, columns, lo, table, acc, scales, n);
    for (int c = 0; c < columns; ++c)
      for (int64_t i = 0; i < n; ++i) ++counts[y[c * stride + i] - lo];
    return;
#else
    throw std::logic_error("IntegerTally::add_accumulate: no AVX-512 kernel on this architecture");
#endif
  }
  for (int c = 0; c < columns; ++c) {
    const int32_t* yc = y + c * stride;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t at = yc[i] - lo;
      acc[i] += table[at] * scales[c];
      ++counts[at];
    }
  }
}

int64_t IntegerTally::count(int32_t value) const {
  const int64_t at = int64_t(value) - lo_;
  return at < 0 || at >= int64_t(counts_.size()) ? 0 : counts_[std::size_t(at)];
}

void IntegerTally::merge(const IntegerTally& other) {
  if (!other.active()) return;
  if (!active()) {
    *this = other;
    return;
  }
  if (other.lo_ != lo_ || other.counts_.size() != counts_.size())
    throw std::logic_error("IntegerTally::merge: tallies over different ranges");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

void ConversionStats::fold(const AdcTransfer& adc_transfer) {
  if (!tally.active()) return;
  // The tally counts the integers the converter's table covers, offset for offset.
  if (tally.lo() != adc_transfer.table_lo())
    throw std::logic_error("ConversionStats::fold: tally and table differ");
  const int64_t size = int64_t(adc_transfer.table_size());
  for (int64_t i = 0; i < size; ++i) {
    const int32_t y = tally.lo() + int32_t(i);
    const int64_t n = tally.count(y);
    if (n == 0) continue;
    const double v = adc_transfer.table_value()[i];
    const int8_t clip = adc_transfer.table_clip()[i];
    adc.conversions += n;
    adc.clipped_low += clip < 0 ? n : 0;
    adc.clipped_high += clip > 0 ? n : 0;
    histogram.add_count(double(y), n);
    const double e = v - double(y);
    error.count += n;
    error.sum += double(n) * e;
    error.sum_sq += double(n) * e * e;
    error.signal_sq += double(n) * double(y) * double(y);
  }
  tally.init(tally.lo(), tally.lo() + int32_t(size) - 1);
}

void ConversionStats::merge(const ConversionStats& o) {
  adc.add(o.adc);
  histogram.merge(o.histogram);
  error.merge(o.error);
  residual.merge(o.residual);
  read.merge(o.read);
  events.merge(o.events);
  tally.merge(o.tally);
  saturations += o.saturations;
}

}  // namespace cimsim
