// The Python types that both extension modules take: cimsim._core registers them (HwConfig,
// Calibration) and cimsim._torch receives them as arguments (pybind11 finds a type another module
// registered), so they live outside either module's anonymous namespace.
#pragma once

#include <string>
#include <vector>

#include "adc/calibration_file.h"
#include "config/hw_config.h"

namespace cimsim::python {

// A hardware config with what it was loaded from, so that a calibration's intervals can be laid
// over the same file and overrides.
struct Hardware {
  std::string path;
  std::vector<std::string> overrides;
  HwConfig config;
};

struct Calibration {
  std::string path;  // the file it was read from, or "" when calibrate() made it
  CalibrationFile file;
  // How messages name it.
  std::string source() const { return path.empty() ? "the calibration" : path; }
};

}  // namespace cimsim::python
