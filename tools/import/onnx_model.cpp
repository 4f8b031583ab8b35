#include "import/onnx_model.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cimsim::onnx_import {
namespace {

template <typename T>
void from_raw(const std::string& raw, std::vector<double>& out, std::size_t count) {
  std::vector<T> tmp(count);
  if (count > 0) std::memcpy(tmp.data(), raw.data(), count * sizeof(T));  // memcpy from null is UB (tests/fuzz)
  out.assign(tmp.begin(), tmp.end());
}

ConstTensor to_tensor(const onnx::TensorProto& t, const std::string& file, const std::string& where) {
  auto fail = [&](const std::string& problem) -> InputError {
    return InputError(file + ": " + where + " '" + t.name() + "': " + problem);
  };
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw fail("stored as external data; export with the weights inside the file "
               "(torch.onnx.export writes them inside below 2 GB)");
  ConstTensor c;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t{1} << 31)) throw fail("dimension " + std::to_string(d) + " is out of range");
    count *= d;
    if (count > (int64_t{1} << 28)) throw fail("more than 2^28 elements; the importer reads tensors up to 2^28");
    c.shape.push_back(d);
  }
  const std::size_t n = std::size_t(count);
  const std::string& raw = t.raw_data();
  // The values: raw little-endian bytes of type Raw when present, else the typed repeated field.
  auto take = [&](auto raw_type, const auto& typed) {
    using Raw = decltype(raw_type);
    if (!raw.empty() || typed.size() == 0) {
      if (raw.size() != n * sizeof(Raw))
        throw fail("holds " + std::to_string(raw.size()) + " bytes of data for " + std::to_string(n) +
                   " elements; the file is corrupt: export it again");
      from_raw<Raw>(raw, c.values, n);
    } else {
      if (std::size_t(typed.size()) != n)
        throw fail("holds " + std::to_string(typed.size()) + " values for " + std::to_string(n) +
                   " elements; the file is corrupt: export it again");
      c.values.assign(typed.begin(), typed.end());
    }
  };
  c.integral = t.data_type() != onnx::TensorProto::FLOAT && t.data_type() != onnx::TensorProto::DOUBLE;
  c.data_type = t.data_type();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      take(float{}, t.float_data());
      break;
    case onnx::TensorProto::DOUBLE:
      take(double{}, t.double_data());
      break;
    case onnx::TensorProto::INT64:
      take(int64_t{}, t.int64_data());
      break;
    case onnx::TensorProto::INT32:
      take(int32_t{}, t.int32_data());
      break;
    case onnx::TensorProto::INT16:
      take(int16_t{}, t.int32_data());
      break;
    case onnx::TensorProto::UINT16:
      take(uint16_t{}, t.int32_data());
      break;
    case onnx::TensorProto::INT8:
      take(int8_t{}, t.int32_data());
      break;
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL:
      take(uint8_t{}, t.int32_data());
      break;
    default:
      throw fail("has data type " + std::to_string(t.data_type()) +
                 ", which the importer does not read; use float32, float64 or integer tensors");
  }
  return c;
}

Attribute to_attribute(const onnx::AttributeProto& a, const std::string& file, const std::string& node) {
  Attribute out;
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      out.kind = Attribute::Kind::kInt;
      out.i = a.i();
      break;
    case onnx::AttributeProto::FLOAT:
      out.kind = Attribute::Kind::kFloat;
      out.f = a.f();
      break;
    case onnx::AttributeProto::INTS:
      out.kind = Attribute::Kind::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      out.kind = Attribute::Kind::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::TENSOR:
      out.kind = Attribute::Kind::kTensor;
      out.tensor = to_tensor(a.t(), file, "node '" + node + "' attribute " + a.name() + ", tensor");
      break;
    case onnx::AttributeProto::STRING:
      out.kind = Attribute::Kind::kString;
      out.s = a.s();
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

int64_t ConstTensor::size() const {
  constexpr int64_t kLimit = int64_t{1} << 40;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > kLimit / d)) return -1;  // no valid constant (Lowering::set_const refuses it)
    n *= d;
  }
  return n;
}

OnnxModel read_onnx_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the ONNX file; check the path");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  onnx::ModelProto model;
  if (data.empty() || !model.ParseFromString(data) || !model.has_graph() || model.graph().node_size() == 0) {
    throw InputError(path + ": not a readable ONNX model (" + std::to_string(data.size()) +
                     " bytes; the file is truncated, corrupt or not ONNX); export it again with "
                     "torch.onnx.export(model, example, \"" +
                     path + "\")");
  }
  OnnxModel m;
  m.path = path;
  const onnx::GraphProto& g = model.graph();
  m.graph_name = g.name();
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") m.opset = op.version();
  for (const auto& t : g.initializer()) m.initializers[t.name()] = to_tensor(t, path, "initializer");
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& v : g.input())
    if (!m.initializers.count(v.name())) inputs.push_back(&v);
  if (inputs.size() != 1) {
    throw InputError(path + ": the graph has " + std::to_string(inputs.size()) +
                     " inputs besides its weights; the importer takes models with one image input [N, C, H, W]");
  }
  const onnx::ValueInfoProto& input = *inputs[0];
  m.input = input.name();
  const auto& type = input.type().tensor_type();
  if (!type.has_shape() || type.shape().dim_size() != 4) {
    throw InputError(path + ": input '" + m.input + "' has " +
                     (type.has_shape() ? std::to_string(type.shape().dim_size()) + " dimensions"
                                       : std::string("no shape")) +
                     "; the importer takes one image input of shape [N, C, H, W]");
  }
  for (int d = 0; d < 4; ++d) {
    const auto& dim = type.shape().dim(d);
    if (dim.has_dim_value() && dim.dim_value() > 0) {
      m.input_shape.push_back(dim.dim_value());
      m.input_dim_names.emplace_back();
    } else if (d == 0) {
      m.input_shape.push_back(-1);
      m.input_dim_names.push_back(dim.dim_param());
    } else {
      throw InputError(path + ": input '" + m.input + "' dimension " + std::to_string(d) + " is dynamic ('" +
                       dim.dim_param() +
                       "'); only the batch may be: export with a fixed image size (no dynamic_axes "
                       "for C, H, W)");
    }
  }
  if (g.output_size() != 1)
    throw InputError(path + ": the graph has " + std::to_string(g.output_size()) +
                     " outputs; the importer takes models with one output, the logits");
  m.output = g.output(0).name();
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& p = g.node(i);
    Node n;
    n.index = i;
    n.op_type = p.op_type();
    n.domain = p.domain();
    n.name = p.name().empty() ? p.op_type() + " #" + std::to_string(i) : p.name();
    n.inputs.assign(p.input().begin(), p.input().end());
    n.outputs.assign(p.output().begin(), p.output().end());
    for (const auto& a : p.attribute()) n.attributes[a.name()] = to_attribute(a, path, n.name);
    m.nodes.push_back(std::move(n));
  }
  return m;
}

}  // namespace cimsim::onnx_import
