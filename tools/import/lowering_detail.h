// Internal to the ONNX lowering (onnx_lowering.cpp: the layer operators; onnx_constants.cpp: the
// constant folding): the state of lower_onnx while it walks the graph. Not for other users.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "import/float_graph.h"

namespace cimsim::onnx_import::detail {

// What a tensor name of the graph holds while lowering: a constant, or an activation (the output of
// `layer`, -1 the network input) of shape [C, H, W] or [F] per image, with what the nodes between
// left pending on it.
struct Value {
  bool is_const = false;
  ConstTensor c;
  std::vector<double> qdq_steps;  // a constant dequantized by DequantizeLinear: its steps
  int layer = -1;
  std::vector<int> shape;
  std::array<int, 2> pad{{0, 0}};  // a Pad waiting for the Conv that reads it
  double step = 0;                 // a QuantizeLinear's step on this activation
};

// The operators lower_onnx accepts, in the order messages list them.
extern const char* const kSupported[];
extern const std::size_t kSupportedCount;

std::string shape_text(const std::vector<int>& s);
// A layer name from an ONNX name (onnx_lowering.cpp).
std::string clean_name(std::string n, const std::string& op_type);
// Elementwise Add / Sub / Mul / Div of constants (equal sizes or one scalar); ok false otherwise.
ConstTensor elementwise(const ConstTensor& a, const ConstTensor& b, const std::string& op, bool& ok);

class Lowering {
 public:
  Lowering(const OnnxModel& m, bool input_nonnegative) : m_(m) {
    Value in;
    in.layer = -1;
    in.shape = {int(m.input_shape[1]), int(m.input_shape[2]), int(m.input_shape[3])};
    values_[m.input] = in;
    input_nonnegative_ = input_nonnegative;
    for (const auto& [name, t] : m.initializers) {
      Value v;
      v.is_const = true;
      v.c = t;
      values_[name] = v;
    }
    for (const Node& n : m.nodes)
      for (const auto& i : n.inputs) ++uses_[i];
    ++uses_[m.output];
  }

  FloatGraph run() {
    g_.name = m_.graph_name.empty() ? "imported" : m_.graph_name;
    g_.input_shape = values_[m_.input].shape;
    g_.input_nonnegative = input_nonnegative_;
    for (const Node& n : m_.nodes) lower(n);
    const Value& out = value(m_.output, nullptr);
    if (out.is_const || out.layer < 0 || out.shape.size() != 1) {
      throw InputError(m_.path + ": the graph output '" + m_.output + "' is " +
                       (out.is_const ? std::string("a constant")
                                     : "of shape " + shape_text(out.shape) + " per image") +
                       "; the importer needs the [classes] logits of the last layer (end with Gemm/Linear "
                       "or flatten the output)");
    }
    if (std::size_t(out.layer) + 1 != g_.layers.size()) {
      throw InputError(m_.path + ": the graph output '" + m_.output + "' is not computed by the last node; "
                       "the importer needs the logits to be the graph's last result");
    }
    g_.classes = out.shape[0];
    return std::move(g_);
  }

 private:
  [[noreturn]] void fail(const Node& n, const std::string& problem, const std::string& fix) const {
    throw InputError(m_.path + ": node '" + n.name + "' (" + n.op_type + "): " + problem + "; " + fix);
  }

  Value& value(const std::string& name, const Node* n) {
    auto it = values_.find(name);
    if (it == values_.end()) {
      if (n) fail(*n, "input '" + name + "' is not an initializer or an earlier node's output",
                  "the graph is incomplete (a missing initializer?) or not in topological order: export it again");
      throw InputError(m_.path + ": '" + name + "' is not computed by the graph; export it again");
    }
    return it->second;
  }
  const Value& input(const Node& n, std::size_t i) {
    if (i >= n.inputs.size() || n.inputs[i].empty()) fail(n, "input " + std::to_string(i) + " is missing", "export it again");
    return value(n.inputs[i], &n);
  }
  bool has_input(const Node& n, std::size_t i) const { return i < n.inputs.size() && !n.inputs[i].empty(); }
  const Value& activation(const Node& n, std::size_t i) {
    const Value& v = input(n, i);
    if (v.is_const) fail(n, "input '" + n.inputs[i] + "' is a constant where an activation is expected",
                         "the importer runs networks whose layers act on the image");
    if ((v.pad[0] || v.pad[1]) && n.op_type != "Conv")
      fail(n, "reads a Pad output", "the importer folds Pad only into the Conv right after it");
    return v;
  }
  const ConstTensor& constant(const Node& n, std::size_t i, const std::string& what) {
    const Value& v = input(n, i);
    if (!v.is_const) fail(n, what + " '" + n.inputs[i] + "' is computed from the image", "the importer needs it constant (an initializer)");
    return v.c;
  }
  // A constant input holding one value.
  double scalar(const Node& n, std::size_t i, const std::string& what) {
    const ConstTensor& c = constant(n, i, what);
    if (c.values.size() != 1) fail(n, what + " holds " + std::to_string(c.values.size()) + " values", "give one value");
    return c.values[0];
  }
  // A constant's value used as a shape, index, axis or pad: a whole number within +-2^40, else the node fails.
  int64_t whole(const Node& n, double v, const std::string& what) {
    if (!(std::fabs(v) <= double(int64_t(1) << 40)) || v != std::trunc(v))
      fail(n, what + " " + std::to_string(v), "give whole numbers within +-2^40 (export it again)");
    return int64_t(v);
  }
  std::vector<int64_t> wholes(const Node& n, const ConstTensor& c, const std::string& what) {
    std::vector<int64_t> r;
    for (double v : c.values) r.push_back(whole(n, v, what));
    return r;
  }
  std::vector<int64_t> ints(const Node& n, const std::string& a, std::vector<int64_t> fallback) const {
    auto it = n.attributes.find(a);
    return it == n.attributes.end() ? fallback : it->second.ints;
  }
  int64_t integer(const Node& n, const std::string& a, int64_t fallback) const {
    auto it = n.attributes.find(a);
    return it == n.attributes.end() ? fallback : it->second.i;
  }
  double real(const Node& n, const std::string& a, double fallback) const {
    auto it = n.attributes.find(a);
    return it == n.attributes.end() ? fallback : it->second.f;
  }
  void set_output(const Node& n, Value v) {
    if (n.outputs.empty()) fail(n, "has no output", "export it again");
    if (!v.is_const && v.layer >= 0) {
      // A second name of a layer's output is an alias made by a pass-through node (Identity, a
      // folded bias, ...): that node's read of the layer does not count as a reader.
      std::vector<std::string>& names = names_of_layer_[v.layer];
      if (!names.empty()) ++pass_through_reads_[v.layer];
      names.push_back(n.outputs[0]);
    }
    values_[n.outputs[0]] = std::move(v);
  }
  // The nodes that read layer `layer`'s output under any of its names, pass-through nodes excepted.
  int readers(int layer) {
    int count = 0;
    for (const std::string& name : names_of_layer_[layer]) count += uses_[name];
    return count - pass_through_reads_[layer];
  }
  void set_const(const Node& n, ConstTensor c) {
    if (int64_t(c.values.size()) != c.size())
      fail(n, "a constant of shape " + std::to_string(c.size()) + " elements holds " + std::to_string(c.values.size()) +
                  " values",
           "the graph is corrupt or uses a constant form the importer does not read: export it again");
    Value v;
    v.is_const = true;
    v.c = std::move(c);
    set_output(n, std::move(v));
  }

  std::string unique(std::string name) {
    std::string out = name;
    for (int i = 2; used_names_.count(out); ++i) out = name + "_" + std::to_string(i);
    used_names_.insert(out);
    return out;
  }

  // Appends a layer reading `inputs` (value names) and makes it the node's output.
  FloatLayer& add_layer(const Node& n, LayerType type, const std::vector<const Value*>& inputs,
                        std::vector<int> shape, const std::string& name_hint = "") {
    FloatLayer f;
    f.node = n.name;
    // A CIM layer is named after its weight ("layer1.0.conv1.weight" -> "layer1_0_conv1") unless the
    // exporter generated that name ("onnx::Conv_123", after folding a batch norm): then the node's.
    const bool generated = name_hint.empty() || name_hint.find("::") != std::string::npos;
    f.layer.name = unique(clean_name(generated ? n.name : name_hint, n.op_type));
    f.layer.type = type;
    for (const Value* v : inputs) f.layer.inputs.push_back(v->layer);
    f.layer.output_shape = shape;
    bool all_nonneg = true;
    for (const Value* v : inputs) all_nonneg = all_nonneg && nonneg(v->layer);
    f.nonnegative = all_nonneg;  // pooling, flatten, concat, add: non-negative in, non-negative out
    g_.layers.push_back(std::move(f));
    Value out;
    out.layer = int(g_.layers.size()) - 1;
    out.shape = std::move(shape);
    set_output(n, out);
    return g_.layers.back();
  }
  bool nonneg(int layer) const { return layer < 0 ? input_nonnegative_ : g_.layers[std::size_t(layer)].nonnegative; }

  // Window geometry of Conv / MaxPool / AveragePool; pads must be equal on both sides.
  void window(const Node& n, BundleLayer& l, const std::vector<int64_t>& kernel) {
    const std::string auto_pad = n.has("auto_pad") ? n.attributes.at("auto_pad").s : "NOTSET";
    if (auto_pad != "NOTSET" && auto_pad != "VALID")
      fail(n, "auto_pad " + auto_pad + " is not supported", "export with explicit padding (padding=k//2 in PyTorch)");
    for (int64_t d : ints(n, "dilations", {1, 1}))
      if (d != 1) fail(n, "dilation " + std::to_string(d), "the importer supports dilation 1 only");
    if (integer(n, "ceil_mode", 0) != 0) fail(n, "ceil_mode 1", "use ceil_mode=False");
    const std::vector<int64_t> strides = ints(n, "strides", {1, 1});
    const std::vector<int64_t> pads = ints(n, "pads", {0, 0, 0, 0});
    if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4)
      fail(n, "not a 2-D window", "the importer supports 2-D convolution and pooling");
    if (pads[0] != pads[2] || pads[1] != pads[3])
      fail(n, "asymmetric padding [" + std::to_string(pads[0]) + ", " + std::to_string(pads[1]) + ", " +
                  std::to_string(pads[2]) + ", " + std::to_string(pads[3]) + "]",
           "use the same padding on both sides");
    for (const std::vector<int64_t>* v : {&kernel, &strides, &pads})
      for (int64_t d : *v)
        if (d < 0 || d > (int64_t{1} << 16)) fail(n, "window size, stride or pad " + std::to_string(d), "give values from 0 to 65536");
    l.kernel = {{int(kernel[0]), int(kernel[1])}};
    l.stride = {{int(strides[0]), int(strides[1])}};
    l.padding = {{int(pads[0]), int(pads[1])}};
  }
  std::vector<int> window_shape(const Node& n, const BundleLayer& l, const std::vector<int>& in, int channels) {
    if (in.size() != 3) fail(n, "needs a [C, H, W] input but gets " + shape_text(in), "check the graph");
    const int ph = in[1] + 2 * l.padding[0], pw = in[2] + 2 * l.padding[1];
    if (l.kernel[0] > ph || l.kernel[1] > pw || l.kernel[0] < 1 || l.kernel[1] < 1 || l.stride[0] < 1 || l.stride[1] < 1)
      fail(n, "window does not fit its " + shape_text(in) + " input", "check the graph");
    return {channels, (ph - l.kernel[0]) / l.stride[0] + 1, (pw - l.kernel[1]) / l.stride[1] + 1};
  }

  // The producer layer of activation `v` if it is a CIM layer read by this node only (fold target).
  FloatLayer* foldable(const Node& n, const Value& v) {
    (void)n;
    if (v.layer < 0 || readers(v.layer) != 1) return nullptr;
    FloatLayer& f = g_.layers[std::size_t(v.layer)];
    return f.layer.is_cim() && int(g_.layers.size()) - 1 == v.layer ? &f : nullptr;
  }

  void lower(const Node& n);
  void lower_conv(const Node& n);
  void lower_linear(const Node& n, bool gemm);
  void lower_batchnorm(const Node& n);
  void lower_add(const Node& n);
  void lower_elementwise_const(const Node& n);
  void lower_reshape(const Node& n);
  void lower_qdq(const Node& n, bool quantize);
  void lower_shape_ops(const Node& n);
  void lower_constant(const Node& n);
  void lower_clip(const Node& n);
  void lower_pool(const Node& n);
  void lower_concat(const Node& n);
  void lower_pad(const Node& n);
  void lower_flatten(const Node& n);

  const OnnxModel& m_;
  bool input_nonnegative_ = false;
  std::map<std::string, Value> values_;
  std::map<std::string, int> uses_;
  std::map<int, std::vector<std::string>> names_of_layer_;
  std::map<int, int> pass_through_reads_;
  std::set<std::string> used_names_;
  FloatGraph g_;
};

}  // namespace cimsim::onnx_import::detail
