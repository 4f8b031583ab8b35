#include "network.h"

#include <algorithm>
#include <utility>

#include "bundle/bundle_mapping.h"
#include "core/error.h"

namespace cimsim::train {

bool NetworkImpl::has_bias(std::size_t layer) const {
  const auto& layers = graph_.layers;
  // A graph from a bundle keeps the biases it has (an import whose batch norm was not folded).
  const std::vector<double>& bias = layers[layer].bias;
  if (std::any_of(bias.begin(), bias.end(), [](double v) { return v != 0; })) return true;
  const bool batchnorm_next = layer + 1 < layers.size() && layers[layer + 1].type == LayerType::kBatchNorm &&
                              layers[layer + 1].inputs == std::vector<int>{int(layer)};
  return !batchnorm_next;
}

NetworkImpl::NetworkImpl(ModelBundle graph) : graph_(std::move(graph)) {
  for (std::size_t i = 0; i < graph_.layers.size(); ++i) {
    const BundleLayer& l = graph_.layers[i];
    const QuantBits bits{graph_.bits.weight, graph_.bits.input, l.input_signed};
    NetworkNode node;
    switch (l.type) {
      case LayerType::kConv2d:
        node.conv = register_module(l.name, CimConv2d(l.in_channels, l.out_channels, l.kernel, l.stride,
                                                      l.padding, has_bias(i), bits, l.groups));
        break;
      case LayerType::kLinear:
        node.linear = register_module(l.name, CimLinear(l.in_features, l.out_features, has_bias(i), bits));
        break;
      case LayerType::kBatchNorm:
        node.batchnorm = register_module(l.name, FoldableBatchNorm(l.channels));
        break;
      default:
        break;
    }
    nodes_.push_back(node);
  }
}

namespace {

// Whether `node` holds the module layer `l` needs, with its geometry and bits.
bool node_fits(const BundleLayer& l, NetworkNode& node, const BundleBits& bits) {
  auto quantizer_bits_fit = [&](CimLayer& cim) {
    return cim.weight_quantizer->qmax() == (int64_t(1) << (bits.weight - 1)) - 1 &&
           cim.input_quantizer->qmax() == (int64_t(1) << bits.input) - 1 &&
           cim.input_signed == l.input_signed;
  };
  switch (l.type) {
    case LayerType::kConv2d: {
      if (!node.conv || node.linear || node.batchnorm) return false;
      const CimConv2dImpl& c = *node.conv;
      const auto w = c.conv->weight.sizes();
      return w[0] == l.out_channels && w[1] * c.groups == l.in_channels && w[2] == l.kernel[0] &&
             w[3] == l.kernel[1] && c.stride->at(0) == l.stride[0] && c.stride->at(1) == l.stride[1] &&
             c.padding->at(0) == l.padding[0] && c.padding->at(1) == l.padding[1] && c.groups == l.groups &&
             quantizer_bits_fit(*node.conv);
    }
    case LayerType::kLinear: {
      if (!node.linear || node.conv || node.batchnorm) return false;
      const auto w = node.linear->linear->weight.sizes();
      return w[0] == l.out_features && w[1] == l.in_features && quantizer_bits_fit(*node.linear);
    }
    case LayerType::kBatchNorm:
      return node.batchnorm && !node.conv && !node.linear && node.batchnorm->weight.size(0) == l.channels;
    default:
      return !node.conv && !node.linear && !node.batchnorm;
  }
}

}  // namespace

NetworkImpl::NetworkImpl(ModelBundle graph, std::vector<NetworkNode> nodes)
    : graph_(std::move(graph)), nodes_(std::move(nodes)) {
  if (nodes_.size() != graph_.layers.size())
    throw InputError("network: " + std::to_string(nodes_.size()) + " modules for " +
                     std::to_string(graph_.layers.size()) + " layers; give one node per layer");
  for (std::size_t i = 0; i < graph_.layers.size(); ++i) {
    const BundleLayer& l = graph_.layers[i];
    NetworkNode& node = nodes_[i];
    if (!node_fits(l, node, graph_.bits))
      throw InputError(
          "network: layer " + l.name + " (" + layer_type_name(l.type) +
          ") is given a module of another type, geometry or bit width; give the layer's own module");
    if (node.conv) register_module(l.name, node.conv);
    if (node.linear) register_module(l.name, node.linear);
    if (node.batchnorm) register_module(l.name, node.batchnorm);
  }
  // Quantized when every CIM layer is (the modules carry their stage).
  quantized_ = std::all_of(nodes_.begin(), nodes_.end(),
                           [](NetworkNode& n) { return !n.cim() || n.cim()->quantized; });
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> outs;
  outs.reserve(graph_.layers.size());
  for (std::size_t i = 0; i < graph_.layers.size(); ++i) {
    const BundleLayer& l = graph_.layers[i];
    const torch::Tensor& in = l.inputs[0] < 0 ? images : outs[std::size_t(l.inputs[0])];
    switch (l.type) {
      case LayerType::kConv2d:
        outs.push_back(nodes_[i].conv->forward(in));
        break;
      case LayerType::kLinear:
        outs.push_back(nodes_[i].linear->forward(in.dim() > 2 ? in.flatten(1) : in));
        break;
      case LayerType::kBatchNorm:
        outs.push_back(nodes_[i].batchnorm->forward(in));
        break;
      case LayerType::kRelu:
        outs.push_back(torch::relu(in));
        break;
      case LayerType::kMaxPool:
        outs.push_back(torch::max_pool2d(in, {l.kernel[0], l.kernel[1]}, {l.stride[0], l.stride[1]},
                                         {l.padding[0], l.padding[1]}));
        break;
      case LayerType::kAvgPool:
        outs.push_back(avgpool_ordered(in, l.kernel, l.stride));
        break;
      case LayerType::kGlobalAvgPool:  // [B, C], flat as the bundle's [C] (concat, add, batchnorm after it)
        outs.push_back(global_avgpool_ordered(in).flatten(1));
        break;
      case LayerType::kFlatten:
        outs.push_back(in.flatten(1));
        break;
      case LayerType::kAdd:
        outs.push_back(in + outs[std::size_t(l.inputs[1])]);
        break;
      case LayerType::kConcat: {
        std::vector<torch::Tensor> parts;
        for (int src : l.inputs) parts.push_back(src < 0 ? images : outs[std::size_t(src)]);
        outs.push_back(torch::cat(parts, 1));
        break;
      }
      case LayerType::kClip:
        outs.push_back(torch::clamp(in, l.clip_min, l.clip_max));
        break;
    }
  }
  torch::Tensor logits = outs.back();
  return logits.dim() > 2 ? logits.flatten(1) : logits;
}

void NetworkImpl::set_quantized(bool quantized) {
  quantized_ = quantized;
  for (NetworkNode& n : nodes_) {
    if (CimLayer* cim = n.cim()) {
      cim->quantized = quantized;
      if (quantized && !cim->weight_quantizer->initialized())
        cim->weight_quantizer->init_from(cim->float_weight());
    }
  }
}

namespace {

bool is_quantizer_parameter(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".step") || ends_with(".adc_interval");
}

}  // namespace

std::vector<torch::Tensor> NetworkImpl::step_parameters() {
  std::vector<torch::Tensor> steps;
  for (const auto& p : named_parameters())
    if (is_quantizer_parameter(p.key())) steps.push_back(p.value());
  return steps;
}

std::vector<torch::Tensor> NetworkImpl::other_parameters() {
  std::vector<torch::Tensor> rest;
  for (const auto& p : named_parameters())
    if (!is_quantizer_parameter(p.key())) rest.push_back(p.value());
  return rest;
}

void NetworkImpl::freeze_adc_intervals() {
  for (NetworkNode& n : nodes_)
    if (CimLayer* cim = n.cim()) cim->adc_interval.requires_grad_(false);
}

void NetworkImpl::set_hardware(const HwConfig& hw, const CimNoise& noise,
                               const std::map<std::string, AdcInterval>& start,
                               const std::map<std::string, MeasuredNoise>& measured) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < graph_.layers.size(); ++i) {
    const BundleLayer& l = graph_.layers[i];
    if (!l.is_cim()) continue;
    CimLayer& cim = *nodes_[i].cim();
    CimHardware& target = cim.hardware;
    torch::Tensor& interval = cim.adc_interval;
    const std::optional<AdcInterval>& from_bundle = cim.bundle_adc;
    target.mvm = std::make_shared<const CimMvm>(hw, map_bundle_layer(l, hw.macro));
    target.noise = noise;
    target.unit = hw.macro.max_partial_sum();
    if (auto it = measured.find(l.name); it != measured.end()) {
      target.noise.partial_sum_sigma = it->second.partial_sum_sigma;
      target.noise.level_mean = it->second.level_mean;
      target.noise.level_std = it->second.level_std;
    }
    AdcInterval value;
    if (auto it = start.find(l.name); it != start.end()) {
      value = it->second;
    } else if (from_bundle && !from_bundle->full) {
      value = *from_bundle;
    } else if (interval[1].item<double>() > interval[0].item<double>()) {
      continue;  // already set (a checkpoint's)
    } else {
      value = hw.interval_for(l.name);
    }
    interval.copy_(
        torch::tensor({value.lo / target.unit, value.hi / target.unit}, torch::kDouble).to(interval.dtype()));
  }
}

void NetworkImpl::set_exact(bool exact) {
  for (NetworkNode& n : nodes_)
    if (CimLayer* cim = n.cim()) cim->hardware.exact = exact;
}

}  // namespace cimsim::train
