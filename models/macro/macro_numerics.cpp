#include "macro_numerics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "core/rng.h"
#include "device/bitline_model.h"
#include "integer_gemm.h"

namespace cimsim {
namespace {

// Working memory of the thread converting a slice.
struct SliceScratch {
  Eigen::MatrixXf y, y_ideal;              // vectors x ADC inputs
  IntSums sums;                            // y when every partial sum is an integer
  Eigen::MatrixXf y_programmed;            // y before read noise (the residual error's reference)
  Eigen::MatrixXd current;                 // vectors x ADC inputs: the bit lines' currents (bitline_sums)
  Eigen::MatrixXd digits_double, y_exact;  // the double path of programmed conductances
  std::vector<double> values;              // vectors x ADC inputs, column-major
  std::vector<double> scales;              // per slice: the step's shift-add scale
};
thread_local SliceScratch scratch;

}  // namespace

double accumulator_bound(const MacroConfig& macro) {
  return macro.accumulator_bits > 0 ? std::ldexp(1.0, macro.accumulator_bits - 1) : 0.0;
}

MacroNumerics::MacroNumerics(const HwConfig& hw, const LayerMapping& mapping, int macro,
                             const Eigen::MatrixXi& weights, const AdcTransfer& adc, uint64_t seed,
                             uint64_t layer_id, int copy)
    : hw_(hw),
      mapping_(mapping),
      row_tile_(&mapping.row_tile_of(macro)),
      col_tile_(&mapping.col_tile_of(macro)),
      adc_(adc),
      seed_(seed),
      layer_id_(layer_id),
      tile_(program_tile(hw, weights, mapping, macro, seed, layer_id + (uint64_t(copy) << 32))),
      read_noise_{hw.device.read_noise_sigma, hw.device.read_noise_current_sigma} {
  const MacroConfig& m = hw.macro;
  noisy_read_ = read_noise_.active();
  integer_sums_ = tile_.ideal.size() == 0 && !noisy_read_ && !hw.device.bitline_effects() && adc.has_table();
  // The byte kernel's levels, packed per row group of the tile: with device variation the target
  // levels (the ideal partial sums beside the programmed ones), which must fit it; when every
  // partial sum is an integer the cells' levels, if they fit.
  const Eigen::MatrixXf* byte_levels = nullptr;
  if (!hw.device.programming_ideal() && m.dac_bits <= 8 && m.cell_bits <= 7) {
    if (!byte_gemm_fits(m.dac_bits, tile_.ideal))
      throw std::logic_error("MacroNumerics: ideal levels do not fit the byte kernel");
    byte_levels = &tile_.ideal;
  } else if (integer_sums_ && byte_gemm_fits(m.dac_bits, tile_.actual)) {
    byte_levels = &tile_.actual;
  }
  for (int g = 0; byte_levels && g < row_tile_->num_groups; ++g) {
    const RowGroup& group = mapping.groups[std::size_t(row_tile_->first_group + g)];
    packed_levels_.push_back(
        pack_levels(byte_levels->middleRows(group.begin - row_tile_->row_begin, group.size)));
  }
  int index = 0;
  for (int local = 0; local < row_tile_->num_groups; ++local) {
    for (int phase = 0; phase < m.phases(); ++phase) {
      const bool last = local + 1 == row_tile_->num_groups && phase + 1 == m.phases();
      steps_.push_back(Step{index++, local, row_tile_->first_group + local, phase, last});
    }
  }
  signals_ = col_tile_->col_count * m.slices() * m.signals_per_pair();
  saturation_ = accumulator_bound(m);
  for (int s = 0; s < m.slices(); ++s) slice_scales_.push_back(std::ldexp(1.0, s * m.cell_bits));
}

ConversionStats MacroNumerics::empty_stats() const {
  ConversionStats stats;
  stats.histogram.init(hw_.full_interval().lo, hw_.full_interval().hi);
  if (integer_sums_) stats.tally.init(adc_.table_lo(), adc_.table_lo() + int32_t(adc_.table_size()) - 1);
  return stats;
}

uint64_t MacroNumerics::noise_base(const MvmJob& job, int64_t i) const {
  const uint64_t per_output = uint64_t(hw_.macro.slices() * hw_.macro.signals_per_pair());
  return job.id(i) * uint64_t(mapping_.outputs) * per_output + uint64_t(col_tile_->col_begin) * per_output;
}

uint64_t MacroNumerics::noise_stride(const MvmJob& job) const {
  return uint64_t(job.id_stride) * uint64_t(mapping_.outputs) *
         uint64_t(hw_.macro.slices() * hw_.macro.signals_per_pair());
}

void MacroNumerics::convert(const MvmJob& job, int slice, const SliceOutput& out, InputDigits& digits,
                            std::vector<StepProbe>* probe) const {
  const int first = slice * kSliceVectors;
  const int count = std::min(kSliceVectors, job.batch - first);
  const bool probing = probe && slice == 0;
  if (probing) probe->resize(steps_.size());  // each step's vectors are resized in place
  for (const Step& step : steps_) {
    convert_step(step, job, first, count, out, digits,
                 probing ? &(*probe)[std::size_t(step.index)] : nullptr);
  }
}

bool MacroNumerics::bitlines(const Step& step, const MvmJob& job, int first,
                             const StepDigits& step_digits) const {
  const RowGroup& group = mapping_.groups[std::size_t(step.group)];
  const int local_row = group.begin - row_tile_->row_begin;
  const int count = int(step_digits.values.rows());
  const DigitMatrix& digits = step_digits.values;
  Eigen::MatrixXf& y = scratch.y;
  Eigen::MatrixXf& y_ideal = scratch.y_ideal;
  // The ideal partial sums (target levels, no noise) when they differ from y.
  auto ideal_sums = [&] {
    if (!packed_levels_.empty()) {
      byte_gemm(step_digits.packed, 0, count, packed_levels_[std::size_t(step.local_group)], y_ideal);
    } else {
      integer_gemm(digits, tile_.ideal.middleRows(local_row, group.size), y_ideal);
    }
  };
  // The partial sums of the programmed conductances, exactly: fixed point scaled to integers (the
  // float GEMM is exact, sums below 2^24, and so is the power-of-two scaling back) or in double
  // (every product and partial sum exact, so y does not depend on the GEMM's summation order;
  // rounded once to float).
  auto programmed_sums = [&] {
    if (tile_.programmed_scaled.size() > 0) {
      integer_gemm(digits, tile_.programmed_scaled.middleRows(local_row, group.size), y);
      y *= float(std::ldexp(1.0, -kConductanceFractionBits));
    } else {
      scratch.digits_double = digits.cast<double>();
      scratch.y_exact.noalias() = scratch.digits_double * tile_.programmed.middleRows(local_row, group.size);
      y = scratch.y_exact.cast<float>();
    }
  };
  const DeviceConfig& device = hw_.device;
  bool separate_ideal = false;
  if (tile_.programmed_scaled.size() > 0 || tile_.programmed.size() > 0) {
    // With bit-line effects bitline_sums computes y from the cells (below): no GEMM for it here.
    if (!device.bitline_effects()) programmed_sums();
    ideal_sums();
    separate_ideal = true;
  } else {
    integer_gemm(digits, tile_.actual.middleRows(local_row, group.size), y);
  }
  if (device.bitline_effects()) {
    // y per physical bit line from the cells, with the wire's IR drop (docs/numerics.md section 7).
    if (!separate_ideal) {
      y_ideal = y;  // ideal devices: the linear sum over the target levels
      separate_ideal = true;
    }
    const int segments_after = hw_.macro.rows - local_row - group.size;
    bitline_sums(digits, tile_.sides.middleRows(local_row, group.size), hw_.macro.signals_per_pair() == 1,
                 device.wire_resistance, segments_after, y,
                 device.read_noise_current_sigma > 0 ? &scratch.current : nullptr);
  }
  if (separate_ideal && histograms_ && noisy_read_) scratch.y_programmed = y;
  if (!separate_ideal && noisy_read_) {
    y_ideal = y;
    separate_ideal = true;
  }
  if (noisy_read_) {
    const CounterRng rng(
        seed_, {uint64_t(RngTag::kReadNoise), layer_id_, uint64_t(step.group), uint64_t(step.phase + job.pass * hw_.macro.phases())});
    const uint64_t base = noise_base(job, first);
    const uint64_t stride = noise_stride(job);
    const bool by_current = read_noise_.current_sigma > 0;
    for (int c = 0; c < y.cols(); ++c)
      read_noise_.apply(y.col(c).data(), count, rng, base + uint64_t(c), stride,
                        by_current ? scratch.current.col(c).data() : nullptr);
  }
  return separate_ideal;
}

void MacroNumerics::integer_bitlines(const Step& step, const StepDigits& step_digits, int count,
                                     bool as_float) const {
  if (!packed_levels_.empty()) {
    byte_gemm(step_digits.packed, 0, count, packed_levels_[std::size_t(step.local_group)], scratch.sums);
    if (as_float) scratch.y = scratch.sums.cast<float>();
  } else {
    const RowGroup& group = mapping_.groups[std::size_t(step.group)];
    integer_gemm(step_digits.values, tile_.actual.middleRows(group.begin - row_tile_->row_begin, group.size),
                 scratch.y);
    scratch.sums = scratch.y.cast<int32_t>();
  }
}

void MacroNumerics::accumulate(double* registers, int count, double scale, const double* value,
                               const double* minus, int64_t& saturations) const {
  // Plain loops (vectorised): the same operations in the same order as the formula.
  if (minus) {
    for (int i = 0; i < count; ++i) registers[i] += (value[i] - minus[i]) * scale;
  } else {
    for (int i = 0; i < count; ++i) registers[i] += value[i] * scale;
  }
  if (saturation_ > 0) {
    const double lo = -saturation_, hi = saturation_ - 1.0;
    int64_t clamped = 0;
    for (int i = 0; i < count; ++i) {
      const double r = registers[i];
      clamped += (r < lo) | (r > hi);
      registers[i] = std::min(std::max(r, lo), hi);
    }
    saturations += clamped;
  }
}

void MacroNumerics::convert_step(const Step& step, const MvmJob& job, int first, int count,
                                 const SliceOutput& out, InputDigits& digit_cache, StepProbe* probe) const {
  const MacroConfig& m = hw_.macro;
  ConversionStats& counts = *out.counts;
  const int slices = m.slices();
  const int pair_signals = m.signals_per_pair();
  const CounterRng thermal(
      seed_, {uint64_t(RngTag::kAdcThermal), layer_id_, uint64_t(step.group), uint64_t(step.phase + job.pass * hw_.macro.phases())});
  const RowGroup& group = mapping_.groups[std::size_t(step.group)];
  const bool bytes = !packed_levels_.empty();
  const StepDigits& digits = digit_cache.get(job, group, step.group, step.phase, m.dac_bits, first, count,
                                             DigitForms{!(integer_sums_ && bytes), bytes});
  bool separate_ideal = false;
  if (integer_sums_) {
    integer_bitlines(step, digits, count, probe != nullptr);
  } else {
    separate_ideal = bitlines(step, job, first, digits);
  }
  const Eigen::MatrixXf& y = scratch.y;
  const Eigen::MatrixXf& ideal = separate_ideal ? scratch.y_ideal : y;
  // Every ADC input's value over the slice's vectors (column c of `values` for input c), with its
  // statistics, in long loops over the whole slice. Integer partial sums instead go through the
  // converter's table (bit-identical, faster) column by column, and are only tallied (fold()).
  const int64_t n = int64_t(count) * signals_;
  const bool fused = pair_signals == 1 && integer_sums_ && saturation_ == 0 && !probe;
  std::vector<double>& values = scratch.values;
  if (!integer_sums_) {
    values.resize(std::size_t(n));
    if (histograms_) counts.histogram.add(y.data(), n);
    if (adc_.has_thermal_noise()) {
      const uint64_t base = noise_base(job, first);
      const uint64_t stride = noise_stride(job);
      for (int c = 0; c < signals_; ++c) {
        adc_.convert(y.col(c).data(), values.data() + int64_t(c) * count, count, counts.adc, thermal,
                     base + uint64_t(c), stride);
      }
    } else {
      adc_.convert(y.data(), values.data(), n, counts.adc, thermal, 0, 0);
    }
    out.error->ideal.add(values.data(), ideal.data(), n);
    // With programmed devices or bit-line effects: the error that is neither from programming nor
    // from the IR drop (docs/stats.md residual_error).
    const bool programmed_sums = tile_.ideal.size() > 0 || hw_.device.bitline_effects();
    if (histograms_ && programmed_sums)
      out.error->programmed.add(values.data(), (noisy_read_ ? scratch.y_programmed : y).data(), n);
    // With read noise: the converter's input against the sums before it (docs/stats.md read_error).
    if (histograms_ && noisy_read_)
      out.error->read.add(y.data(), (programmed_sums ? scratch.y_programmed : scratch.y_ideal).data(), n);
  } else if (!fused) {
    values.resize(std::size_t(n));
    for (int c = 0; c < signals_; ++c)
      counts.tally.add(scratch.sums.col(c).data(), adc_.table_value(), values.data() + int64_t(c) * count,
                       count);
  }
  // Shift-add: result of slice s in phase p times 2^(p dac_bits) 2^(s cell_bits) (exact powers of
  // two), pointers hoisted out of the loop over the tile's outputs.
  const double phase_scale = std::ldexp(1.0, step.phase * m.dac_bits);
  double* const registers = out.registers->data() + first;
  const Eigen::Index register_stride = out.registers->rows();
  const double* const value = values.data();
  const int outputs = col_tile_->col_count;
  if (fused) {
    // Table lookup, tally and shift-add of an output's slices in one pass (same arithmetic, same
    // order: slice 0 first).
    std::vector<double>& scales = scratch.scales;
    scales.resize(std::size_t(slices));
    for (int s = 0; s < slices; ++s) scales[std::size_t(s)] = phase_scale * slice_scales_[std::size_t(s)];
    for (int output = 0; output < outputs; ++output) {
      counts.tally.add_accumulate(scratch.sums.data() + int64_t(output) * slices * count, count, slices,
                                  adc_.table_value(), registers + output * register_stride, scales.data(),
                                  count);
    }
  } else {
    for (int output = 0; output < outputs; ++output) {
      double* const reg = registers + output * register_stride;
      for (int s = 0; s < slices; ++s) {
        const double scale = phase_scale * slice_scales_[std::size_t(s)];
        const int pair = output * slices + s;
        if (pair_signals == 1) {
          accumulate(reg, count, scale, value + int64_t(pair) * count, nullptr, counts.saturations);
        } else {
          accumulate(reg, count, scale, value + int64_t(2 * pair) * count,
                     value + int64_t(2 * pair + 1) * count, counts.saturations);
        }
      }
    }
  }
  const int64_t ops = int64_t(outputs) * slices * pair_signals * count;
  const int64_t bitlines_used = int64_t(col_tile_->col_count) * m.bitlines_per_output();
  counts.events.dac_row_drives += int64_t(group.size) * count;
  counts.events.cell_reads += int64_t(group.size) * bitlines_used * count;
  count_nonzero_drives(group, digits, counts.events);
  counts.events.shift_add_ops += ops;
  counts.events.adc_conversions += n;
  if (probe) record_probe(job, thermal, y, values.data(), *out.registers, *probe);
}

void MacroNumerics::count_nonzero_drives(const RowGroup& group, const StepDigits& digits,
                                         EnergyEvents& events) const {
  const int32_t* conducting = tile_.conducting.data() + (group.begin - row_tile_->row_begin);
  int64_t drives = 0, reads = 0;
  for (int r = 0; r < group.size; ++r) {
    const int64_t nonzero = digits.nonzero[std::size_t(r)];
    drives += nonzero;
    reads += nonzero * conducting[r];
  }
  events.dac_nonzero_drives += drives;
  events.conducting_cell_reads += reads;
}

void MacroNumerics::record_probe(const MvmJob& job, const CounterRng& thermal, const Eigen::MatrixXf& y,
                                 const double* values, const Eigen::MatrixXd& registers,
                                 StepProbe& probe) const {
  // Vector 0 is row 0 of the slice; the thermal draw is the conversion's own (same counter).
  const uint64_t base = noise_base(job, 0);
  const int count = int(y.rows());
  probe.analog.resize(std::size_t(signals_));
  probe.codes.resize(std::size_t(signals_));
  probe.values.resize(std::size_t(signals_));
  for (int c = 0; c < signals_; ++c) {
    const double z = adc_.has_thermal_noise() ? thermal.normal(base + uint64_t(c)) : 0.0;
    probe.analog[std::size_t(c)] = y(0, c);
    probe.codes[std::size_t(c)] = adc_.code_of(y(0, c), z);
    probe.values[std::size_t(c)] = values[int64_t(c) * count];
  }
  probe.registers.resize(std::size_t(col_tile_->col_count));
  for (int o = 0; o < col_tile_->col_count; ++o) probe.registers[std::size_t(o)] = registers(0, o);
}

}  // namespace cimsim
