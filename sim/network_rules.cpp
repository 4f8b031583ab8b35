// The network's rules that need no simulation: whether a bundle and a data set fit the hardware,
// and the pipeline recurrence of docs/timing.md, "Networks".
#include <algorithm>

#include "bundle/bundle_mapping.h"
#include "core/error.h"
#include "mapping/mvm_cycles.h"
#include "network_runner.h"

namespace cimsim {

void check_bundle_fits(const HwConfig& configured, const ModelBundle& bundle) {
  const HwConfig& hw = configured;
  if (bundle.bits.weight != hw.macro.weight_bits || bundle.bits.input != hw.macro.input_bits) {
    throw InputError(bundle.manifest + ": the model was quantized for " + std::to_string(bundle.bits.weight) +
                     "-bit weights and " + std::to_string(bundle.bits.input) + "-bit inputs but " +
                     hw.source + " has macro.weight_bits = " + std::to_string(hw.macro.weight_bits) +
                     " and macro.input_bits = " + std::to_string(hw.macro.input_bits) +
                     "; run with --set macro.weight_bits=" + std::to_string(bundle.bits.weight) +
                     " --set macro.input_bits=" + std::to_string(bundle.bits.input));
  }
  // An adc.layers entry that names no CIM layer would be ignored: a misspelling or another model's
  // layer. (cimsim mvm, with one layer, does not come here.)
  for (const auto& [name, interval] : hw.adc.layers) {
    if (bundle.is_cim_layer(name)) continue;
    throw InputError(hw.source + ": adc.layers." + name + ": '" + name + "' is not a CIM layer of model '" +
                     bundle.name + "' (" + bundle.manifest + "); its CIM layers are " + bundle.cim_layer_names() +
                     ": fix the name or remove the entry");
  }
  for (const auto& [name, copies] : hw.chip.duplicate) {
    const auto it = std::find_if(bundle.layers.begin(), bundle.layers.end(),
                                 [&layer = name](const BundleLayer& l) { return l.name == layer; });
    if (it == bundle.layers.end() || !it->is_cim())
      throw InputError(hw.source + ": chip.duplicate." + name + ": " + bundle.manifest +
                       (it == bundle.layers.end() ? " has no layer '" + name + "'"
                                                  : ": '" + name + "' is not a CIM layer") +
                       "; name conv2d or linear layers of the model");
  }
  const HwConfig chip = resolve_duplication(hw, bundle);  // auto: copies within chip.macros
  int64_t needed = 0;
  std::string detail;
  for (const BundleLayer& l : bundle.layers) {
    if (!l.is_cim()) continue;
    const int copies = chip.chip.copies_of(l.name);
    const int macros = map_bundle_layer(l, hw.macro).macros() * copies;
    needed += macros;
    detail += (detail.empty() ? "" : ", ") + l.name + ": " + std::to_string(macros) +
              (copies > 1 ? " (" + std::to_string(copies) + " copies)" : "");
  }
  check_macros_fit(needed, hw.chip.macros, detail, hw.source);
}

int64_t digital_ops(const ModelBundle& bundle, std::size_t layer) {
  const BundleLayer& l = bundle.layers[layer];
  const std::vector<int>& input_shape =
      l.inputs[0] < 0 ? bundle.input.shape : bundle.layers[std::size_t(l.inputs[0])].output_shape;
  const int64_t out = shape_elements(l.output_shape), in = shape_elements(input_shape);
  switch (l.type) {
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      return out * l.kernel[0] * l.kernel[1];
    case LayerType::kGlobalAvgPool:
      return in;
    case LayerType::kFlatten:
      return 0;
    default:
      return out;
  }
}

int64_t digital_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer) {
  return (digital_ops(bundle, layer) + hw.digital.ops_per_cycle - 1) / hw.digital.ops_per_cycle;
}

int64_t stage_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer, int copies,
                     int64_t cycles_per_mvm) {
  const BundleLayer& l = bundle.layers[layer];
  const int64_t rounds = (l.output_pixels() + copies - 1) / copies * l.input_passes();
  const int64_t compute = (l.is_cim() ? rounds * cycles_per_mvm : 0) + digital_cycles(hw, bundle, layer);
  return std::max(compute, buffer_cycles(hw, bundle, layer));
}

HwConfig resolve_duplication(const HwConfig& hw, const ModelBundle& bundle) {
  if (!hw.chip.duplicate_auto) return hw;
  if (hw.chip.macros == 0)
    throw InputError(hw.source +
                     ": chip.duplicate: auto needs a budget; set chip.macros (e.g. twice the macros "
                     "the model maps onto) or name the copies per layer");
  HwConfig out = hw;
  out.chip.duplicate.clear();
  std::vector<int64_t> mvm(bundle.layers.size(), 0), macros(bundle.layers.size(), 0);
  std::vector<int> copies(bundle.layers.size(), 1);
  int64_t used = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    if (!bundle.layers[i].is_cim()) continue;
    const LayerMapping mapping = map_bundle_layer(bundle.layers[i], hw.macro);
    mvm[i] = mvm_cycles(hw, mapping);
    macros[i] = mapping.macros();
    used += macros[i];
  }
  auto stage = [&](std::size_t i, int d) { return stage_cycles(hw, bundle, i, d, mvm[i]); };
  // One more copy of the slowest CIM layer while it fits and makes that layer faster.
  for (;;) {
    std::size_t slowest = bundle.layers.size();
    for (std::size_t i = 0; i < bundle.layers.size(); ++i)
      if (macros[i] > 0 &&
          (slowest == bundle.layers.size() || stage(i, copies[i]) > stage(slowest, copies[slowest])))
        slowest = i;
    if (slowest == bundle.layers.size() || used + macros[slowest] > hw.chip.macros ||
        stage(slowest, copies[slowest] + 1) >= stage(slowest, copies[slowest]))
      break;
    ++copies[slowest];
    used += macros[slowest];
  }
  for (std::size_t i = 0; i < bundle.layers.size(); ++i)
    if (copies[i] > 1) out.chip.duplicate[bundle.layers[i].name] = copies[i];
  out.chip.duplicate_auto = false;  // resolved: resolving it again changes nothing
  return out;
}

std::vector<int64_t> pipeline_finish(const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles,
                                     int64_t items) {
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
  return finish;
}

int64_t pipeline_cycles(const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles, int64_t items) {
  const std::vector<int64_t> finish = pipeline_finish(bundle, stage_cycles, items);
  return finish.empty() ? 0 : finish.back();
}

}  // namespace cimsim
