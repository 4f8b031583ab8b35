#include "macro.h"

namespace cimsim {

Macro::Macro(sc_core::sc_module_name name, const MacroModules& config, const TraceWindow& window)
    : sc_core::sc_module(name),
      jobs_("jobs", 1),
      dac_to_array_("dac_to_array", 1),
      array_to_adc_("sample_and_hold", 1),
      adc_to_shift_add_("adc_to_shift_add", 1),
      done_("done", 1),
      dac_("dac", config.dac),
      crossbar_("crossbar", config.crossbar, window),
      adc_bank_("adc_bank", config.adc_bank, window),
      shift_add_("shift_add", config.shift_add, window) {
  dac_.jobs(jobs_);
  dac_.to_array(dac_to_array_);
  crossbar_.from_dac(dac_to_array_);
  crossbar_.to_adc(array_to_adc_);
  adc_bank_.from_array(array_to_adc_);
  adc_bank_.to_shift_add(adc_to_shift_add_);
  shift_add_.from_adc(adc_to_shift_add_);
  shift_add_.done(done_);
}

void Macro::start(const MvmJob& job, const std::vector<StepProbe>* probe) {
  jobs_.write(JobToken{job.serial, probe});
}

void Macro::wait_done(const MvmJob& job) {
  const uint64_t serial = done_.read();
  if (serial != job.serial)
    SC_REPORT_ERROR("cimsim/macro", "a macro finished another job than the one waited for");
}

void Macro::trace(TraceSink& sink, const std::string& group) const {
  const std::string prefix = std::string(name()) + ".";
  sink.begin_group(group);
  crossbar_.trace(sink, prefix);
  adc_bank_.trace(sink, prefix);
  shift_add_.trace(sink, prefix);
}

}  // namespace cimsim
