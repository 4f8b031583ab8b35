#include "adc/layer_interval.h"

namespace cimsim {

AdcInterval layer_interval(const HwConfig& hw, const std::string& name, const AdcInterval* bundle_adc) {
  if (!hw.adc.layers.count(name) && bundle_adc) return bundle_adc->full ? hw.full_interval() : *bundle_adc;
  return hw.interval_for(name);
}

std::vector<std::string> interval_overrides(const CalibrationFile* calib,
                                            const std::vector<std::string>& set) {
  std::vector<std::string> out;
  if (calib) out = calibration_overrides(*calib);
  out.insert(out.end(), set.begin(), set.end());
  return out;
}

}  // namespace cimsim
