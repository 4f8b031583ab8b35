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

void AdcBank::prepare_slices() {
  const std::size_t slices = std::size_t(slices_of(state_.job->batch));
  if (slice_error_.size() < slices) slice_error_.resize(slices);
}

ErrorAccumulator AdcBank::slice_errors() const {
  ErrorAccumulator total;
  for (const ErrorAccumulator& e : slice_error_) total.merge(e);
  return total;
}

void AdcBank::convert(const Step& step, int slice, ConversionStats& counts) {
  const MacroConfig& m = state_.hw->macro;
  const MvmJob& job = *state_.job;
  const int slices = m.slices();
  const int pair_signals = m.signals_per_pair();
  const CounterRng thermal(state_.seed, {uint64_t(RngTag::kAdcThermal), state_.layer_id, uint64_t(step.group),
                                         uint64_t(step.phase)});
  const AdcTransfer& adc = *state_.adc;
  ErrorAccumulator& error = slice_error_[std::size_t(slice)];
  const int first = slice * kSliceVectors;
  const int count = std::min(kSliceVectors, job.batch - first);
  const bool separate_ideal = crossbar_.compute(step, first, count, scratch.crossbar);
  const Eigen::MatrixXf& y = scratch.crossbar.y;
  const Eigen::MatrixXf& ideal = separate_ideal ? scratch.crossbar.y_ideal : y;
  if (first == 0 && state_.trace) {
    // The codes ADC 0 produces for vector 0, with the same thermal draw as the conversion.
    const uint64_t base = state_.noise_base(0);
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
      const uint64_t noise_base = state_.noise_base(first);
      const uint64_t noise_stride = state_.noise_stride();
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
  int64_t ops = 0;
  for (int output = 0; output < state_.col_tile->col_count; ++output) {
    for (int s = 0; s < slices; ++s) {
      const double scale = std::ldexp(1.0, step.phase * m.dac_bits + s * m.cell_bits);
      const int pair = output * slices + s;
      if (pair_signals == 1 && integer_sums_ && !shift_add_.saturates()) {
        // Fused: table lookup, tally and shift-add in one pass (same arithmetic, same order).
        counts.tally.add_accumulate(y.col(pair).data(), adc.table_value(),
                                    shift_add_.registers(output, first), scale, count);
        ops += count;
      } else if (pair_signals == 1) {
        shift_add_.accumulate(output, first, count, scale, value_of(pair), nullptr);
        ops += count;
      } else {
        shift_add_.accumulate(output, first, count, scale, value_of(2 * pair), value_of(2 * pair + 1));
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

void AdcBank::run_deferred(int slice, ConversionStats& counts) {
  for (const Step& step : pending_) convert(step, slice, counts);
}

void AdcBank::run() {
  while (true) {
    const Step step = from_array->read();  // the sample-and-hold takes the step
    state_.shadow_busy = true;
    prepare_slices();
    if (deferred_) {
      pending_.push_back(step);  // the layer engine prepares the input digits before converting
    } else {
      for (int slice = 0; slice < slices_of(state_.job->batch); ++slice) convert(step, slice, state_.stats);
    }
    wait_conversions();
    state_.shadow_busy = false;
    if (state_.trace && state_.window.contains(sc_core::sc_time_stamp())) state_.trace->adc_busy.write(false);
    if (step.last) shift_add_.last_conversion_done();
  }
}

}  // namespace cimsim
