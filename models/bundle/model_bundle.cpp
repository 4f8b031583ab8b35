// load_model_bundle: reads model.yaml (docs/model-bundle.md) key by key through YamlSection, so every
// manifest problem is reported at its line with a fix, then infers shapes (bundle_shapes.cpp) and
// loads the tensors (bundle_tensors.cpp) layer by layer.

#include "bundle/model_bundle.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bundle/bundle_detail.h"
#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;
using bundle_detail::LayerFiles;

constexpr int kMaxSize = 1 << 16;  // bound of every channel count, feature count and image side
constexpr double kMaxReal = std::numeric_limits<double>::max();

// Makes `key` required: YamlSection reports a missing key (or a near-miss spelling of it) at its line.
void need(YamlSection& s, const std::string& key) {
  if (!s.has(key)) (void)s.text(key);
}

// A list of `count` plain decimal integers in [lo, hi]; `form` shows the expected form in the fix.
std::vector<int> int_list(YamlSection& s, const std::string& key, std::size_t count, int lo, int hi,
                          const std::string& form) {
  need(s, key);
  const YAML::Node n = s.raw(key);
  if (!n.IsSequence() || n.size() != count)
    s.fail(key, "expected a list of " + std::to_string(count) + " integers", "write " + form);
  std::vector<int> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string t = n[i].IsScalar() && n[i].Tag() != "!" ? n[i].Scalar() : std::string();
    const std::size_t from = !t.empty() && t[0] == '-' ? 1 : 0;
    const bool ok = t.size() > from && t.size() - from <= 9 &&
                    t.find_first_not_of("0123456789", from) == std::string::npos;
    if (!ok)
      s.fail(key, "entry " + std::to_string(i) + " ('" + n[i].Scalar() + "') is not an integer",
             "write " + form);
    const int v = std::stoi(t);
    if (v < lo || v > hi) {
      s.fail(key, "entry " + std::to_string(i) + " (" + std::to_string(v) + ") is out of range",
             "use integers in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out.push_back(v);
  }
  return out;
}

std::array<int, 2> pair_of(YamlSection& s, const std::string& key, int lo, const std::string& form) {
  const std::vector<int> v = int_list(s, key, 2, lo, kMaxSize, form);
  return {{v[0], v[1]}};
}

double positive_real(YamlSection& s, const std::string& key) {
  const double v = s.real(key, -kMaxReal, kMaxReal);
  if (!(v > 0)) {
    std::ostringstream text;
    text << v << " is not positive";
    s.fail(key, text.str(), "a scale is a quantization step: export a positive number");
  }
  return v;
}

// A tensor file name: a plain string, relative to the bundle directory.
std::string tensor_file(YamlSection& s, const std::string& key) {
  const std::string file = s.text(key);
  if (fs::path(file).is_absolute())
    s.fail(key, "'" + file + "' is an absolute path", "give the file name relative to the bundle directory");
  // Tensors live inside the bundle directory: a path that leaves it ('../x.npy') is refused.
  const fs::path normal = fs::path(file).lexically_normal();
  if (normal.empty() || *normal.begin() == "..")
    s.fail(key, "'" + file + "' leaves the bundle directory", "keep the tensors inside the bundle directory");
  return file;
}

// Keys of conv2d and linear besides their sizes.
void read_cim_keys(YamlSection& s, BundleLayer& l, LayerFiles& f) {
  f.weight = tensor_file(s, "weight");
  need(s, "weight_scale");
  const YAML::Node ws = s.raw("weight_scale");
  double number = 0;
  if (ws.IsScalar() && ws.Tag() != "!" && YAML::convert<double>::decode(ws, number)) {
    f.weight_scale_value = positive_real(s, "weight_scale");
  } else if (ws.IsScalar()) {
    f.weight_scale = tensor_file(s, "weight_scale");
  } else {
    s.fail("weight_scale", "expected a number or a .npy file name",
           "write weight_scale: 0.01 or weight_scale: conv1.wscale.npy");
  }
  l.input_scale = positive_real(s, "input_scale");
  l.input_signed = s.boolean_or("input_signed", false);
  if (s.has("bias")) f.bias = tensor_file(s, "bias");
  s.raw("bias");
  l.has_adc = s.has("adc");
  if (l.has_adc) l.adc = read_adc_interval(s, "adc");
  s.raw("adc");
}

void read_type_keys(YamlSection& s, BundleLayer& l, LayerFiles& f) {
  switch (l.type) {
    case LayerType::kConv2d:
      s.declare({"in_channels", "out_channels", "groups", "kernel", "stride", "padding", "weight",
                 "weight_scale", "input_scale", "input_signed", "bias", "adc"});
      l.in_channels = s.integer("in_channels", 1, kMaxSize);
      l.out_channels = s.integer("out_channels", 1, kMaxSize);
      l.groups = s.has("groups") ? s.integer("groups", 1, kMaxSize) : 1;
      if (l.in_channels % l.groups != 0 || l.out_channels % l.groups != 0) {
        s.fail("groups",
               std::to_string(l.groups) + " does not divide in_channels " + std::to_string(l.in_channels) +
                   " and out_channels " + std::to_string(l.out_channels),
               "use a common divisor of both (depthwise: groups = in_channels)");
      }
      l.kernel = pair_of(s, "kernel", 1, "[k_h, k_w], e.g. [3, 3]");
      l.stride = pair_of(s, "stride", 1, "[rows, columns], e.g. [1, 1]");
      l.padding = pair_of(s, "padding", 0, "[rows, columns], e.g. [1, 1]");
      read_cim_keys(s, l, f);
      break;
    case LayerType::kLinear:
      s.declare({"in_features", "out_features", "weight", "weight_scale", "input_scale", "input_signed", "bias",
                 "adc"});
      l.in_features = s.integer("in_features", 1, 1 << 30);
      l.out_features = s.integer("out_features", 1, kMaxSize);
      read_cim_keys(s, l, f);
      break;
    case LayerType::kBatchNorm:
      s.declare({"channels", "scale", "shift"});
      l.channels = s.integer("channels", 1, 1 << 30);
      f.bn_scale = tensor_file(s, "scale");
      f.bn_shift = tensor_file(s, "shift");
      break;
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      s.declare({"kernel", "stride"});
      l.kernel = pair_of(s, "kernel", 1, "[k_h, k_w], e.g. [2, 2]");
      l.stride = pair_of(s, "stride", 1, "[rows, columns], e.g. [2, 2]");
      if (l.type == LayerType::kMaxPool && s.has("padding")) {
        l.padding = pair_of(s, "padding", 0, "[rows, columns], e.g. [1, 1]");
        if (2 * l.padding[0] > l.kernel[0] || 2 * l.padding[1] > l.kernel[1])
          s.fail("padding", "exceeds half the kernel",
                 "use padding <= kernel / 2 in each direction (as PyTorch)");
      }
      if (l.type == LayerType::kMaxPool) s.raw("padding");
      break;
    case LayerType::kClip:
      s.declare({"min", "max"});
      l.clip_min = s.real("min", -kMaxReal, kMaxReal);
      l.clip_max = s.real("max", -kMaxReal, kMaxReal);
      if (!(l.clip_min < l.clip_max))
        s.fail("max", "is not above min", "give min < max (ReLU6: min: 0, max: 6)");
      break;
    default:
      break;  // relu, global_avgpool, flatten, add, concat: no keys of their own
  }
}

// The "inputs" key, resolved to indices of earlier layers (-1: the network input).
std::vector<int> read_inputs(YamlSection& s, const BundleLayer& l, int index, const ModelBundle& b) {
  const bool two = l.type == LayerType::kAdd, many = l.type == LayerType::kConcat;
  const YAML::Node n = s.raw("inputs");
  if (!s.has("inputs")) {
    if (two)
      s.fail("inputs", "an add layer needs its two inputs", "write inputs: [a, b] with two earlier layers");
    if (many)
      s.fail("inputs", "a concat layer needs its inputs", "write inputs: [a, b, ...] with earlier layers");
    return {index - 1};
  }
  const std::size_t want = two ? 2 : 1;
  if (!n.IsSequence() || (many ? n.size() < 2 || n.size() > 1024 : n.size() != want)) {
    s.fail("inputs",
           many ? std::string("expected a list of 2 to 1024 layer names for concat")
                : "expected a list of " + std::to_string(want) + " layer name" + (two ? "s" : "") + " for " +
                      layer_type_name(l.type),
           many  ? "write inputs: [a, b, ...]"
           : two ? "write inputs: [a, b]"
                 : "write inputs: [name] (or leave it out: the previous layer)");
  }
  std::vector<int> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string name = n[i].IsScalar() ? n[i].Scalar() : std::string();
    const int found = name == "input" ? -1 : b.find(name);
    if (name != "input" && found < 0) {
      std::string best = "input";
      for (const auto& earlier : b.layers)
        if (edit_distance(name, earlier.name) < edit_distance(name, best)) best = earlier.name;
      const bool near = edit_distance(name, best) <= 2;
      s.fail("inputs", "'" + name + "' names no earlier layer",
             (near ? "did you mean '" + best + "'? " : std::string()) +
                 "use 'input' (the network input) or a layer listed above this one");
    }
    out.push_back(found);
  }
  return out;
}

BundleLayer read_layer(YamlSection& s, int index, const ModelBundle& b, LayerFiles& f) {
  BundleLayer l;
  l.line = s.node().Mark().line + 1;
  s.declare({"name", "type", "inputs"});
  l.name = s.text("name");
  if (l.name == "input") s.fail("name", "'input' is the network input", "give the layer another name");
  const int first = b.find(l.name);
  if (first >= 0) {
    s.fail("name",
           "duplicate layer name '" + l.name + "' (first used at line " +
               std::to_string(b.layers[std::size_t(first)].line) + ")",
           "give every layer its own name");
  }
  const std::string type = s.text("type");
  const std::optional<LayerType> known = layer_type_of(type);
  if (!known) {
    std::string list, best;
    for (const auto& t : layer_type_names()) {
      list += (list.empty() ? "" : ", ") + t;
      if (best.empty() && edit_distance(type, t) <= 2) best = t;
    }
    s.fail("type", "unknown layer type '" + type + "'",
           (best.empty() ? std::string() : "did you mean '" + best + "'? ") + "known types: " + list);
  }
  l.type = *known;
  l.inputs = read_inputs(s, l, index, b);
  read_type_keys(s, l, f);
  s.finish();
  return l;
}

void read_input(YamlSection& s, BundleInput& in) {
  s.declare({"shape", "mean", "std"});
  in.shape = int_list(s, "shape", 3, 1, kMaxSize, "[C, H, W], e.g. [1, 28, 28]");
  const std::size_t c = std::size_t(in.shape[0]);
  for (const char* key : {"mean", "std"}) {
    need(s, key);
    std::vector<double>& v = key[0] == 'm' ? in.mean : in.std;
    v = s.real_list_or(key);
    if (v.size() != c) {
      s.fail(key,
             "has " + std::to_string(v.size()) + " entries but the input has C = " + std::to_string(c) +
                 " channels",
             "give one value per channel");
    }
  }
  for (double sd : in.std)
    if (!(sd > 0)) s.fail("std", "holds a value <= 0", "give positive standard deviations");
  s.finish();
}

YAML::Node parse_manifest(const std::string& dir, const std::string& manifest) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dir +
                     ": not a directory; a model bundle is a directory with model.yaml and its .npy tensors");
  const std::string text =
      read_text_file(manifest, "cannot open the manifest; a model bundle directory must hold model.yaml");
  return load_yaml_text(text, manifest);
}

}  // namespace

std::optional<LayerType> layer_type_of(const std::string& name) {
  const std::vector<std::string>& names = layer_type_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<LayerType>(it - names.begin());
}

const std::vector<std::string>& layer_type_names() {
  static const std::vector<std::string> kNames = {"conv2d",  "linear",         "batchnorm", "relu", "maxpool",
                                                  "avgpool", "global_avgpool", "flatten",   "add",  "concat",
                                                  "clip"};
  return kNames;
}

int64_t shape_elements(const std::vector<int>& shape) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}

const char* layer_type_name(LayerType type) { return layer_type_names()[std::size_t(type)].c_str(); }

int ModelBundle::find(const std::string& layer_name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == layer_name) return static_cast<int>(i);
  return -1;
}

bool ModelBundle::is_cim_layer(const std::string& layer_name) const {
  const int i = find(layer_name);
  return i >= 0 && layers[std::size_t(i)].is_cim();
}

std::string ModelBundle::cim_layer_names() const {
  std::string names;
  for (const BundleLayer& l : layers)
    if (l.is_cim()) names += (names.empty() ? "" : ", ") + l.name;
  return names;
}

ModelBundle load_model_bundle(const std::string& dir) {
  ModelBundle b;
  b.dir = dir;
  b.manifest = (fs::path(dir) / kBundleManifest).string();
  b.files.push_back(kBundleManifest);
  YAML::Node root = parse_manifest(dir, b.manifest);
  if (!root.IsMap())
    throw InputError(b.manifest + ": the manifest must be a YAML mapping (format: ..., layers: ...)");
  auto source = std::make_shared<ConfigSource>();
  source->file = b.manifest;

  YamlSection top(root, "", source);
  top.declare({"format", "version", "name", "input", "classes", "bits", "layers"});
  b.format = top.text("format");
  if (b.format != kBundleFormat)
    top.fail("format", "'" + b.format + "' is not a model bundle",
             std::string("write format: ") + kBundleFormat);
  b.version = top.integer("version", 0, 1 << 30);
  if (b.version != kBundleVersion) {
    top.fail("version", std::to_string(b.version) + " is not supported",
             "this cimsim reads version " + std::to_string(kBundleVersion) + "; export the model again");
  }
  b.name = top.text("name");
  YamlSection input = top.child("input");
  read_input(input, b.input);
  b.classes = top.integer("classes", 1, 1 << 30);
  YamlSection bits = top.child("bits");
  bits.declare({"weight", "input"});
  b.bits.weight = bits.integer("weight", 2, 16);
  b.bits.input = bits.integer("input", 1, 16);
  bits.finish();
  need(top, "layers");
  const YAML::Node layers = top.raw("layers");
  if (!layers.IsSequence() || layers.size() == 0)
    top.fail("layers", "expected a non-empty list of layers",
             "list the layers in execution order under 'layers:'");
  top.finish();

  for (std::size_t i = 0; i < layers.size(); ++i) {
    YamlSection s(layers[i], "layers[" + std::to_string(i) + "]", source);
    LayerFiles files;
    BundleLayer layer = read_layer(s, static_cast<int>(i), b, files);
    bundle_detail::infer_output_shape(layer, b, s);
    bundle_detail::load_layer_tensors(layer, files, b, s);
    for (const std::string* f : {&files.weight, &files.weight_scale, &files.bias, &files.bn_scale, &files.bn_shift})
      if (!f->empty()) b.files.push_back(*f);
    b.layers.push_back(std::move(layer));
  }
  const BundleLayer& last = b.layers.back();
  if (last.output_shape != std::vector<int>{b.classes}) {
    top.fail("classes",
             std::to_string(b.classes) + " does not match the last layer '" + last.name +
                 "', which outputs " + bundle_detail::shape_text(last.output_shape),
             "end the network with the [classes] logits (e.g. a linear layer with out_features: " +
                 std::to_string(b.classes) + ") or fix classes");
  }
  return b;
}

}  // namespace cimsim
