// The activation buffers between layers (docs/timing.md, "Networks"): each layer's traffic, the
// cycles it needs at the configured bandwidth, and the capacity the dataflow needs.
#include <algorithm>
#include <stdexcept>

#include "network_runner.h"

namespace cimsim {
namespace {

int64_t bytes_of(const HwConfig& hw, int64_t elements) {
  return (elements * hw.macro.input_bits + 7) / 8;
}

// The layers that read each layer's output (index layers: the network input).
std::vector<std::vector<std::size_t>> readers_of(const ModelBundle& bundle) {
  std::vector<std::vector<std::size_t>> readers(bundle.layers.size() + 1);
  for (std::size_t l = 0; l < bundle.layers.size(); ++l)
    for (int src : bundle.layers[l].inputs)
      readers[src < 0 ? bundle.layers.size() : std::size_t(src)].push_back(l);
  return readers;
}

bool is_flatten(const ModelBundle& bundle, std::size_t layer) {
  return bundle.layers[layer].type == LayerType::kFlatten;
}

// The tensors from the last layer's output back to the first's, then the network input (index
// layers): every flatten comes before the tensor it is a view of.
std::vector<std::size_t> readers_first(std::size_t layers) {
  std::vector<std::size_t> order;
  for (std::size_t t = layers; t-- > 0;) order.push_back(t);
  order.push_back(layers);
  return order;
}

}  // namespace

int64_t tensor_bytes(const HwConfig& hw, const ModelBundle& bundle, int layer) {
  if (layer < 0) return bytes_of(hw, shape_elements(bundle.input.shape));
  if (is_flatten(bundle, std::size_t(layer))) return 0;  // a view of its input
  return bytes_of(hw, shape_elements(bundle.layers[std::size_t(layer)].output_shape));
}

int64_t buffer_bytes(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer) {
  const BundleLayer& l = bundle.layers[layer];
  if (l.type == LayerType::kFlatten) return 0;
  int64_t read = 0;
  for (int src : l.inputs)
    read += shape_elements(src < 0 ? bundle.input.shape : bundle.layers[std::size_t(src)].output_shape);
  return bytes_of(hw, read + shape_elements(l.output_shape));
}

int64_t buffer_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer) {
  const int64_t per_cycle = hw.buffer.bytes_per_cycle;
  return per_cycle > 0 ? (buffer_bytes(hw, bundle, layer) + per_cycle - 1) / per_cycle : 0;
}

int64_t buffer_capacity(const HwConfig& hw, const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles) {
  const std::size_t layers = bundle.layers.size();
  if (stage_cycles.size() != layers) throw std::logic_error("buffer_capacity: one stage time per layer expected");
  const auto readers = readers_of(bundle);
  const std::size_t input = layers;  // the network input's entry in readers
  auto bytes = [&](std::size_t t) { return tensor_bytes(hw, bundle, t == input ? -1 : int(t)); };
  if (hw.chip.dataflow == Dataflow::kLayerByLayer) {
    // One image at a time: a tensor lives from the layer that writes it to the last that reads it
    // (through flattens, which read nothing); the capacity is the most bytes alive at one layer.
    std::vector<std::size_t> last(layers + 1, 0);
    for (std::size_t t : readers_first(layers)) {
      last[t] = t == input ? 0 : t;
      for (std::size_t r : readers[t]) last[t] = std::max(last[t], is_flatten(bundle, r) ? last[r] : r);
    }
    int64_t peak = 0;
    for (std::size_t l = 0; l < layers; ++l) {
      int64_t alive = last[input] >= l ? bytes(input) : 0;
      for (std::size_t t = 0; t <= l; ++t) alive += last[t] >= l ? bytes(t) : 0;
      peak = std::max(peak, alive);
    }
    return peak;
  }
  // Pipelined, with the input paced at one image every P = max T cycles: stage l works on image k
  // from begin_l + k P to end_l + k P, end_l = finish(l, 0) of the recurrence, begin_l = end_l - T_l.
  // A tensor holds an image from the start of its writer (the input: from cycle 0) to the end of its
  // last reader (through flattens); its buffer holds ceil(lifetime / P) images, at least 1.
  const std::vector<int64_t> end = pipeline_finish(bundle, stage_cycles, 1);
  const int64_t period = layers ? *std::max_element(stage_cycles.begin(), stage_cycles.end()) : 0;
  std::vector<int64_t> released(layers + 1, 0);  // when the last reader is done with an image
  int64_t total = 0;
  for (std::size_t t : readers_first(layers)) {
    if (t == input && readers[t].empty()) continue;
    const int64_t begin = t == input ? 0 : end[t] - stage_cycles[t];
    released[t] = t == input ? begin : end[t];
    for (std::size_t r : readers[t]) released[t] = std::max(released[t], is_flatten(bundle, r) ? released[r] : end[r]);
    const int64_t lifetime = released[t] - begin;
    const int64_t depth = period > 0 ? std::max<int64_t>(1, (lifetime + period - 1) / period) : 1;
    total += bytes(t) * depth;
  }
  return total;
}

}  // namespace cimsim
