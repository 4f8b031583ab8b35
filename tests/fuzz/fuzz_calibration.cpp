// ADC calibration file (adc/calibration_file.h): loaded, then turned into --set overrides and
// per-layer intervals as `cimsim run --calib` does.
#include <cstdint>

#include "adc/calibration_file.h"
#include "core/error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::input_file("calib.yaml", data, size);
  try {
    const cimsim::CalibrationFile calib = cimsim::load_calibration(path);
    (void)cimsim::calibration_overrides(calib);
    (void)cimsim::calibration_intervals(calib);
    (void)cimsim::calibration_yaml(calib);
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
