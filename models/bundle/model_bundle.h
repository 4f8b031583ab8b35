// A quantized network loaded from a model bundle (docs/model-bundle.md): the manifest model.yaml
// with its .npy tensors, validated and held in memory in the layouts the simulator uses. Plain C++
// (no SystemC, no LibTorch). Every problem is an InputError that names the manifest line
// ("<dir>/model.yaml:<line>: layers[3].kernel: <problem>; <fix>") or the tensor file.
#pragma once

#include <Eigen/Core>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "config/hw_config.h"

namespace cimsim {

enum class LayerType {
  kConv2d,
  kLinear,
  kBatchNorm,
  kRelu,
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,
  kFlatten,
  kAdd,
  kConcat,
  kClip
};

// The manifest spelling of a type ("conv2d", "global_avgpool", ...), and all of them in table order.
const char* layer_type_name(LayerType type);
// The elements of a tensor of shape [C, H, W] or [F]: the product of the dimensions.
int64_t shape_elements(const std::vector<int>& shape);
const std::vector<std::string>& layer_type_names();
// The type a manifest spelling names; nothing for an unknown spelling.
std::optional<LayerType> layer_type_of(const std::string& name);

struct BundleInput {
  std::vector<int> shape;    // [C, H, W] of one image
  std::vector<double> mean;  // C entries; the network sees (pixel / 255 - mean[c]) / std[c]
  std::vector<double> std;   // C entries, all > 0
};

struct BundleBits {
  int weight = 0;  // 2..16: integer weights lie in [-(2^(weight-1) - 1), 2^(weight-1) - 1]
  int input = 0;   // 1..16: input_bits of every CIM layer
};

struct BundleLayer {
  std::string name;
  LayerType type = LayerType::kRelu;
  std::vector<int> inputs;  // indices of earlier layers; -1 is the network input
  int line = 0;             // 1-based manifest line where the layer's entry starts

  // conv2d: in_channels x out_channels, kernel/stride/padding as [rows, columns], in `groups` groups
  // (in_channels / groups inputs and out_channels / groups outputs each; depthwise: groups =
  // in_channels). maxpool, avgpool: kernel, stride, padding (avgpool: always 0).
  int in_channels = 0;
  int out_channels = 0;
  int groups = 1;
  std::array<int, 2> kernel{{0, 0}};
  std::array<int, 2> stride{{1, 1}};
  std::array<int, 2> padding{{0, 0}};
  // linear
  int in_features = 0;
  int out_features = 0;
  // batchnorm
  int channels = 0;
  // clip: y = min(max(t, clip_min), clip_max)
  double clip_min = 0;
  double clip_max = 0;

  // CIM layers (conv2d, linear): the logical K x N integer matrix. conv2d: K = in_channels * k_h * k_w
  // with row (c * k_h + i) * k_w + j for input channel c, kernel row i, column j; N = out_channels;
  // with groups > 1 the weights of output o outside its group's input channels are 0 (block
  // diagonal). linear: K = in_features, N = out_features.
  Eigen::MatrixXi weight;
  std::vector<double> weight_scale;  // N entries (a single manifest number is expanded)
  double input_scale = 0;            // s_x, the quantization step of the layer's input
  bool input_signed = false;         // inputs in [-(2^input_bits - 1), 2^input_bits - 1], run in two
                                     // passes (x+ then x-, docs/numerics.md section 11)
  std::vector<double> bias;          // N entries, zeros when the manifest has none
  bool has_adc = false;              // the layer names its own ADC interval
  AdcInterval adc;                   // valid when has_adc

  // batchnorm: y[c] = t[c] * bn_scale[c] + bn_shift[c]
  std::vector<double> bn_scale;
  std::vector<double> bn_shift;

  std::vector<int> output_shape;  // [C, H, W] or [F]

  bool is_cim() const { return type == LayerType::kConv2d || type == LayerType::kLinear; }
  // Input passes per MVM: 2 for signed inputs (x+ and x-), else 1.
  int input_passes() const { return input_signed ? 2 : 1; }
  // The K x N matrix's geometry, from the layer's keys (also before `weight` is filled): N outputs,
  // K rows; output o's weights fill rows [first_row(o), first_row(o) + rows_per_output()), the file's
  // [o, ...] block, and a grouped conv's other rows are 0 (the block diagonal).
  int outputs() const { return type == LayerType::kConv2d ? out_channels : out_features; }
  int64_t weight_rows() const {
    return type == LayerType::kConv2d ? int64_t(in_channels) * kernel[0] * kernel[1] : in_features;
  }
  int weight_groups() const { return type == LayerType::kConv2d ? groups : 1; }
  int64_t rows_per_output() const { return weight_rows() / weight_groups(); }
  int64_t first_row(int output) const { return int64_t(output / (outputs() / weight_groups())) * rows_per_output(); }
  // MVMs per image of a CIM layer: its output pixels (conv2d) or 1 (linear).
  int64_t output_pixels() const {
    return type == LayerType::kConv2d ? int64_t(output_shape[1]) * output_shape[2] : 1;
  }
};

struct ModelBundle {
  std::string dir;       // as given to load_model_bundle
  std::string manifest;  // <dir>/model.yaml
  // Every file the bundle consists of, relative to dir: model.yaml, then each tensor file the
  // manifest names, in the order read (what a change of the bundle is detected by).
  std::vector<std::string> files;
  std::string format;    // "cimsim-model-bundle"
  int version = 0;       // 1
  std::string name;
  BundleInput input;
  int classes = 0;
  BundleBits bits;
  std::vector<BundleLayer> layers;  // in execution order; the last one outputs [classes] logits

  // Index of the layer called `layer_name`, or -1.
  int find(const std::string& layer_name) const;
  // Whether `layer_name` is a conv2d or linear layer of the bundle.
  bool is_cim_layer(const std::string& layer_name) const;
  // The CIM layers' names, comma-separated, for messages.
  std::string cim_layer_names() const;
};

// The manifest's file name inside a bundle directory.
inline constexpr const char* kBundleManifest = "model.yaml";
inline constexpr const char* kBundleFormat = "cimsim-model-bundle";
inline constexpr int kBundleVersion = 1;

// Loads and validates the bundle in directory `dir`. Throws InputError on any problem.
ModelBundle load_model_bundle(const std::string& dir);

}  // namespace cimsim
