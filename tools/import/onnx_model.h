// An ONNX model file read into plain structures (the only code that sees protobuf): the graph's
// nodes in file order with their attributes, its constant tensors (initializers) as doubles, and
// the one image input and one output. Every problem is an InputError naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cimsim::onnx_import {

struct ConstTensor {
  std::vector<int64_t> shape;
  std::vector<double> values;  // C order; integers exact below 2^53
  bool integral = false;       // from an integer tensor type
  int data_type = 0;           // ONNX TensorProto data type (1 float, 2 uint8, 3 int8, ...)
  int64_t size() const;
};

struct Attribute {
  enum class Kind { kInt, kFloat, kInts, kFloats, kTensor, kString, kOther } kind = Kind::kOther;
  int64_t i = 0;
  double f = 0;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  ConstTensor tensor;
  std::string s;
};

struct Node {
  std::string name;     // may be empty in the file; then "<op_type> #<index>"
  std::string op_type;  // "Conv", "Relu", ...
  std::string domain;   // "" or "ai.onnx" for the standard operators
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attributes;
  int index = 0;  // position in the graph's node list

  bool has(const std::string& attribute) const { return attributes.count(attribute) > 0; }
};

struct OnnxModel {
  std::string path;
  std::string graph_name;
  int64_t opset = 0;  // of the default domain
  std::string input;  // the image input's name
  std::vector<int64_t> input_shape;       // its dims, -1 where symbolic (the batch)
  std::vector<std::string> input_dim_names;
  std::string output;  // the graph's output
  std::vector<Node> nodes;
  std::map<std::string, ConstTensor> initializers;
};

// Reads and checks `path`: a parseable ModelProto with a graph, one non-initializer input of
// rank 4 ([N, C, H, W], N may be symbolic, C, H, W must be fixed), one output, tensors stored in
// the file (not external data) of a numeric type.
OnnxModel read_onnx_model(const std::string& path);

}  // namespace cimsim::onnx_import
