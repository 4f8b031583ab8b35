// Each CIM layer's ADC interval chosen from the partial sums of a model's run over calibration
// images, as `cimsim calibrate` and the Python module's cimsim.calibrate both do it
// (docs/calibration.md): one layer after the other in one simulation (calibrate_network).
#pragma once

#include <cstdint>
#include <string>

#include "adc/calibration_file.h"
#include "bundle/model_bundle.h"
#include "config/hw_config.h"
#include "data/dataset.h"

namespace cimsim::cli {

struct CalibrationSetup {
  std::string method = "mse";  // minmax, percentile or mse
  double percentile = 99.99;   // percent of the partial sums kept (method percentile)
  bool zero_level = false;     // move each interval by at most half a step so that 0 is a level
  uint64_t seed = 1;
  int batch = 64;
  std::string hw, model, data;  // what the file records as its inputs
};

// `hw` as loaded for calibration: its converters not ideal (the partial sums reach one).
// InputError when the model has no CIM layer or an interval cannot be chosen.
CalibrationFile calibrate_model(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                                const CalibrationSetup& setup);

// Writes the calibration file's text (calibration_yaml) to `staged` (an OutputFiles temporary);
// InputError naming `path` when it cannot.
void write_calibration(const std::string& staged, const std::string& path, const CalibrationFile& file);

// The override that load_hw_config needs for calibration: the converters not ideal.
inline constexpr const char* kCalibrationOverride = "adc.ideal=false";

}  // namespace cimsim::cli
