// lower_onnx's constant folding (lowering_detail.h): Constant, the Shape/Gather/Unsqueeze/Concat/Cast
// chains around a Reshape, arithmetic on constants, Reshape, and QuantizeLinear/DequantizeLinear.
#include <cmath>

#include "import/lowering_detail.h"

namespace cimsim::onnx_import::detail {

ConstTensor elementwise(const ConstTensor& a, const ConstTensor& b, const std::string& op, bool& ok) {
  ok = a.size() == b.size() || a.size() == 1 || b.size() == 1;
  ConstTensor r = a.size() >= b.size() ? a : b;
  r.integral = a.integral && b.integral;
  if (!ok) return r;
  for (int64_t i = 0; i < r.size(); ++i) {
    const double x = a.values[std::size_t(a.size() == 1 ? 0 : i)], y = b.values[std::size_t(b.size() == 1 ? 0 : i)];
    double v = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
    if (op == "Div" && r.integral) v = std::trunc(v);
    r.values[std::size_t(i)] = v;
  }
  return r;
}
void Lowering::lower_elementwise_const(const Node& n) {
  const Value &a = input(n, 0), &b = input(n, 1);
  if (!a.is_const || !b.is_const)
    fail(n, n.op_type + " of an activation", "the importer supports " + n.op_type + " on constants only (Add also on two activations or for a bias)");
  bool ok = false;
  ConstTensor r = elementwise(a.c, b.c, n.op_type, ok);
  if (!ok) fail(n, "operands of " + std::to_string(a.c.size()) + " and " + std::to_string(b.c.size()) + " elements", "the importer folds equal sizes or scalars");
  set_const(n, std::move(r));
}
void Lowering::lower_reshape(const Node& n) {
  const Value& x = input(n, 0);
  const std::vector<int64_t> t = wholes(n, constant(n, 1, "shape"), "reshape target");
  if (x.is_const) {
    ConstTensor r = x.c;
    r.shape.clear();
    int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < t.size(); ++i) {
      int64_t d = t[i];
      if (d == 0 && i < x.c.shape.size()) d = x.c.shape[i];
      if (d < -1) fail(n, "reshape target " + std::to_string(d), "give sizes >= 0 or one -1");
      if (d == -1) infer = int64_t(i);
      else if (d > 0 && known > std::max<int64_t>(x.c.size(), 1) / d) fail(n, "reshapes a constant of " + std::to_string(x.c.size()) + " elements to more", "export it again");
      else known *= d;
      r.shape.push_back(d);
    }
    if (infer >= 0) r.shape[std::size_t(infer)] = known ? x.c.size() / known : 0;
    return set_const(n, std::move(r));
  }
  const Value xv = activation(n, 0);
  const int64_t features = shape_elements(xv.shape);
  // [batch, F] with batch 0 (copy), -1, or 1 (the importer's batch placeholder of Shape), F = -1 or all.
  const bool batch_ok = !t.empty() && (t[0] == 0 || t[0] == -1 || t[0] == 1);
  if (t.size() == 2 && batch_ok && (t[1] == -1 || t[1] == features)) {
    if (xv.shape.size() == 1) return set_output(n, xv);
    add_layer(n, LayerType::kFlatten, {&xv}, {int(features)});
    return;
  }
  std::string text;
  for (int64_t d : t) text += (text.empty() ? "" : ", ") + std::to_string(d);
  fail(n, "reshapes " + shape_text(xv.shape) + " to [" + text + "]",
       "the importer supports Reshape to 2-D [batch, features] only (x.view(x.size(0), -1))");
}
void Lowering::lower_qdq(const Node& n, bool quantize) {
  const Value& x = input(n, 0);
  const ConstTensor& scale = constant(n, 1, "scale");
  std::vector<double> zero(1, 0.0);
  int zero_type = 2;  // uint8 when the zero point is left out
  if (has_input(n, 2)) {
    zero = constant(n, 2, "zero point").values;
    zero_type = constant(n, 2, "zero point").data_type;
  }
  for (double z : zero)
    if (z != 0) fail(n, "zero point " + std::to_string(z), "the importer keeps symmetric quantization (zero point 0) only");
  if (scale.values.empty()) fail(n, "an empty scale", "export the model again");
  for (double s : scale.values)
    if (!(s > 0) || !std::isfinite(s)) fail(n, "scale " + std::to_string(s), "scales must be positive");
  if (x.is_const) {
    ConstTensor r = x.c;
    int64_t axis = integer(n, "axis", 1);
    if (axis < 0) axis += int64_t(r.shape.size());
    const int64_t channels = scale.size();
    if (channels != 1 && (axis < 0 || axis >= int64_t(r.shape.size()) || r.shape[std::size_t(axis)] != channels))
      fail(n, std::to_string(channels) + " steps along axis " + std::to_string(integer(n, "axis", 1)) + " of a tensor of rank " +
                  std::to_string(r.shape.size()),
           "give one step, or one per entry of the axis");
    int64_t inner = 1;
    if (channels != 1)
      for (std::size_t d = std::size_t(axis) + 1; d < r.shape.size(); ++d) inner *= r.shape[d];
    for (int64_t i = 0; i < r.size(); ++i) {
      const double s = scale.values[std::size_t(channels == 1 ? 0 : (i / inner) % channels)];
      double& v = r.values[std::size_t(i)];
      v = quantize ? std::nearbyint(v / s) : v * s;
    }
    Value out;
    out.is_const = true;
    out.c = std::move(r);
    if (!quantize) {
      if (channels != 1 && axis != 0) fail(n, "per-channel steps along axis " + std::to_string(axis), "quantize weights per output channel (axis 0)");
      out.qdq_steps = scale.values;
    }
    return set_output(n, std::move(out));
  }
  Value xv = activation(n, 0);
  if (scale.size() != 1) fail(n, "per-channel activation steps", "quantize activations per tensor");
  if (!quantize) return set_output(n, xv);
  // QuantizeLinear saturates: to [0, 255 s] (uint8) or [-128 s, 127 s] (int8), a clip layer here
  // (the uint8 one an implied ReLU), whose output the next CIM layer quantizes with step s.
  const double s = scale.values[0];
  const bool is_unsigned = zero_type == 2;
  if (zero_type != 2 && zero_type != 3)
    fail(n, "a zero point of data type " + std::to_string(zero_type), "quantize activations to uint8 or int8");
  FloatLayer& f = add_layer(n, LayerType::kClip, {&xv}, xv.shape);
  f.layer.clip_min = is_unsigned ? 0.0 : -128.0 * s;
  f.layer.clip_max = (is_unsigned ? 255.0 : 127.0) * s;
  f.nonnegative = is_unsigned || f.nonnegative;
  values_[n.outputs[0]].step = s;
}

void Lowering::lower_shape_ops(const Node& n) {
  const std::string& op = n.op_type;
  if (op == "Shape") {
    const Value& x = input(n, 0);
    ConstTensor c;
    c.integral = true;
    if (x.is_const) {
      for (int64_t d : x.c.shape) c.values.push_back(double(d));
    } else {
      c.values.push_back(1);  // the batch placeholder
      for (int d : x.shape) c.values.push_back(d);
    }
    c.shape = {int64_t(c.values.size())};
    return set_const(n, std::move(c));
  }
  const ConstTensor& x = constant(n, 0, "data");
  ConstTensor r = x;
  if (op == "Gather") {
    const ConstTensor& idx = constant(n, 1, "indices");
    if (x.shape.size() > 1 || integer(n, "axis", 0) != 0) fail(n, "gathers from a tensor of rank " + std::to_string(x.shape.size()), "the importer folds Gather on 1-D constants");
    r.values.clear();
    for (int64_t i : wholes(n, idx, "index")) {
      const int64_t k = i < 0 ? i + x.size() : i;
      if (k < 0 || k >= x.size()) fail(n, "index out of range", "export it again");
      r.values.push_back(x.values[std::size_t(k)]);
    }
    r.shape = idx.shape;
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes = ints(n, "axes", {});
    if (has_input(n, 1)) for (int64_t a : wholes(n, constant(n, 1, "axes"), "axis")) axes.push_back(a);
    if (op == "Unsqueeze") {
      for (int64_t a : axes) {
        const int64_t rank = int64_t(r.shape.size()) + 1;
        const int64_t at = a < 0 ? a + rank : a;
        r.shape.insert(r.shape.begin() + std::min<int64_t>(std::max<int64_t>(at, 0), rank - 1), 1);
      }
    } else {
      std::vector<int64_t> kept;
      for (int64_t d : r.shape) if (d != 1) kept.push_back(d);
      r.shape = kept;
    }
  } else if (op == "Concat") {
    r.values.clear();
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const ConstTensor& p = constant(n, i, "input");
      if (p.shape.size() > 1) fail(n, "concatenates constants of rank " + std::to_string(p.shape.size()), "the importer folds 1-D constants");
      r.values.insert(r.values.end(), p.values.begin(), p.values.end());
    }
    r.shape = {int64_t(r.values.size())};
  } else if (op == "Cast") {
    const int64_t to = integer(n, "to", 1);
    const bool to_int = to != 1 && to != 10 && to != 11;
    if (to_int) for (double& v : r.values) v = std::trunc(v);
    r.integral = to_int;
  }
  set_const(n, std::move(r));
}
void Lowering::lower_constant(const Node& n) {
  auto it = n.attributes.find("value");
  ConstTensor c;
  if (it != n.attributes.end()) {
    c = it->second.tensor;
  } else if (n.has("value_float") || n.has("value_int")) {
    c.values = {n.has("value_int") ? double(integer(n, "value_int", 0)) : real(n, "value_float", 0)};
    c.integral = n.has("value_int");
  } else if (n.has("value_ints") || n.has("value_floats")) {
    if (n.has("value_ints"))
      for (int64_t v : ints(n, "value_ints", {})) c.values.push_back(double(v));
    else
      c.values = n.attributes.at("value_floats").floats;
    c.shape = {int64_t(c.values.size())};
    c.integral = n.has("value_ints");
  } else {
    fail(n, "a Constant without a numeric value", "export it again");
  }
  set_const(n, std::move(c));
}
}  // namespace cimsim::onnx_import::detail
