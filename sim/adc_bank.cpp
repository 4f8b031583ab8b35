#include "adc_bank.h"

#include <algorithm>
#include <cmath>

namespace cimsim {

AdcBank::AdcBank(sc_core::sc_module_name name, MacroState& state, Crossbar& crossbar, ShiftAdd& shift_add)
    : sc_core::sc_module(name), state_(state), crossbar_(crossbar), shift_add_(shift_add) {
  integer_sums_ =
      state.tile.ideal.size() == 0 && state.hw->device.read_noise_sigma == 0 && state.adc->has_table();
  if (integer_sums_) {
    state.stats.tally.init(state.adc->table_lo(),
                           state.adc->table_lo() + int32_t(state.adc->table_size()) - 1);
  }
  SC_HAS_PROCESS(AdcBank);
  SC_THREAD(run);
}

namespace {
// Working memory of the thread converting a slice.
struct SliceScratch {
  Crossbar::Scratch crossbar;
  std::vector<double> values;  // vectors x ADC inputs, column-major
};
thread_local SliceScratch scratch;
}  // namespace

void AdcBank::convert_slice(const SliceTarget& target) {
  for (const Step& step : steps_) convert(step, target);
}

void AdcBank::convert(const Step& step, const SliceTarget& target) {
  const MacroConfig& m = state_.hw->macro;
  const MvmJob& job = *target.job;
  ConversionStats& counts = *target.counts;
  ErrorAccumulator& error = *target.error;
  const int slices = m.slices();
  const int pair_signals = m.signals_per_pair();
  const CounterRng thermal(state_.seed, {uint64_t(RngTag::kAdcThermal), state_.layer_id, uint64_t(step.group),
                                         uint64_t(step.phase)});
  const AdcTransfer& adc = *state_.adc;
  const int first = target.slice * kSliceVectors;
  const int count = std::min(kSliceVectors, job.batch - first);
  const RowGroup& group = state_.mapping->groups[std::size_t(step.group)];
  const StepDigits& digits = target.digits->get(job, group, step.group, step.phase, m.dac_bits, first, count,
                                                !state_.ideal_packed.empty());
  const bool separate_ideal = crossbar_.compute(step, job, first, digits, scratch.crossbar);
  const Eigen::MatrixXf& y = scratch.crossbar.y;
  const Eigen::MatrixXf& ideal = separate_ideal ? scratch.crossbar.y_ideal : y;
  if (first == 0 && state_.trace) {
    // The codes ADC 0 produces for vector 0, with the same thermal draw as the conversion.
    const uint64_t base = state_.noise_base(job, 0);
    first_codes_.resize(std::size_t(state_.conversions_in_sequence()));
    for (std::size_t j = 0; j < first_codes_.size(); ++j) {
      const double z = adc.has_thermal_noise() ? thermal.normal(base + j) : 0.0;
      first_codes_[j] = adc.code_of(y(0, Eigen::Index(j)), z);
    }
  }
  // Every ADC input's value over the slice's vectors (column c of `values` for input c), with its
  // statistics, in long loops over the whole slice. Integer partial sums instead go through the
  // converter's table (bit-identical, faster) column by column, and are only tallied (fold()).
  const int signals = state_.signals();
  const int64_t n = int64_t(count) * signals;
  std::vector<double>& values = scratch.values;
  if (!integer_sums_) {
    values.resize(std::size_t(n));
    if (state_.histograms) counts.histogram.add(y.data(), n);
    if (adc.has_thermal_noise()) {
      const uint64_t noise_base = state_.noise_base(job, first);
      const uint64_t noise_stride = state_.noise_stride(job);
      for (int c = 0; c < signals; ++c) {
        adc.convert(y.col(c).data(), values.data() + int64_t(c) * count, count, counts.adc, thermal,
                    noise_base + uint64_t(c), noise_stride);
      }
    } else {
      adc.convert(y.data(), values.data(), n, counts.adc, thermal, 0, 0);
    }
    error.add(values.data(), ideal.data(), n);
  } else if (pair_signals == 2 || shift_add_.saturates()) {
    values.resize(std::size_t(n));
    for (int c = 0; c < signals; ++c)
      counts.tally.add(y.col(c).data(), adc.table_value(), values.data() + int64_t(c) * count, count);
  }
  auto value_of = [&](int c) { return values.data() + int64_t(c) * count; };
  auto registers = [&](int output) { return target.partial->col(output).data() + first; };
  int64_t ops = 0;
  for (int output = 0; output < state_.col_tile->col_count; ++output) {
    for (int s = 0; s < slices; ++s) {
      const double scale = std::ldexp(1.0, step.phase * m.dac_bits + s * m.cell_bits);
      const int pair = output * slices + s;
      if (pair_signals == 1 && integer_sums_ && !shift_add_.saturates()) {
        // Fused: table lookup, tally and shift-add in one pass (same arithmetic, same order).
        counts.tally.add_accumulate(y.col(pair).data(), adc.table_value(), registers(output), scale, count);
        ops += count;
      } else if (pair_signals == 1) {
        shift_add_.accumulate(registers(output), count, scale, value_of(pair), nullptr);
        ops += count;
      } else {
        shift_add_.accumulate(registers(output), count, scale, value_of(2 * pair), value_of(2 * pair + 1));
        ops += 2 * int64_t(count);
      }
    }
  }
  counts.events.shift_add_ops += ops;
  counts.events.adc_conversions += n;
}

void AdcBank::wait_conversions() {
  const int sequence = state_.conversions_in_sequence();
  const int64_t per_conversion = state_.hw->conversion_cycles();
  const sc_core::sc_time begin = sc_core::sc_time_stamp();
  if (!state_.trace || !state_.window.overlaps(begin, sequence * per_conversion)) {
    wait(state_.cycles(sequence * per_conversion));
    return;
  }
  // Inside the trace window: one wake-up per conversion so the mux position and codes show.
  MacroTraceSignals& trace = *state_.trace;
  const int bitline_stride = state_.hw->macro.subtraction == Subtraction::kAnalog ? 2 : 1;
  for (int j = 0; j < sequence; ++j) {
    if (state_.window.contains(sc_core::sc_time_stamp())) {
      trace.adc_busy.write(true);
      trace.adc0_bitline.write(j * bitline_stride);
    }
    wait(state_.cycles(per_conversion));
    if (state_.window.contains(sc_core::sc_time_stamp())) {
      trace.adc0_code.write(first_codes_[std::size_t(j)]);
    }
  }
}

void AdcBank::run() {
  while (true) {
    const Step step = from_array->read();  // the sample-and-hold takes the step
    state_.shadow_busy = true;
    if (step.index == 0) steps_.clear();
    steps_.push_back(step);
    if (!deferred_) {
      const MvmJob& job = *state_.job;
      const int slices = slices_of(job.batch);
      if (step.index == 0) inline_error_.assign(std::size_t(slices), ErrorAccumulator{});
      for (int slice = 0; slice < slices; ++slice) {
        convert(step, SliceTarget{&job, slice, &state_.partial, &state_.stats,
                                  &inline_error_[std::size_t(slice)], &inline_digits_});
      }
      if (step.last) {
        for (const ErrorAccumulator& e : inline_error_) error_.merge(e);
      }
    }
    wait_conversions();
    state_.shadow_busy = false;
    if (state_.trace && state_.window.contains(sc_core::sc_time_stamp())) state_.trace->adc_busy.write(false);
    if (step.last) shift_add_.last_conversion_done();
  }
}

}  // namespace cimsim
