// An imported network before quantization: the bundle's layer graph (docs/model-bundle.md) with the
// float weights of its CIM layers, lowered from an ONNX graph (lower_onnx), and its evaluation in
// double (calibration for the post-training quantization, ptq.h).
#pragma once

#include <string>
#include <vector>

#include "bundle/model_bundle.h"
#include "import/onnx_model.h"
#include "network/tensor_ops.h"

namespace cimsim::onnx_import {

struct FloatLayer {
  BundleLayer layer;                  // name, type, inputs, geometry and output_shape (weights unset)
  std::vector<double> weight;         // CIM: [out, in / groups, k_h, k_w] or [out, in], C order
  std::vector<double> bias;           // CIM: [out]
  std::vector<double> weight_steps;   // from DequantizeLinear: the model's own steps (1 or [out])
  double input_step = 0;              // from a QuantizeLinear before it: the model's own step (0: none)
  bool nonnegative = false;           // every output value is >= 0 whatever the input image
  std::string node;                   // the ONNX node it came from
};

struct FloatGraph {
  std::string name;
  std::vector<int> input_shape;  // [C, H, W]
  bool input_nonnegative = false;  // the network input is never negative (lower_onnx's argument)
  std::vector<FloatLayer> layers;  // execution order; the last outputs the [classes] logits
  int classes = 0;
};

// The operators lower_onnx accepts, for messages and docs.
const std::vector<std::string>& supported_operators();

// Lowers `model`: folds constants, Identity, Dropout, Pad (into the next Conv) and
// BatchNormalization after a Conv/Gemm (into its weights), and maps every other node onto a bundle
// layer. `input_nonnegative`: the network input is never negative (mean <= 0 for every channel).
FloatGraph lower_onnx(const OnnxModel& model, bool input_nonnegative);

// The float network on `input` ([B, C, H, W], already normalised): every layer's output. A CIM
// layer computes sum_k x[k] w[k] in double (row order c_in, k_h, k_w) plus its bias; `observe`, if
// set, sees each CIM layer's input before it is used.
struct CimInputObserver {
  virtual ~CimInputObserver() = default;
  virtual void observe(std::size_t layer, const Tensor& input) = 0;
};
std::vector<Tensor> evaluate_float(const FloatGraph& graph, const Tensor& input,
                                   CimInputObserver* observe = nullptr);

}  // namespace cimsim::onnx_import
