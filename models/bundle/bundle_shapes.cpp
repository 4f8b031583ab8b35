// Shape inference of a model bundle: each layer's output shape ([C, H, W] or [F]) from its inputs,
// with the layer-type rules of docs/model-bundle.md. Windows (conv2d, pooling) give
// floor((size + 2 * padding - kernel) / stride) + 1 outputs per direction, as PyTorch does.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bundle/bundle_detail.h"

namespace cimsim::bundle_detail {
namespace {

constexpr int64_t kMaxActivation = int64_t{1} << 26;  // values per image of one layer's output or im2col

template <typename T>
std::string join(const std::vector<T>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

struct Source {
  std::string name;
  const std::vector<int>* shape;
  std::string text() const { return "'" + name + "' outputs " + shape_text(*shape); }
};

Source source_of(int index, const ModelBundle& b) {
  if (index < 0) return {"input", &b.input.shape};
  return {b.layers[std::size_t(index)].name, &b.layers[std::size_t(index)].output_shape};
}

// Output size of a sliding window in both directions; fails at `kernel` when the window does not fit.
std::vector<int> window(const BundleLayer& l, const Source& in, const YamlSection& s) {
  const std::vector<int>& shape = *in.shape;
  const int padded_h = shape[1] + 2 * l.padding[0];
  const int padded_w = shape[2] + 2 * l.padding[1];
  if (padded_h > (1 << 24) || padded_w > (1 << 24)) {  // keeps every side far from int overflow
    s.fail("padding",
           "the padded input " + std::to_string(padded_h) + "x" + std::to_string(padded_w) + " exceeds 2^24",
           "use less padding");
  }
  if (l.kernel[0] > padded_h || l.kernel[1] > padded_w) {
    s.fail("kernel",
           "the " + std::to_string(l.kernel[0]) + "x" + std::to_string(l.kernel[1]) +
               " window is larger than the " + (l.padding[0] + l.padding[1] > 0 ? "padded " : "") + "input " +
               std::to_string(padded_h) + "x" + std::to_string(padded_w) + " (" + in.text() + ")",
           "use a smaller kernel, more padding, or fewer downsampling layers before this one");
  }
  const int oh = (padded_h - l.kernel[0]) / l.stride[0] + 1, ow = (padded_w - l.kernel[1]) / l.stride[1] + 1;
  // The simulator holds a layer's activations (and a conv's im2col rows) per batch of images in
  // memory: bound them per image at load time rather than fail with bad_alloc mid-run.
  const int channels = l.type == LayerType::kConv2d ? std::max(l.out_channels, l.in_channels) : shape[0];
  const int64_t rows = l.type == LayerType::kConv2d ? int64_t(l.in_channels) * l.kernel[0] * l.kernel[1] : 1;
  if (int64_t(oh) * ow * std::max<int64_t>(channels, rows) > kMaxActivation) {
    s.fail(l.padding[0] + l.padding[1] > 0 ? "padding" : "kernel",
           "the output of " + std::to_string(oh) + "x" + std::to_string(ow) + " pixels times " +
               std::to_string(std::max<int64_t>(channels, rows)) + " values exceeds 2^26 per image",
           "use less padding, a larger stride, or fewer channels");
  }
  return {oh, ow};
}

void need_image(const BundleLayer& l, const Source& in, const YamlSection& s) {
  if (in.shape->size() != 3) {
    s.fail("type", std::string(layer_type_name(l.type)) + " needs a [C, H, W] input but " + in.text(),
           "place it before the flatten / global_avgpool, or take another input");
  }
}

// [C_i, H, W] inputs of equal H, W give [sum C_i, H, W]; flat [F_i] inputs give [sum F_i].
std::vector<int> concat_shape(const BundleLayer& l, const ModelBundle& b, const YamlSection& s) {
  const Source first = source_of(l.inputs[0], b);
  const std::vector<int>& shape = *first.shape;
  int64_t total = 0;
  for (int index : l.inputs) {
    const Source other = source_of(index, b);
    const bool fits = other.shape->size() == shape.size() &&
                      std::equal(other.shape->begin() + 1, other.shape->end(), shape.begin() + 1);
    if (!fits) {
      s.fail("inputs",
             "concat joins along the channels inputs of equal remaining sizes but " + first.text() + " and " +
                 other.text(),
             "concatenate tensors of equal height and width (or flat tensors)");
    }
    total += (*other.shape)[0];
  }
  if (total > (int64_t{1} << 30))
    s.fail("inputs", "the concatenation has " + std::to_string(total) + " channels", "at most 2^30");
  std::vector<int> out = shape;
  out[0] = int(total);
  return out;
}

}  // namespace

std::string shape_text(const std::vector<int>& shape) { return join(shape); }
std::string shape_text(const std::vector<int64_t>& shape) { return join(shape); }

void infer_output_shape(BundleLayer& l, const ModelBundle& b, const YamlSection& s) {
  const Source in = source_of(l.inputs[0], b);
  const std::vector<int>& shape = *in.shape;
  switch (l.type) {
    case LayerType::kConv2d: {
      need_image(l, in, s);
      if (l.in_channels != shape[0]) {
        s.fail("in_channels",
               std::to_string(l.in_channels) + " does not match the " + std::to_string(shape[0]) +
                   " channels of the input (" + in.text() + ")",
               "set in_channels: " + std::to_string(shape[0]) + " or take another input");
      }
      const std::vector<int> hw = window(l, in, s);
      l.output_shape = {l.out_channels, hw[0], hw[1]};
      break;
    }
    case LayerType::kLinear:
      if (shape.size() != 1) {
        s.fail("type", "linear needs a flat [F] input but " + in.text(),
               "add a flatten layer before it: - {name: flatten1, type: flatten}");
      }
      if (l.in_features != shape[0]) {
        s.fail("in_features",
               std::to_string(l.in_features) + " does not match the " + std::to_string(shape[0]) +
                   " features of the input (" + in.text() + ")",
               "set in_features: " + std::to_string(shape[0]) + " or take another input");
      }
      l.output_shape = {l.out_features};
      break;
    case LayerType::kBatchNorm:
      if (l.channels != shape[0]) {
        s.fail("channels",
               std::to_string(l.channels) + " does not match the " + std::to_string(shape[0]) +
                   (shape.size() == 3 ? " channels" : " features") + " of the input (" + in.text() + ")",
               "set channels: " + std::to_string(shape[0]) + " or take another input");
      }
      l.output_shape = shape;
      break;
    case LayerType::kMaxPool:
    case LayerType::kAvgPool: {
      need_image(l, in, s);
      const std::vector<int> hw = window(l, in, s);
      l.output_shape = {shape[0], hw[0], hw[1]};
      break;
    }
    case LayerType::kGlobalAvgPool:
      need_image(l, in, s);
      l.output_shape = {shape[0]};
      break;
    case LayerType::kFlatten: {
      const int64_t features = shape_elements(shape);
      if (features > (int64_t{1} << 30)) {
        s.fail("type", "flattening " + in.text() + " gives " + std::to_string(features) + " features",
               "downsample first: at most 2^30 features");
      }
      l.output_shape = {static_cast<int>(features)};
      break;
    }
    case LayerType::kAdd: {
      const Source other = source_of(l.inputs[1], b);
      if (*other.shape != shape) {
        s.fail("inputs", "add needs two inputs of the same shape but " + in.text() + " and " + other.text(),
               "add tensors of equal shape (a 1x1 conv2d can match the channels of a residual edge)");
      }
      l.output_shape = shape;
      break;
    }
    case LayerType::kConcat:
      l.output_shape = concat_shape(l, b, s);
      break;
    case LayerType::kRelu:
    case LayerType::kClip:
      l.output_shape = shape;
      break;
  }
}

}  // namespace cimsim::bundle_detail
