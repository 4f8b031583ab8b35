// The simulator's measured error fed back to stage 2 (docs/training.md, "Feedback of measured
// statistics"): from the stats JSON of `cimsim run --stats` (docs/stats.md), what each CIM layer
// injects. Two rules:
//   cells (default): each cell programmed to level L gets L + mean_L + std_L z (z a fresh standard
//     normal per cell and forward), mean_L and std_L the layer's measured `device_levels`; plus
//     Gaussian noise on every partial sum of std sqrt(max(0, r^2 - step^2 / 12)), r the layer's
//     `residual_error.std` (the error against the programmed partial sums: read and converter noise,
//     quantization; with bit-line effects also without the IR drop, which stage cim models exactly).
//     Without programmed devices (no device_levels), r is `residual_error.std` when the file has it
//     (bit-line effects), else `error.std`.
//   partial_sums: Gaussian noise on every partial sum of std sqrt(max(0, e^2 - step^2 / 12)), e the
//     layer's `error.std` (device and converter error together), no per-cell perturbation.
// step = (hi - lo) / (2^adc_bits - 1) of the interval and adc_bits the measuring run used (0 for an
// ideal converter): the uniform quantization error, which stage 2 models exactly, taken out.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace cimsim::train {

struct MeasuredNoise {
  double partial_sum_sigma = 0;            // MAC units
  std::vector<double> level_mean, level_std;  // per target level 0 .. g_max; empty: no cell perturbation
};

// Layer name -> what it injects under `feedback` ("cells" or "partial_sums"). `max_level` is the
// training hardware's largest cell level, which the measured levels must match. InputError naming
// the file and the field for a missing or malformed file, or one without the per-level statistics
// "cells" needs.
std::map<std::string, MeasuredNoise> measured_noise_from_stats(const std::string& path, const std::string& feedback,
                                                               int max_level);

}  // namespace cimsim::train
