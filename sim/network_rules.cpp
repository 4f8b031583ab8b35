// The network's rules that need no simulation: whether a bundle and a data set fit the hardware,
// and the pipeline recurrence of docs/timing.md, "Networks".
#include <algorithm>

#include "bundle/bundle_mapping.h"
#include "core/error.h"
#include "network_runner.h"

namespace cimsim {

void check_bundle_fits(const HwConfig& hw, const ModelBundle& bundle) {
  if (bundle.bits.weight != hw.macro.weight_bits || bundle.bits.input != hw.macro.input_bits) {
    throw InputError(bundle.manifest + ": the model was quantized for " + std::to_string(bundle.bits.weight) +
                     "-bit weights and " + std::to_string(bundle.bits.input) + "-bit inputs but " +
                     hw.source + " has macro.weight_bits = " + std::to_string(hw.macro.weight_bits) +
                     " and macro.input_bits = " + std::to_string(hw.macro.input_bits) +
                     "; run with --set macro.weight_bits=" + std::to_string(bundle.bits.weight) +
                     " --set macro.input_bits=" + std::to_string(bundle.bits.input));
  }
  int64_t needed = 0;
  std::string detail;
  for (const BundleLayer& l : bundle.layers) {
    if (!l.is_cim()) continue;
    const int macros = map_bundle_layer(l, hw.macro).macros();
    needed += macros;
    detail += (detail.empty() ? "" : ", ") + l.name + ": " + std::to_string(macros);
  }
  check_macros_fit(needed, hw.chip.macros, detail, hw.source);
}

void check_data_fits(const ModelBundle& bundle, const data::Dataset& data) {
  if (data.channels != bundle.input.shape[0] || data.height != bundle.input.shape[1] ||
      data.width != bundle.input.shape[2]) {
    throw InputError(bundle.manifest + ": the model expects " + std::to_string(bundle.input.shape[0]) + "x" +
                     std::to_string(bundle.input.shape[1]) + "x" + std::to_string(bundle.input.shape[2]) +
                     " images but " + data.name + " has " + std::to_string(data.channels) + "x" +
                     std::to_string(data.height) + "x" + std::to_string(data.width) +
                     "; choose the matching data set");
  }
}

int64_t pipeline_cycles(const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles, int64_t items) {
  const std::size_t layers = bundle.layers.size();
  std::vector<int64_t> finish(layers, 0);  // finish(l, k - 1), updated in place to finish(l, k)
  for (int64_t k = 0; k < items; ++k) {
    for (std::size_t l = 0; l < layers; ++l) {
      int64_t start = finish[l];
      for (int src : bundle.layers[l].inputs)
        if (src >= 0) start = std::max(start, finish[std::size_t(src)]);  // sources come first: finish(s, k)
      finish[l] = start + stage_cycles[l];
    }
  }
  return layers ? finish.back() : 0;
}

}  // namespace cimsim
