// The simulator's measured error fed back to stage 2 (docs/training.md, "Feedback of measured
// statistics"): from the stats JSON of `cimsim run --stats` (docs/stats.md), what each CIM layer
// injects. Two rules:
//   cells (default): each cell programmed to level L gets L + mean_L + std_L z (z a fresh standard
//     normal per cell and forward), mean_L and std_L the layer's measured `device_levels` (none
//     without programmed devices); a level with fewer than kMinLevelCells cells in the layer takes
//     the level's moments pooled over every layer of the file, or, with no cells at that level in
//     any layer, those of the nearest level that has some (the lower of two as near); plus
//     Gaussian noise on every partial sum of std sqrt(read^2 + (thermal_sigma_lsb step)^2), read
//     the layer's `read_error.std` (0 without read noise): the noise that stage 2 does not model
//     itself. Quantization, clipping, the converter's static errors and the IR drop it models, so
//     they are not fed back.
//   partial_sums: Gaussian noise on every partial sum of std sqrt(max(0, e^2 - step^2 / 12)), e the
//     layer's `error.std` (device and converter error together), no per-cell perturbation.
// step = (hi - lo) / (2^adc_bits - 1) of the interval and adc_bits the measuring run used (0 for an
// ideal converter); partial_sums takes the uniform quantization error, step^2 / 12, out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cimsim::train {

// A layer's own per-level error statistics need this many cells; fewer take the pooled ones.
constexpr int64_t kMinLevelCells = 100;

struct MeasuredNoise {
  double partial_sum_sigma = 0;            // MAC units
  std::vector<double> level_mean, level_std;  // per target level 0 .. g_max; empty: no cell perturbation
};

// How messages name the statistics file and the two feedback rules: the command line's flag and
// experiment key, or a caller's own (cimsim.torch: its arguments).
struct FeedbackWording {
  std::string file = "--hw-stats";                                                // "<file> <path>: ..."
  std::string cells = "cim.feedback: cells";                                      // names the rule "cells"
  std::string partial_sums = "set cim.feedback: partial_sums in the experiment";  // how to choose the other
};

// Layer name -> what it injects under `feedback` ("cells" or "partial_sums"). `max_level` is the
// training hardware's largest cell level, which the measured levels must match. InputError naming
// the file and the field for a missing or malformed file, or one without the per-level statistics
// "cells" needs.
std::map<std::string, MeasuredNoise> measured_noise_from_stats(const std::string& path,
                                                               const std::string& feedback, int max_level,
                                                               const FeedbackWording& wording = {});

}  // namespace cimsim::train
