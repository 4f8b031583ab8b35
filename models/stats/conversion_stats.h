// Statistics of the conversions of one layer: the histogram of partial sums at the ADC inputs,
// the error of the ADC output against the ideal partial sum, and energy events (stats/energy.h). Plain
// counters, merged across macros and written as one JSON document (docs/stats.md lists every field).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "adc/adc_transfer.h"
#include "config/hw_config.h"
#include "stats/energy.h"
#include "stats/stats_records.h"

namespace cimsim {

// Bins of equal integer width centred on integers: bin j covers
// [first_edge + j * width, first_edge + (j + 1) * width) with first_edge = range_lo - 0.5.
class PartialSumHistogram {
 public:
  static constexpr int kMaxBins = 4096;
  void init(double range_lo, double range_hi);
  void add(const float* y, int64_t n);
  void add_count(double y, int64_t count);
  void merge(const PartialSumHistogram& other);
  HistogramFigures figures() const;

  double first_edge() const { return first_edge_; }
  double bin_width() const { return width_; }
  std::vector<int64_t> counts() const;
  int64_t underflow() const { return slot_count(0); }
  int64_t overflow() const { return slot_count(bins_ + 1); }
  int64_t total() const;

 private:
  // kBanks interleaved copies (bin j of bank q at j * kBanks + q): runs of equal partial sums,
  // which are common, then update different counters and do not serialise on one memory word.
  // Slot 0 counts underflow, slots 1..bins the bins, slot bins + 1 overflow.
  static constexpr int kBanks = 4;
  int64_t slot_count(int64_t slot) const;
  double first_edge_ = 0, width_ = 1;
  int64_t bins_ = 0;
  std::vector<int64_t> banked_;
};

// Error e = adc_value - ideal_partial_sum, where the ideal partial sum uses the target cell
// levels and no noise; signal power is the ideal partial sum squared.
struct ErrorAccumulator {
  int64_t count = 0;
  double sum = 0, sum_sq = 0, signal_sq = 0;
  void add(const double* value, const float* ideal, int64_t n);
  void add(const float* value, const float* ideal, int64_t n);  // the same for float values
  void merge(const ErrorAccumulator& o);
  double mean() const;
  double stddev() const;
  // 10 log10(signal_sq / sum_sq); +infinity when there is no error.
  double sqnr_db() const;
};

// The loop of IntegerTally::add_accumulate: AVX-512 gathers, or plain loops; the same bits.
enum class TallyKernel { kPortable, kAvx512 };
TallyKernel tally_kernel_best();  // AVX-512 where the CPU has it, detected once

// Counts of integer partial sums, one counter per integer in [lo, lo + size): when every partial
// sum is an integer (ideal cells, no read noise) and the converter is deterministic, this tally
// determines the histogram, the clip counts and the error statistics exactly, so the hot loop
// only counts. fold() turns it into those statistics.
class IntegerTally {
 public:
  void init(int32_t lo, int32_t hi);
  bool active() const { return !counts_.empty(); }
  int32_t lo() const { return lo_; }
  // y[i] must be integers in [lo, hi]. Also looks up value[i] = table[y[i] - lo] (the ADC
  // output), fused into the same pass since both index by the partial sum.
  void add(const int32_t* y, const double* table, double* value, int64_t n);
  // The same for `columns` columns of y (column c at y + c * stride), with the lookups going
  // straight into shift-add registers: acc[i] += table[y[c * stride + i] - lo] * scales[c] for
  // c = 0, 1, ... in that order (each product rounded, then added).
  void add_accumulate(const int32_t* y, int64_t stride, int columns, const double* table, double* acc,
                      const double* scales, int64_t n, TallyKernel kernel = tally_kernel_best());
  int64_t count(int32_t value) const;
  // Adds the other tally's counts (same range, or an inactive one).
  void merge(const IntegerTally& other);

 private:
  // One counter per integer: interleaved copies against store-forwarding stalls measured no
  // faster on this machine (0.29 s either way in bench_mvm).
  int32_t lo_ = 0;
  std::vector<int64_t> counts_;
};

// The error sums of one (transaction, macro, slice): against the ideal partial sum; with
// programmed devices, against the partial sum over the programmed conductances before read noise;
// with read noise, the converter's input against the same sum before read noise (the read noise).
struct ErrorSums {
  ErrorAccumulator ideal, programmed, read;
  void merge(const ErrorSums& o) {
    ideal.merge(o.ideal);
    programmed.merge(o.programmed);
    read.merge(o.read);
  }
};

struct ConversionStats {
  AdcCounters adc;
  PartialSumHistogram histogram;
  ErrorAccumulator error;
  ErrorAccumulator residual;  // v - the partial sum over the programmed conductances (ErrorSums::programmed)
  ErrorAccumulator read;      // the ADC's input - the same sum before read noise (ErrorSums::read)
  EnergyEvents events;
  IntegerTally tally;  // folded into the above by fold()
  // Accumulator register updates (shift-add and adder tree) that the accumulator_bits bound clamped.
  int64_t saturations = 0;

  // Moves the tally's counts into adc, histogram and error using the converter's table.
  void fold(const AdcTransfer& adc_transfer);
  // Adds every counter, the tally's included (fold the sum once: its error sums then do not
  // depend on how the counts were split).
  void merge(const ConversionStats& o);
};

}  // namespace cimsim
