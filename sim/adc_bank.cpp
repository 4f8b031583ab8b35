#include "adc_bank.h"

#include <stdexcept>

namespace cimsim {
namespace {

std::string adc_signal(int adc, const char* what) { return "adc" + std::to_string(adc) + "_" + what; }

}  // namespace

AdcBank::TracedAdc::TracedAdc(int adc, const TraceWindow& window, bool is_sar)
    : index(adc),
      bitline(adc_signal(adc, "bitline").c_str(), window, -1),
      analog(adc_signal(adc, "analog").c_str(), window),
      sar(is_sar ? std::make_unique<TracedValue<int>>(adc_signal(adc, "sar").c_str(), window) : nullptr),
      code(adc_signal(adc, "code").c_str(), window),
      value(adc_signal(adc, "value").c_str(), window),
      valid(adc_signal(adc, "valid").c_str(), window) {}

AdcBank::AdcBank(sc_core::sc_module_name name, const AdcBankConfig& config, const TraceWindow& window)
    : sc_core::sc_module(name),
      config_(config),
      window_(window),
      busy_("adc_busy", window),
      step_("adc_step", window, -1) {
  if (config.conversions_in_sequence() < 1)
    throw std::invalid_argument("AdcBank: signals_per_adc and signals must be at least 1");
  for (int a = 0; a < config.adcs; ++a)
    if (window.traces_adc(a)) traced_.push_back(std::make_unique<TracedAdc>(a, window, config.sar));
  SC_HAS_PROCESS(AdcBank);
  SC_THREAD(run);
}

void AdcBank::trace(TraceSink& sink, const std::string& prefix) const {
  busy_.trace(sink, prefix + "adc_busy");
  step_.trace(sink, prefix + "adc_step");
  for (const auto& t : traced_) {
    t->bitline.trace(sink, prefix + adc_signal(t->index, "bitline"));
    t->analog.trace(sink, prefix + adc_signal(t->index, "analog"));
    if (t->sar) t->sar->trace(sink, prefix + adc_signal(t->index, "sar"));
    t->code.trace(sink, prefix + adc_signal(t->index, "code"));
    t->value.trace(sink, prefix + adc_signal(t->index, "value"));
    t->valid.trace(sink, prefix + adc_signal(t->index, "valid"));
  }
}

void AdcBank::convert_traced(const StepProbe& probe) {
  for (int j = 0; j < config_.conversions_in_sequence(); ++j) {
    for (auto& t : traced_) {
      const int input = t->input(j, config_);
      t->bitline.set(input < 0 ? -1 : input * config_.bitline_stride);
      if (input >= 0) t->analog.set(double(probe.analog[std::size_t(input)]));
    }
    for (int64_t k = 0; k < config_.cycles_per_conversion(); ++k) {
      if (config_.sar) {
        // Trial k sets bit adc_bits - 1 - k over the bits already decided (the code's).
        const int bit = config_.adc_bits - 1 - int(k);
        for (auto& t : traced_) {
          const int input = t->input(j, config_);
          if (input < 0) continue;
          const int code = probe.codes[std::size_t(input)];
          t->sar->set(((code >> (bit + 1)) << (bit + 1)) | (1 << bit));
        }
      }
      wait(config_.period);
    }
    for (auto& t : traced_) {
      const int input = t->input(j, config_);
      if (input < 0) continue;
      t->code.set(probe.codes[std::size_t(input)]);
      t->value.set(probe.values[std::size_t(input)]);
      t->valid.fire();
    }
  }
  for (auto& t : traced_) t->bitline.set(-1);
}

void AdcBank::convert(const StepToken& token) {
  const int64_t cycles = config_.conversions_in_sequence() * config_.cycles_per_conversion();
  if (!token.probe || !window_.overlaps(sc_core::sc_time_stamp(), cycles)) {
    wait(config_.period * double(cycles));
    return;
  }
  convert_traced(*token.probe);  // inside the trace window: every cycle shows
}

void AdcBank::run() {
  while (true) {
    const StepToken token = from_array->read();  // the sample-and-hold takes the step
    busy_.set(true);
    step_.set(token.step.index);
    convert(token);
    busy_.set(false);
    step_.set(-1);
    to_shift_add->write(token);
  }
}

}  // namespace cimsim
