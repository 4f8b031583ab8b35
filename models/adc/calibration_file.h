// The calibration file `cimsim calibrate` writes and `cimsim run --calib` reads (docs/calibration.md):
// the chosen ADC interval of every CIM layer of a model on a hardware config, with what produced it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "adc/adc_calibration.h"
#include "config/hw_config.h"

namespace cimsim {

struct ModelBundle;

struct LayerCalibration {
  std::string name;
  double lo = 0, hi = 0;               // the chosen interval, MAC units
  double clip_low = 0, clip_high = 0;  // fractions of the calibration partial sums it clips
  double mse = 0, full_range_mse = 0;  // ideal-quantizer error with it and with the full range
};

struct CalibrationFile {
  CalibrationMethod method = CalibrationMethod::kMse;
  double percentile = 0;  // percent kept (method percentile)
  bool zero_level = false;  // intervals moved so that 0 is a level (cimsim calibrate --zero-level)
  int adc_bits = 0;       // the converters it was chosen for
  int64_t images = 0;     // calibration images
  std::string hw, model, data;
  std::vector<LayerCalibration> layers;
};

// YAML text with every number round-tripping exactly (17 significant digits).
std::string calibration_yaml(const CalibrationFile& file);
// Reads and checks a calibration file; InputError naming the file, line and fix on any problem.
CalibrationFile load_calibration(const std::string& path);
// The hardware config overrides that apply it: adc.layers.NAME={lo: .., hi: ..} per layer.
std::vector<std::string> calibration_overrides(const CalibrationFile& file);

// Checks that a calibration file fits the hardware (same adc_bits) and names only CIM layers of
// the bundle; InputError naming `path` otherwise.
void check_calibration_applies(const CalibrationFile& calib, const std::string& path, const HwConfig& hw,
                               const ModelBundle& bundle);
// The intervals by layer name (full = false).
std::map<std::string, AdcInterval> calibration_intervals(const CalibrationFile& file);

}  // namespace cimsim
