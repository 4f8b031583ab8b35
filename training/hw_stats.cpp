#include "hw_stats.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "stats/stats_records.h"

namespace cimsim::train {

std::map<std::string, MeasuredNoise> measured_noise_from_stats(const std::string& path, const std::string& feedback,
                                                               int max_level) {
  const std::string what = "--hw-stats " + path;
  const RunStats stats = load_run_stats(path, what);
  // The converter of the run that measured the error.
  const double levels = double((1 << stats.config.macro.adc_bits) - 1);
  const bool cells = feedback == "cells";
  if (!cells && stats.config.device.wire_resistance > 0)
    spdlog::warn("{}: the measured error includes the bit lines' IR drop (device.wire_resistance), which stage "
                 "cim also models; cim.feedback: cells injects the residual error without it",
                 what);
  std::map<std::string, MeasuredNoise> out;
  for (const NetworkLayerStats& layer : stats.layers) {
    if (!layer.cim) continue;
    const CimLayerStats& c = *layer.cim;
    const IntervalFigures& iv = c.adc_interval;
    const double step = stats.config.adc.ideal ? 0.0 : (iv.hi - iv.lo) / levels;
    auto without_quantization = [&](double sigma) { return std::sqrt(std::max(0.0, sigma * sigma - step * step / 12.0)); };
    MeasuredNoise& n = out[layer.name];
    if (!cells) {
      n.partial_sum_sigma = without_quantization(c.error.std);
      continue;
    }
    if (!c.device_levels) {
      if (!stats.config.device.programming_ideal())
        throw InputError(what + ": layer " + layer.name +
                         " has no device_levels although its run programmed the cells with device variation "
                         "(a stats file of an older cimsim?); rerun cimsim run --stats, or set cim.feedback: "
                         "partial_sums in the experiment");
      n.partial_sum_sigma = without_quantization(c.residual_error ? c.residual_error->std : c.error.std);
      continue;
    }
    const std::vector<DeviceLevelFigures>& lv = *c.device_levels;
    if (int(lv.size()) != max_level + 1)
      throw InputError(what + ": layer " + layer.name + " has device_levels for levels 0.." +
                       std::to_string(int(lv.size()) - 1) + " but the cells of --hw have levels 0.." +
                       std::to_string(max_level) + "; measure on hardware with the same macro.cell_bits");
    for (std::size_t l = 0; l < lv.size(); ++l) {
      if (lv[l].level != int(l) || !std::isfinite(lv[l].mean) || !(lv[l].std >= 0) || !std::isfinite(lv[l].std))
        throw InputError(what + ": layer " + layer.name + ": device_levels[" + std::to_string(l) +
                         "] is not level " + std::to_string(l) + " with a finite mean and std >= 0; rerun cimsim run --stats");
      n.level_mean.push_back(lv[l].mean);
      n.level_std.push_back(lv[l].std);
    }
    n.partial_sum_sigma = without_quantization(c.residual_error ? c.residual_error->std : c.error.std);
  }
  if (out.empty()) throw InputError(what + ": no CIM layer in 'layers'");
  return out;
}

}  // namespace cimsim::train
