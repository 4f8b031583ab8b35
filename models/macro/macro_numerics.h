// The arithmetic of one CIM macro, apart from its timing: the programmed tile of a layer's
// weights, the input digits of each (row group, phase) step, the bit-line partial sums with read
// noise, the ADC conversions and the shift-add. docs/numerics.md is the exact rule. The SystemC
// modules (sim/) only keep time; every value the simulator reports comes from convert(), whether
// the run is traced or not, so both modes give the same outputs and statistics.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "adc/adc_transfer.h"
#include "byte_gemm.h"
#include "config/hw_config.h"
#include "device/array_programming.h"
#include "device/read_noise.h"
#include "input_digits.h"
#include "mapping/layer_mapping.h"
#include "mvm_job.h"
#include "stats/conversion_stats.h"

namespace cimsim {

// What one step shows of vector 0 of a job, for a traced run: the value each ADC input samples
// (after read noise, before the converter's own noise), the code it converts to (with that
// conversion's thermal draw), the value the shift-add takes, and each output's shift-add
// register once the step has been added.
struct StepProbe {
  std::vector<float> analog;      // per ADC input signal
  std::vector<int> codes;         // per ADC input signal
  std::vector<double> values;     // per ADC input signal: the converter's output value
  std::vector<double> registers;  // per output of the column tile
};

// Where the conversions of one slice of a job go.
struct SliceOutput {
  Eigen::MatrixXd* registers = nullptr;  // the job's shift-add registers, batch x col_count; the
                                         // slice's rows must start at zero
  ConversionStats* counts = nullptr;     // integer counters (sums do not depend on order)
  ErrorSums* error = nullptr;            // the error sums of this (job, slice)
};

// The bound 2^(accumulator_bits - 1) of the shift-add and adder-tree registers, which then hold
// [-bound, bound - 1] (docs/numerics.md section 9); 0 when they do not saturate.
double accumulator_bound(const MacroConfig& macro);

class MacroNumerics {
 public:
  // Vectors per numerical slice, the unit of parallel work (a slice's bit-line values stay in the
  // L2 cache): a batch of B vectors has ceil(B / kSliceVectors) slices.
  static constexpr int kSliceVectors = 32;
  static int slices_of(int batch) { return (batch + kSliceVectors - 1) / kSliceVectors; }

  // Programs tile `macro` of `mapping` with `weights` (K x N). `adc` is the layer's converter;
  // it may be replaced in place between jobs (cimsim calibrate), but must keep its table.
  // `copy` > 0: a duplicate of the tile (chip.duplicate), programmed with its own device draws
  // (docs/numerics.md, "Device draws"); its read and converter noise are the layer's.
  MacroNumerics(const HwConfig& hw, const LayerMapping& mapping, int macro, const Eigen::MatrixXi& weights,
                const AdcTransfer& adc, uint64_t seed, uint64_t layer_id, int copy = 0);

  const ColTile& col_tile() const { return *col_tile_; }
  // The (row group, phase) steps of one MVM, in the order the macro runs them.
  const std::vector<Step>& steps() const { return steps_; }
  // ADC input signals of the tile: outputs x slices x signals per pair.
  int signals() const { return signals_; }
  // The programmed cells' errors per target level (empty with ideal devices).
  const DeviceLevelErrors& level_errors() const { return tile_.level_errors; }
  // Statistics with every counter zero, sized for this macro's conversions.
  ConversionStats empty_stats() const;
  // Whether to count the histogram of non-integer partial sums (integer ones are always tallied)
  // and, with programmed devices, the error against the programmed partial sums (ErrorSums).
  void set_histograms(bool on) { histograms_ = on; }

  // Converts every step of slice `slice` of `job` in step order into `out`, using the thread's
  // digit cache `digits`; with `probe`, also records vector 0 of the job per step (slice 0 only).
  // Thread-safe for distinct outputs and digit caches.
  void convert(const MvmJob& job, int slice, const SliceOutput& out, InputDigits& digits,
               std::vector<StepProbe>* probe = nullptr) const;

 private:
  void convert_step(const Step& step, const MvmJob& job, int first, int count, const SliceOutput& out,
                    InputDigits& digits, StepProbe* probe) const;
  // Bit-line values of `step` for `count` vectors: y with the programmed conductances and read
  // noise; y_ideal with the target levels and no noise, filled only when that differs from y
  // (then returns true).
  bool bitlines(const Step& step, const MvmJob& job, int first, const StepDigits& digits) const;
  // The partial sums of `step` when every one is an integer (integer_sums_), into the thread's
  // scratch sums (and its float y as well if `as_float`): the byte kernel's when the levels fit it.
  void integer_bitlines(const Step& step, const StepDigits& digits, int count, bool as_float) const;
  // The row drives of `digits` whose digit is not 0, and their reads of conducting cells.
  void count_nonzero_drives(const RowGroup& group, const StepDigits& digits, EnergyEvents& events) const;
  void record_probe(const MvmJob& job, const CounterRng& thermal, const Eigen::MatrixXf& y,
                    const double* values, const Eigen::MatrixXd& registers, StepProbe& probe) const;
  // registers[i] += scale * (value[i] - minus[i]) (minus may be null), saturating if configured
  // (each clamped register counted in `saturations`).
  void accumulate(double* registers, int count, double scale, const double* value, const double* minus,
                  int64_t& saturations) const;
  // Noise-draw index of vector i of `job` at this macro's signal 0 (docs/numerics.md, read noise);
  // vector i + 1 is noise_stride() further on.
  uint64_t noise_base(const MvmJob& job, int64_t i) const;
  uint64_t noise_stride(const MvmJob& job) const;

  const HwConfig& hw_;
  const LayerMapping& mapping_;
  const RowTile* row_tile_;
  const ColTile* col_tile_;
  const AdcTransfer& adc_;
  uint64_t seed_, layer_id_;
  TileConductances tile_;
  // The byte kernel's levels per row group of the tile (local group order): tile_.ideal under
  // device variation, tile_.actual when every partial sum is an integer; empty when it is not used.
  std::vector<PackedLevels> packed_levels_;
  ReadNoise read_noise_;
  std::vector<Step> steps_;
  int signals_ = 0;
  bool integer_sums_ = false;  // ideal cells and no read noise: every partial sum is an integer
  bool noisy_read_ = false;    // read noise, constant or current-dependent
  bool histograms_ = true;
  double saturation_ = 0;             // shift-add register bound 2^(accumulator_bits - 1); 0: none
  std::vector<double> slice_scales_;  // 2^(s cell_bits) per slice s
};

}  // namespace cimsim
