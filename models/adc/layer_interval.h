// Where a CIM layer's ADC interval comes from, in one place (docs/numerics.md section 8): the
// hardware config's adc.layers.NAME (the file's entry, replaced by --calib's, replaced by an
// explicit --set), else the bundle layer's own `adc`, else the config's adc.interval.
#pragma once

#include <string>
#include <vector>

#include "adc/calibration_file.h"
#include "config/hw_config.h"

namespace cimsim {

// The interval of layer `name` on `hw`, `full` resolved to the converter's range; `bundle_adc` is
// the bundle layer's interval if it has one (null for cimsim mvm, or a layer without one).
AdcInterval layer_interval(const HwConfig& hw, const std::string& name,
                           const AdcInterval* bundle_adc = nullptr);

// The config overrides that put a calibration's intervals (if any) and the command line's --set
// on the hardware file, in the order that lets an explicit --set adc.layers.NAME win.
std::vector<std::string> interval_overrides(const CalibrationFile* calib,
                                            const std::vector<std::string>& set);

}  // namespace cimsim
