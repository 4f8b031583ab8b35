#include "hw_stats.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "stats/stats_records.h"

namespace cimsim::train {
namespace {

// Cells of population moments: count, sum of errors, sum of squared errors.
struct LevelMoments {
  double cells = 0, sum = 0, sum_sq = 0;
  void add(const DeviceLevelFigures& f) {
    const double n = double(f.cells);
    cells += n;
    sum += n * f.mean;
    sum_sq += n * (f.std * f.std + f.mean * f.mean);
  }
  double mean() const { return cells > 0 ? sum / cells : 0.0; }
  double std() const { return cells > 0 ? std::sqrt(std::max(0.0, sum_sq / cells - mean() * mean())) : 0.0; }
};

// The pooled moments of level l, or of the nearest level with cells (the lower one of two as near).
const LevelMoments& nearest_measured(const std::vector<LevelMoments>& pooled, std::size_t l) {
  for (std::size_t d = 0; d < pooled.size(); ++d) {
    if (l >= d && pooled[l - d].cells > 0) return pooled[l - d];
    if (l + d < pooled.size() && pooled[l + d].cells > 0) return pooled[l + d];
  }
  return pooled[l];  // no cells at all: zero error
}

}  // namespace

std::map<std::string, MeasuredNoise> measured_noise_from_stats(const std::string& path,
                                                               const std::string& feedback, int max_level,
                                                               const FeedbackWording& wording) {
  const std::string what = wording.file + " " + path;
  const RunStats stats = load_run_stats(path, what);
  // The converter of the run that measured the error.
  const double levels = double((1 << stats.config.macro.adc_bits) - 1);
  const bool cells = feedback == "cells";
  if (!cells && stats.config.device.wire_resistance > 0)
    spdlog::warn(
        "{}: the measured error includes the bit lines' IR drop (device.wire_resistance), which stage "
        "cim also models; {} feeds back only the read and thermal noise",
        what, wording.cells);
  // The noise stage cim does not model itself (cells): the read noise as the run drew it, and the
  // converter's thermal noise (thermal_sigma_lsb steps); quantization, clipping and the converter's
  // static errors are modelled, the IR drop too.
  const DeviceConfig& device = stats.config.device;
  const bool read_noise = device.read_noise_sigma > 0 || device.read_noise_current_sigma > 0;
  std::map<std::string, MeasuredNoise> out;
  std::map<std::string, const std::vector<DeviceLevelFigures>*> measured_levels;
  for (const NetworkLayerStats& layer : stats.layers) {
    if (!layer.cim) continue;
    const CimLayerStats& c = *layer.cim;
    const IntervalFigures& iv = c.adc_interval;
    const double step = stats.config.adc.ideal ? 0.0 : (iv.hi - iv.lo) / levels;
    MeasuredNoise& n = out[layer.name];
    if (!cells) {
      n.partial_sum_sigma = std::sqrt(std::max(0.0, c.error.std * c.error.std - step * step / 12.0));
      continue;
    }
    if (read_noise && !c.read_error)
      throw InputError(what + ": layer " + layer.name +
                       " has no read_error although its run had read noise (a stats file of an older "
                       "cimsim?); rerun cimsim run --stats, or " +
                       wording.partial_sums);
    const double read = c.read_error ? c.read_error->std : 0.0;
    const double thermal = stats.config.adc.thermal_sigma_lsb * step;
    n.partial_sum_sigma = std::sqrt(read * read + thermal * thermal);
    if (!c.device_levels) {
      if (!device.programming_ideal())
        throw InputError(what + ": layer " + layer.name +
                         " has no device_levels although its run programmed the cells with device variation "
                         "(a stats file of an older cimsim?); rerun cimsim run --stats, or " +
                         wording.partial_sums);
      continue;
    }
    const std::vector<DeviceLevelFigures>& lv = *c.device_levels;
    if (int(lv.size()) != max_level + 1)
      throw InputError(what + ": layer " + layer.name + " has device_levels for levels 0.." +
                       std::to_string(int(lv.size()) - 1) +
                       " but the training hardware's cells have levels 0.." + std::to_string(max_level) +
                       "; measure on hardware with the same macro.cell_bits");
    for (std::size_t l = 0; l < lv.size(); ++l) {
      if (lv[l].level != int(l) || lv[l].cells < 0 || !std::isfinite(lv[l].mean) || !(lv[l].std >= 0) ||
          !std::isfinite(lv[l].std))
        throw InputError(what + ": layer " + layer.name + ": device_levels[" + std::to_string(l) +
                         "] is not level " + std::to_string(l) +
                         " with cells >= 0, a finite mean and std >= 0; rerun cimsim run --stats");
    }
    measured_levels[layer.name] = &lv;
  }
  if (!measured_levels.empty()) {
    // Levels with few cells in a layer (or none: training may move weights there) take the level's
    // moments pooled over every layer of the run (one device model), else the nearest level's.
    std::vector<LevelMoments> pooled(std::size_t(max_level) + 1);
    for (const auto& [name, lv] : measured_levels)
      for (std::size_t l = 0; l < lv->size(); ++l) pooled[l].add((*lv)[l]);
    for (const auto& [name, lv] : measured_levels) {
      MeasuredNoise& n = out[name];
      for (std::size_t l = 0; l < lv->size(); ++l) {
        const DeviceLevelFigures& own = (*lv)[l];
        if (own.cells >= kMinLevelCells) {
          n.level_mean.push_back(own.mean);
          n.level_std.push_back(own.std);
        } else {
          const LevelMoments& shared = nearest_measured(pooled, l);
          n.level_mean.push_back(shared.mean());
          n.level_std.push_back(shared.std());
        }
      }
    }
  }
  if (out.empty()) throw InputError(what + ": no CIM layer in 'layers'");
  return out;
}

}  // namespace cimsim::train
