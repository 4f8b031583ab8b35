// A trainable network whose layers are, one for one, the layers of a model bundle
// (docs/model-bundle.md): the graph is a ModelBundle's layer list (names, types, geometry, inputs),
// and every conv2d / linear / batchnorm entry owns a torch module. So the trainer, the exporter and
// the simulator share one layer graph, and exporting is a copy of weights, not a translation.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "bundle/model_bundle.h"
#include "cim_layers.h"
#include "config/hw_config.h"
#include "hw_stats.h"

namespace cimsim::train {

struct NetworkNode {
  CimConv2d conv{nullptr};
  CimLinear linear{nullptr};
  FoldableBatchNorm batchnorm{nullptr};
  // The CIM part of the conv or linear layer, nullptr for other nodes.
  CimLayer* cim() {
    if (conv) return conv.get();
    if (linear) return linear.get();
    return nullptr;
  }
};

class NetworkImpl : public torch::nn::Module {
 public:
  // `graph` supplies the layers (weights in it are ignored); its bits set the quantizers' widths.
  explicit NetworkImpl(ModelBundle graph);
  // The network of `graph` over modules that exist already (shared, not copied: the Python layers of
  // cimsim.torch), one node per layer; a conv2d, linear or batchnorm layer's node holds its module
  // with the layer's geometry (InputError naming the layer otherwise), other layers' nodes are empty.
  NetworkImpl(ModelBundle graph, std::vector<NetworkNode> nodes);

  // images: [B, C, H, W] normalised as graph().input says; returns [B, classes] logits.
  torch::Tensor forward(const torch::Tensor& images);

  // Stage qat: CIM layers compute on LSQ-quantized integers. Weight steps not yet initialised are
  // initialised from the weights now; input steps on the first training batch.
  void set_quantized(bool quantized);
  bool quantized() const { return quantized_; }

  // Stage cim: every CIM layer computes on `hw`'s macros (cim_mvm.h) with its bundle mapping.
  // A layer's ADC interval starts from `start` (by layer name) when listed there, else keeps a
  // value it already has (from a bundle or checkpoint), else takes hw.interval_for(name).
  // `noise` is injected in training mode; `measured` (by layer name, from --hw-stats) replaces it
  // per layer: its partial-sum noise and, when given, per-level cell errors.
  void set_hardware(const HwConfig& hw, const CimNoise& noise,
                    const std::map<std::string, AdcInterval>& start = {},
                    const std::map<std::string, MeasuredNoise>& measured = {});
  // Exact (double, the contract's order: the simulator's bits) or fast evaluation of stage cim.
  void set_exact(bool exact);

  const ModelBundle& graph() const { return graph_; }
  std::vector<NetworkNode>& nodes() { return nodes_; }
  // The learned quantizer steps (LSQ) and ADC intervals, for their own optimizer group (no weight
  // decay).
  std::vector<torch::Tensor> step_parameters();
  std::vector<torch::Tensor> other_parameters();
  // Stops training the CIM layers' ADC intervals: they keep their values (cim.learn_intervals: false).
  void freeze_adc_intervals();
  // A CIM layer has a bias unless a batchnorm right after it takes its output (the shift covers it).
  bool has_bias(std::size_t layer) const;

 private:
  ModelBundle graph_;
  std::vector<NetworkNode> nodes_;
  bool quantized_ = false;
};
TORCH_MODULE(Network);

}  // namespace cimsim::train
