// lower_onnx: the ONNX graph, node by node in file order, onto bundle layers (float_graph.h): the
// operators that become layers, and the dispatch. Constant folding is in onnx_constants.cpp.
#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>

#include "import/lowering_detail.h"

namespace cimsim::onnx_import {
namespace detail {

const char* const kSupported[] = {
    "Conv",      "Gemm",       "MatMul",        "BatchNormalization", "Relu",     "Clip",
    "MaxPool",   "AveragePool", "GlobalAveragePool", "Add",           "Concat",   "Flatten",
    "Reshape",   "Identity",   "Dropout",       "Constant",           "Pad",      "Shape",
    "Gather",    "Unsqueeze",  "Squeeze",       "Cast",               "Mul",      "Sub",
    "Div",       "QuantizeLinear", "DequantizeLinear"};
const std::size_t kSupportedCount = sizeof(kSupported) / sizeof(kSupported[0]);

std::string shape_text(const std::vector<int>& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// A layer name from an ONNX name: "/layer1/layer1.0/conv1/Conv" -> "layer1_0_conv1",
// "conv1.weight" -> "conv1"; only letters, digits and '_' (names are --set path components).
std::string clean_name(std::string n, const std::string& op_type) {
  if (n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0) n.resize(n.size() - 7);
  const auto slash = n.rfind('/');
  if (slash != std::string::npos && n.substr(slash + 1).rfind(op_type, 0) == 0) n.resize(slash);
  std::string out;
  for (char ch : n) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) != 0;
    if (keep) out += ch;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  const auto first_keep = out.find_first_not_of('_');
  out = first_keep == std::string::npos ? std::string() : out.substr(first_keep);
  if (out.empty() || out == "input") out = op_type;
  std::transform(out.begin(), out.begin() + 1, out.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return out;
}
void Lowering::lower_conv(const Node& n) {
  const Value& x = activation(n, 0);
  const ConstTensor& w = constant(n, 1, "weight");
  if (x.shape.size() != 3) fail(n, "needs a [C, H, W] input but gets " + shape_text(x.shape), "check the graph");
  if (w.shape.size() != 4) fail(n, "weight of rank " + std::to_string(w.shape.size()), "the importer supports 2-D convolutions");
  for (int64_t d : w.shape)
    if (d < 1) fail(n, "a weight dimension of 0", "export the model again");
  const int64_t groups = integer(n, "group", 1);
  const int c = x.shape[0];
  if (groups < 1 || c % groups != 0 || w.shape[1] * groups != c || w.shape[0] % groups != 0)
    fail(n, "weight " + std::to_string(w.shape[0]) + "x" + std::to_string(w.shape[1]) + " with group " +
                std::to_string(groups) + " does not fit " + std::to_string(c) + " input channels",
         "export it again");
  const Value xv = x;  // copy: set_output may rehash
  const std::string weight_name = n.inputs[1];
  const Value wv = value(weight_name, &n);
  const ConstTensor wc = w;
  std::vector<double> bias(std::size_t(wc.shape[0]), 0.0);
  if (has_input(n, 2)) {
    const ConstTensor& b = constant(n, 2, "bias");
    if (b.size() != wc.shape[0]) fail(n, "bias of " + std::to_string(b.size()) + " values", "export it again");
    bias = b.values;
  }
  BundleLayer geometry;
  window(n, geometry, ints(n, "kernel_shape", {wc.shape[2], wc.shape[3]}));
  if (geometry.kernel[0] != wc.shape[2] || geometry.kernel[1] != wc.shape[3])
    fail(n, "kernel_shape differs from the weight's", "export it again");
  geometry.padding[0] += xv.pad[0];
  geometry.padding[1] += xv.pad[1];
  const std::vector<int> shape = window_shape(n, geometry, xv.shape, int(wc.shape[0]));
  FloatLayer& f = add_layer(n, LayerType::kConv2d, {&xv}, shape, weight_name);
  BundleLayer& l = f.layer;
  l.kernel = geometry.kernel;
  l.stride = geometry.stride;
  l.padding = geometry.padding;
  l.in_channels = c;
  l.out_channels = int(wc.shape[0]);
  l.groups = int(groups);
  f.weight = wc.values;
  f.bias = bias;
  f.weight_steps = wv.qdq_steps;
  if (!f.weight_steps.empty() && f.weight_steps.size() != 1 && int64_t(f.weight_steps.size()) != wc.shape[0])
    fail(n, std::to_string(f.weight_steps.size()) + " DequantizeLinear steps for " + std::to_string(wc.shape[0]) + " outputs",
         "quantize the weight per tensor or per output channel (axis 0)");
  f.input_step = xv.step;
  f.nonnegative = false;
}

void Lowering::lower_linear(const Node& n, bool gemm) {
  const Value xv = activation(n, 0);
  const ConstTensor b = constant(n, 1, "weight");
  const std::string weight_name = n.inputs[1];
  const Value wv = value(weight_name, &n);
  if (xv.shape.size() != 1) fail(n, "needs a flat [F] input but gets " + shape_text(xv.shape), "flatten first (torch.flatten(x, 1))");
  if (b.shape.size() != 2 || b.shape[0] < 1 || b.shape[1] < 1)
    fail(n, "weight of rank " + std::to_string(b.shape.size()) + " or with a dimension of 0", "use a 2-D weight");
  const bool trans_b = gemm && integer(n, "transB", 0) != 0;
  if (gemm && integer(n, "transA", 0) != 0) fail(n, "transA = 1", "the importer supports Gemm with transA = 0");
  const double alpha = gemm ? real(n, "alpha", 1.0) : 1.0, beta = gemm ? real(n, "beta", 1.0) : 1.0;
  const int64_t in = trans_b ? b.shape[1] : b.shape[0], out = trans_b ? b.shape[0] : b.shape[1];
  if (in != xv.shape[0]) fail(n, "weight for " + std::to_string(in) + " inputs but the input has " + std::to_string(xv.shape[0]), "check the graph");
  std::vector<double> w(std::size_t(in * out));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < in; ++k)
      w[std::size_t(o * in + k)] = alpha * (trans_b ? b.values[std::size_t(o * in + k)] : b.values[std::size_t(k * out + o)]);
  std::vector<double> bias(std::size_t(out), 0.0);
  if (gemm && has_input(n, 2)) {
    const ConstTensor& c = constant(n, 2, "bias");
    if (c.size() != out && c.size() != 1) fail(n, "bias of " + std::to_string(c.size()) + " values", "use one bias per output");
    for (int64_t o = 0; o < out; ++o) bias[std::size_t(o)] = beta * c.values[std::size_t(c.size() == 1 ? 0 : o)];
  }
  std::vector<double> steps = wv.qdq_steps;
  if (!steps.empty() && !trans_b && steps.size() != 1)
    fail(n, "per-channel DequantizeLinear steps on a MatMul weight", "quantize the weight per tensor or use Gemm with transB");
  if (!steps.empty() && steps.size() != 1 && int64_t(steps.size()) != out)
    fail(n, std::to_string(steps.size()) + " DequantizeLinear steps for " + std::to_string(out) + " outputs",
         "quantize the weight per tensor or per output channel");
  for (double& st : steps) st *= std::fabs(alpha);  // alpha scales the weights, so their grid too
  FloatLayer& f = add_layer(n, LayerType::kLinear, {&xv}, {int(out)}, weight_name);
  f.layer.in_features = int(in);
  f.layer.out_features = int(out);
  f.weight = std::move(w);
  f.bias = std::move(bias);
  f.weight_steps = steps;
  f.input_step = xv.step;
  f.nonnegative = false;
}

void Lowering::lower_batchnorm(const Node& n) {
  const Value xv = activation(n, 0);
  const ConstTensor &gamma = constant(n, 1, "scale"), &beta = constant(n, 2, "bias"),
                    &mean = constant(n, 3, "mean"), &var = constant(n, 4, "var");
  const double eps = real(n, "epsilon", 1e-5);
  const int64_t c = xv.shape[0];
  for (const ConstTensor* t : {&gamma, &beta, &mean, &var})
    if (t->size() != c) fail(n, "parameters of " + std::to_string(t->size()) + " values for " + std::to_string(c) + " channels", "export it again");
  std::vector<double> scale(static_cast<std::size_t>(c)), shift(static_cast<std::size_t>(c));
  for (std::size_t i = 0; i < std::size_t(c); ++i) {
    scale[i] = gamma.values[i] / std::sqrt(var.values[i] + eps);
    shift[i] = beta.values[i] - mean.values[i] * scale[i];
  }
  if (FloatLayer* f = foldable(n, xv); f && f->weight_steps.empty()) {
    // Folded: w'[o] = w[o] * scale[o], b'[o] = b[o] * scale[o] + shift[o].
    const std::size_t per = f->weight.size() / std::size_t(c);
    for (std::size_t o = 0; o < std::size_t(c); ++o) {
      for (std::size_t k = 0; k < per; ++k) f->weight[o * per + k] *= scale[o];
      f->bias[o] = f->bias[o] * scale[o] + shift[o];
    }
    set_output(n, xv);
    return;
  }
  FloatLayer& f = add_layer(n, LayerType::kBatchNorm, {&xv}, xv.shape);
  f.layer.channels = int(c);
  f.layer.bn_scale = scale;
  f.layer.bn_shift = shift;
  f.nonnegative = false;
}

void Lowering::lower_add(const Node& n) {
  const Value &a = input(n, 0), &b = input(n, 1);
  if (a.is_const && b.is_const) return lower_elementwise_const(n);
  if (!a.is_const && !b.is_const) {
    const Value av = activation(n, 0), bv = activation(n, 1);
    if (av.shape != bv.shape) fail(n, "adds " + shape_text(av.shape) + " and " + shape_text(bv.shape), "add tensors of one shape");
    add_layer(n, LayerType::kAdd, {&av, &bv}, av.shape);
    return;
  }
  // A constant added to a conv / linear output: its bias.
  const std::size_t act_index = a.is_const ? 1 : 0;
  const Value xv = activation(n, act_index);
  const ConstTensor c = (a.is_const ? a : b).c;
  FloatLayer* f = xv.layer >= 0 && readers(xv.layer) == 1 ? &g_.layers[std::size_t(xv.layer)] : nullptr;
  if (!f || !f->layer.is_cim() || std::size_t(xv.layer) + 1 != g_.layers.size())
    fail(n, "adds a constant to an activation that is not a Conv / Gemm / MatMul output read only here",
         "the importer folds a constant Add only into the bias of the layer before it");
  const int64_t out = int64_t(f->bias.size());
  // Per channel: a conv output takes [C, 1, 1] or [1, C, 1, 1] (ONNX broadcasts a [C] along W), a
  // linear one [F] or [1, F]; one value is every channel's.
  std::vector<int64_t> dims;
  for (int64_t d : c.shape)
    if (d != 1) dims.push_back(d);
  const bool trailing_ones = c.shape.size() >= 2 && c.shape[c.shape.size() - 1] == 1 && c.shape[c.shape.size() - 2] == 1;
  const bool per_channel = c.size() == out && dims.size() <= 1 &&
                           (f->layer.type == LayerType::kLinear ? c.shape.back() == out || out == 1 : trailing_ones);
  if (c.size() != 1 && !per_channel)
    fail(n, "adds a constant of " + std::to_string(c.size()) + " values (shape of rank " + std::to_string(c.shape.size()) +
                ") to " + std::to_string(out) + " channels",
         "use one value per channel ([C, 1, 1] after a Conv, [F] after a Gemm/MatMul)");
  for (int64_t o = 0; o < out; ++o) f->bias[std::size_t(o)] += c.values[std::size_t(c.size() == 1 ? 0 : o)];
  set_output(n, xv);
}
void Lowering::lower_clip(const Node& n) {
  const Value xv = activation(n, 0);
  double lo = -std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::max();
  if (m_.opset >= 11 || has_input(n, 1) || has_input(n, 2)) {
    if (has_input(n, 1)) lo = scalar(n, 1, "min");
    if (has_input(n, 2)) hi = scalar(n, 2, "max");
  } else {
    lo = real(n, "min", lo);
    hi = real(n, "max", hi);
  }
  if (!(lo < hi)) fail(n, "min is not below max", "check the model");
  if (lo == 0 && hi == std::numeric_limits<double>::max()) {
    add_layer(n, LayerType::kRelu, {&xv}, xv.shape).nonnegative = true;
    return;
  }
  FloatLayer& f = add_layer(n, LayerType::kClip, {&xv}, xv.shape);
  f.layer.clip_min = lo;
  f.layer.clip_max = hi;
  f.nonnegative = lo >= 0 || f.nonnegative;
}

void Lowering::lower_pool(const Node& n) {
  const std::string& op = n.op_type;
  const Value xv = activation(n, 0);
  if (op == "GlobalAveragePool") {
    if (xv.shape.size() != 3) fail(n, "needs a [C, H, W] input", "check the graph");
    add_layer(n, LayerType::kGlobalAvgPool, {&xv}, {xv.shape[0]});
    return;
  }
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) fail(n, "returns indices", "use MaxPool without return_indices");
  BundleLayer geometry;
  window(n, geometry, ints(n, "kernel_shape", {}));
  if (op == "AveragePool" && (geometry.padding[0] || geometry.padding[1]))
    fail(n, "AveragePool with padding", "the importer supports average pooling without padding");
  if (op == "MaxPool" && (2 * geometry.padding[0] > geometry.kernel[0] || 2 * geometry.padding[1] > geometry.kernel[1]))
    fail(n, "padding above half the kernel", "use padding <= kernel / 2");
  const std::vector<int> shape = window_shape(n, geometry, xv.shape, xv.shape[0]);
  FloatLayer& f = add_layer(n, op == "MaxPool" ? LayerType::kMaxPool : LayerType::kAvgPool, {&xv}, shape);
  f.layer.kernel = geometry.kernel;
  f.layer.stride = geometry.stride;
  f.layer.padding = geometry.padding;
}

void Lowering::lower_concat(const Node& n) {
  if (n.inputs.size() == 1) return set_output(n, activation(n, 0));
  std::vector<Value> parts;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) parts.push_back(activation(n, i));
  const int64_t rank = int64_t(parts[0].shape.size()) + 1;
  int64_t axis = integer(n, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis != 1) fail(n, "axis " + std::to_string(integer(n, "axis", 1)), "the importer concatenates along the channels (dim 1)");
  std::vector<int> shape = parts[0].shape;
  shape[0] = 0;
  std::vector<const Value*> ptrs;
  for (const Value& p : parts) {
    if (p.shape.size() != parts[0].shape.size() || !std::equal(p.shape.begin() + 1, p.shape.end(), parts[0].shape.begin() + 1))
      fail(n, "concatenates " + shape_text(parts[0].shape) + " and " + shape_text(p.shape), "concatenate tensors of equal height and width");
    shape[0] += p.shape[0];
    ptrs.push_back(&p);
  }
  add_layer(n, LayerType::kConcat, ptrs, shape);
}

void Lowering::lower_pad(const Node& n) {
  Value xv = activation(n, 0);
  const std::string mode = n.has("mode") ? n.attributes.at("mode").s : "constant";
  std::vector<int64_t> pads = ints(n, "pads", {});
  if (has_input(n, 1))
    for (int64_t p : wholes(n, constant(n, 1, "pads"), "pad")) pads.push_back(p);
  double fill = real(n, "value", 0.0);
  if (has_input(n, 2)) fill = scalar(n, 2, "constant value");
  if (mode != "constant" || fill != 0) fail(n, "mode " + mode + " with value " + std::to_string(fill), "the importer folds zero padding only");
  if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0 ||
      pads[2] > (int64_t{1} << 16) || pads[3] > (int64_t{1} << 16))
    fail(n, "padding other than equal zero rows and columns on both sides", "pad H and W symmetrically");
  xv.pad[0] += int(pads[2]);
  xv.pad[1] += int(pads[3]);
  set_output(n, xv);
}

void Lowering::lower_flatten(const Node& n) {
  const Value xv = activation(n, 0);
  if (integer(n, "axis", 1) != 1) fail(n, "axis " + std::to_string(integer(n, "axis", 1)), "flatten from axis 1 (torch.flatten(x, 1))");
  if (xv.shape.size() == 1) return set_output(n, xv);
  add_layer(n, LayerType::kFlatten, {&xv}, {int(shape_elements(xv.shape))});
}
void Lowering::lower(const Node& n) {
  const std::string& op = n.op_type;
  if (!n.domain.empty() && n.domain != "ai.onnx")
    fail(n, "operator of domain '" + n.domain + "'", "the importer reads standard ONNX operators");
  if (op == "Constant") return lower_constant(n);
  if (op == "Identity" || op == "Dropout") return set_output(n, Value(input(n, 0)));
  if ((op == "Softmax" || op == "LogSoftmax") && !n.outputs.empty() && n.outputs[0] == m_.output) {
    // A final softmax changes no prediction: the bundle ends with the logits before it.
    spdlog::warn("{}: node '{}' ({}) ends the graph; the bundle outputs the logits before it (same predictions)",
                 m_.path, n.name, op);
    return set_output(n, Value(activation(n, 0)));
  }
  if (op == "Conv") return lower_conv(n);
  if (op == "Gemm" || op == "MatMul") return lower_linear(n, op == "Gemm");
  if (op == "BatchNormalization") return lower_batchnorm(n);
  if (op == "Add") return lower_add(n);
  if (op == "Sub" || op == "Mul" || op == "Div") return lower_elementwise_const(n);
  if (op == "Reshape") return lower_reshape(n);
  if (op == "QuantizeLinear" || op == "DequantizeLinear") return lower_qdq(n, op == "QuantizeLinear");
  if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Squeeze" || op == "Cast" ||
      (op == "Concat" && input(n, 0).is_const))
    return lower_shape_ops(n);
  if (op == "Relu") {
    const Value xv = activation(n, 0);
    add_layer(n, LayerType::kRelu, {&xv}, xv.shape).nonnegative = true;
    return;
  }
  if (op == "Clip") return lower_clip(n);
  if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") return lower_pool(n);
  if (op == "Flatten") return lower_flatten(n);
  if (op == "Concat") return lower_concat(n);
  if (op == "Pad") return lower_pad(n);
  std::string list;
  for (const char* s : kSupported) list += (list.empty() ? "" : ", ") + std::string(s);
  fail(n, "operator " + op + " is not supported", "supported: " + list);
}
}  // namespace detail

const std::vector<std::string>& supported_operators() {
  static const std::vector<std::string> names(detail::kSupported, detail::kSupported + detail::kSupportedCount);
  return names;
}

FloatGraph lower_onnx(const OnnxModel& model, bool input_nonnegative) {
  return detail::Lowering(model, input_nonnegative).run();
}

}  // namespace cimsim::onnx_import
