#include "hw_stats.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "stats/stats_records.h"

namespace cimsim::train {

std::map<std::string, double> partial_sum_noise_from_stats(const std::string& path) {
  const RunStats stats = load_run_stats(path, "--hw-stats " + path);
  // The converter of the run that measured the error.
  const double levels = double((1 << stats.config.macro.adc_bits) - 1);
  std::map<std::string, double> sigma;
  for (const NetworkLayerStats& layer : stats.layers) {
    if (!layer.cim) continue;
    const double std_e = layer.cim->error.std;
    const IntervalFigures& iv = layer.cim->adc_interval;
    const double step = stats.config.adc.ideal ? 0.0 : (iv.hi - iv.lo) / levels;
    sigma[layer.name] = std::sqrt(std::max(0.0, std_e * std_e - step * step / 12.0));
  }
  if (sigma.empty()) throw InputError("--hw-stats " + path + ": no CIM layer in 'layers'");
  return sigma;
}

}  // namespace cimsim::train
