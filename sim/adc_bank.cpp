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

void AdcBank::convert_signal(const float* y, const float* ideal, double* value, int count,
                             const CounterRng& thermal, uint64_t noise_base, uint64_t noise_stride) {
  ConversionStats& stats = state_.stats;
  stats.histogram.add(y, count);
  state_.adc->convert(y, value, count, stats.adc, thermal, noise_base, noise_stride);
  stats.error.add(value, ideal, count);
}

void AdcBank::convert_integer_signal(const float* y, double* value, int count) {
  state_.stats.tally.add(y, state_.adc->table_value(), value, count);
}

void AdcBank::convert(const Step& step) {
  const MacroConfig& m = state_.hw->macro;
  const MvmJob& job = *state_.job;
  const int slices = m.slices();
  const int pair_signals = m.signals_per_pair();
  const CounterRng thermal(state_.seed, {uint64_t(RngTag::kAdcThermal), state_.layer_id, uint64_t(step.group),
                                         uint64_t(step.phase)});
  ConversionStats& stats = state_.stats;
  for (int first = 0; first < job.batch; first += kSliceVectors) {
    const int count = std::min(kSliceVectors, job.batch - first);
    const bool separate_ideal = crossbar_.compute(step, first, count, y_, y_ideal_);
    const Eigen::MatrixXf& ideal = separate_ideal ? y_ideal_ : y_;
    if (first == 0 && state_.trace) {
      // The codes ADC 0 produces for vector 0, with the same thermal draw as the conversion.
      const uint64_t base = state_.noise_base(0);
      first_codes_.resize(std::size_t(state_.conversions_in_sequence()));
      for (std::size_t j = 0; j < first_codes_.size(); ++j) {
        const double z = state_.adc->has_thermal_noise() ? thermal.normal(base + j) : 0.0;
        first_codes_[j] = state_.adc->code_of(y_(0, Eigen::Index(j)), z);
      }
    }
    value_.resize(std::size_t(count));
    minus_.resize(std::size_t(count));
    const uint64_t noise_base = state_.noise_base(first);
    const uint64_t noise_stride = state_.noise_stride();
    auto convert_one = [&](int c, double* out) {
      if (integer_sums_) {
        convert_integer_signal(y_.col(c).data(), out, count);
      } else {
        convert_signal(y_.col(c).data(), ideal.col(c).data(), out, count, thermal, noise_base + uint64_t(c),
                       noise_stride);
      }
    };
    for (int output = 0; output < state_.col_tile->col_count; ++output) {
      for (int s = 0; s < slices; ++s) {
        const double scale = std::ldexp(1.0, step.phase * m.dac_bits + s * m.cell_bits);
        const int pair = output * slices + s;
        if (pair_signals == 1 && integer_sums_ && !shift_add_.saturates()) {
          // Fused: table lookup, tally and shift-add in one pass (same arithmetic, same order).
          state_.stats.tally.add_accumulate(y_.col(pair).data(), state_.adc->table_value(),
                                            shift_add_.registers(output, first), scale, count);
          shift_add_.count_ops(count);
        } else if (pair_signals == 1) {
          convert_one(pair, value_.data());
          shift_add_.accumulate(output, first, count, scale, value_.data(), nullptr);
        } else {
          convert_one(2 * pair, value_.data());
          convert_one(2 * pair + 1, minus_.data());
          shift_add_.accumulate(output, first, count, scale, value_.data(), minus_.data());
        }
      }
    }
  }
  stats.events.adc_conversions += int64_t(state_.signals()) * job.batch;
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

void AdcBank::run_deferred() {
  for (const Step& step : pending_) convert(step);
  pending_.clear();
}

void AdcBank::run() {
  while (true) {
    const Step step = from_array->read();  // the sample-and-hold takes the step
    state_.shadow_busy = true;
    if (deferred_) {
      // Make the step's shared input digits now, on the SystemC thread.
      const RowGroup& group = state_.mapping->groups[std::size_t(step.group)];
      state_.digits->get(*state_.job, group, step.group, step.phase, state_.hw->macro.dac_bits);
      pending_.push_back(step);
    } else {
      convert(step);
    }
    wait_conversions();
    state_.shadow_busy = false;
    if (state_.trace && state_.window.contains(sc_core::sc_time_stamp())) state_.trace->adc_busy.write(false);
    if (step.last) shift_add_.last_conversion_done();
  }
}

}  // namespace cimsim
