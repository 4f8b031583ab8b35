#include "adc_bank.h"

namespace cimsim {

AdcBank::AdcBank(sc_core::sc_module_name name, const AdcBankConfig& config, const TraceWindow& window)
    : sc_core::sc_module(name),
      config_(config),
      window_(window),
      busy_("adc_busy", window),
      adc0_bitline_("adc0_bitline", window),
      adc0_code_("adc0_code", window) {
  SC_HAS_PROCESS(AdcBank);
  SC_THREAD(run);
}

void AdcBank::trace(sc_core::sc_trace_file* file, const std::string& prefix) const {
  busy_.trace(file, prefix + "adc_busy");
  adc0_bitline_.trace(file, prefix + "adc0_bitline");
  adc0_code_.trace(file, prefix + "adc0_code");
}

void AdcBank::show() { busy_.show(); }

void AdcBank::convert(const StepToken& token) {
  const int sequence = config_.conversions_in_sequence;
  const sc_core::sc_time conversion = config_.period * double(config_.cycles_per_conversion);
  if (!token.probe || !window_.overlaps(sc_core::sc_time_stamp(), sequence * config_.cycles_per_conversion)) {
    wait(config_.period * double(sequence * config_.cycles_per_conversion));
    return;
  }
  // Inside the trace window: one wake-up per conversion, so the multiplexer position and the
  // codes show. ADC 0 converts inputs 0 .. sequence - 1.
  for (int j = 0; j < sequence; ++j) {
    adc0_bitline_.set(j * config_.bitline_stride);
    wait(conversion);
    adc0_code_.set(token.probe->codes[std::size_t(j)]);
  }
}

void AdcBank::run() {
  while (true) {
    const StepToken token = from_array->read();  // the sample-and-hold takes the step
    busy_.set(true);
    convert(token);
    busy_.set(false);
    to_shift_add->write(token);
  }
}

}  // namespace cimsim
