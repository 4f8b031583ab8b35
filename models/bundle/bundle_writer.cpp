// Writes a ModelBundle as model.yaml (block style, one key per line) plus .npy tensors, and the
// BundleBuilder that assembles one in memory.

#include "bundle/bundle_writer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

#include "core/error.h"
#include "io/npy.h"

namespace cimsim {
namespace {

namespace fs = std::filesystem;

// Shortest decimal text that reads back as exactly `v`.
std::string number(double v) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string scalar(const std::string& s) {
  YAML::Emitter e;
  e << s;
  return e.c_str();
}

std::string number(int v) { return std::to_string(v); }

template <typename T>
std::string list(const T& values) {
  std::string s = "[";
  for (const auto& v : values) s += (s.size() > 1 ? ", " : "") + number(v);
  return s + "]";
}

class Writer {
 public:
  Writer(const ModelBundle& b, std::string dir) : b_(b), dir_(std::move(dir)) {}

  std::string layer(const BundleLayer& l, std::size_t index) {
    std::string y = "  - name: " + scalar(l.name) + "\n    type: " + layer_type_name(l.type) + "\n";
    const bool by_default =
        l.type != LayerType::kAdd && l.inputs.size() == 1 && l.inputs[0] == static_cast<int>(index) - 1;
    if (!by_default) {
      std::string names;
      for (int i : l.inputs)
        names += (names.empty() ? "" : ", ") + scalar(i < 0 ? "input" : b_.layers[std::size_t(i)].name);
      y += "    inputs: [" + names + "]\n";
    }
    switch (l.type) {
      case LayerType::kConv2d:
        y += key("in_channels", number(l.in_channels)) + key("out_channels", number(l.out_channels));
        if (l.groups > 1) y += key("groups", number(l.groups));
        y += key("kernel", list(l.kernel)) + key("stride", list(l.stride)) + key("padding", list(l.padding));
        return y + cim(l, {l.weight.cols(), l.in_channels / l.groups, l.kernel[0], l.kernel[1]});
      case LayerType::kLinear:
        y += key("in_features", number(l.in_features)) + key("out_features", number(l.out_features));
        return y + cim(l, {l.weight.cols(), l.weight.rows()});
      case LayerType::kBatchNorm:
        return y + key("channels", number(l.channels)) +
               key("scale", tensor(l.name + ".bn_scale", l.bn_scale)) +
               key("shift", tensor(l.name + ".bn_shift", l.bn_shift));
      case LayerType::kMaxPool:
      case LayerType::kAvgPool:
        y += key("kernel", list(l.kernel)) + key("stride", list(l.stride));
        if (l.padding != std::array<int, 2>{{0, 0}}) y += key("padding", list(l.padding));
        return y;
      case LayerType::kClip:
        return y + key("min", number(l.clip_min)) + key("max", number(l.clip_max));
      default:
        return y;
    }
  }

 private:
  static std::string key(const std::string& k, const std::string& v) { return "    " + k + ": " + v + "\n"; }

  // Writes `<stem>.npy` and returns its file name for the manifest.
  std::string tensor(const std::string& stem, const std::vector<double>& values,
                     const std::string& descr = "<f8", std::vector<int64_t> shape = {}) {
    if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
    const std::string file = stem + ".npy";
    npy::write((fs::path(dir_) / file).string(), shape, values, descr);
    return scalar(file);
  }

  std::string cim(const BundleLayer& l, const std::vector<int64_t>& file_shape) {
    // Column o of the K x N matrix is the C-order block [o, ...] of the file; with groups only the
    // rows of o's group (docs/model-bundle.md).
    const Eigen::Index n = l.weight.cols(), rows = l.rows_per_output();
    std::vector<double> w(std::size_t(rows * n));
    for (Eigen::Index o = 0; o < n; ++o)
      for (Eigen::Index k = 0; k < rows; ++k) w[std::size_t(o * rows + k)] = l.weight(l.first_row(int(o)) + k, o);
    // The narrowest integer type of the bits: int8 up to 8-bit weights, else int16.
    std::string y = key("weight", tensor(l.name + ".weight", w, b_.bits.weight <= 8 ? "|i1" : "<i2", file_shape));
    const auto& ws = l.weight_scale;
    const bool uniform =
        !ws.empty() && std::all_of(ws.begin(), ws.end(), [&](double v) { return v == ws[0]; });
    y += key("weight_scale", uniform ? number(ws[0]) : tensor(l.name + ".wscale", ws));
    y += key("input_scale", number(l.input_scale));
    if (l.input_signed) y += key("input_signed", "true");
    if (std::any_of(l.bias.begin(), l.bias.end(), [](double v) { return v != 0; }))
      y += key("bias", tensor(l.name + ".bias", l.bias));
    if (l.has_adc)
      y += key("adc", l.adc.full ? std::string("full")
                                 : "{lo: " + number(l.adc.lo) + ", hi: " + number(l.adc.hi) + "}");
    return y;
  }

  const ModelBundle& b_;
  std::string dir_;
};

}  // namespace

void write_model_bundle(const ModelBundle& b, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create the bundle directory: " + ec.message());
  std::string y = "format: " + std::string(kBundleFormat) + "\nversion: " + std::to_string(kBundleVersion) +
                  "\nname: " + scalar(b.name) + "\ninput:\n  shape: " + list(b.input.shape) +
                  "\n  mean: " + list(b.input.mean) + "\n  std: " + list(b.input.std) +
                  "\nclasses: " + std::to_string(b.classes) +
                  "\nbits:\n  weight: " + std::to_string(b.bits.weight) +
                  "\n  input: " + std::to_string(b.bits.input) + "\nlayers:\n";
  Writer w(b, dir);
  for (std::size_t i = 0; i < b.layers.size(); ++i) y += w.layer(b.layers[i], i);
  const std::string path = (fs::path(dir) / kBundleManifest).string();
  std::ofstream out(path, std::ios::trunc);
  if (out) out << y;
  if (out) out.close();
  if (!out) throw InputError(path + ": cannot write the manifest; check that the directory is writable");
}

void write_model_bundle_atomically(const ModelBundle& bundle, const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (!target.has_filename() && target.has_parent_path()) target = target.parent_path();  // "out/"
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..")
    throw InputError(dir + ": not a bundle directory name; give a new directory, e.g. out/my-model");
  std::error_code ec;
  if (fs::exists(target, ec)) {
    // Replaced only when it is a bundle (or empty): never a directory of other files.
    if (!fs::is_directory(target, ec))
      throw InputError(dir + ": exists and is not a directory; give a new directory for the bundle");
    if (!fs::exists(target / kBundleManifest, ec) && !fs::is_empty(target, ec))
      throw InputError(dir + ": exists and is not a model bundle (no " + kBundleManifest +
                       "); give a new directory or remove this one");
  }
  const fs::path staging = target.parent_path() / (name + ".partial");
  fs::remove_all(staging, ec);
  try {
    write_model_bundle(bundle, staging.string());
    load_model_bundle(staging.string());  // the loader is the checker
  } catch (...) {
    fs::remove_all(staging, ec);  // nothing half-written is left behind
    throw;
  }
  fs::remove_all(target, ec);
  fs::rename(staging, target, ec);
  if (ec) throw InputError(dir + ": cannot move the bundle into place: " + ec.message());
}

BundleBuilder::BundleBuilder(std::string name, std::vector<int> input_shape, int classes, BundleBits bits) {
  bundle_.format = kBundleFormat;
  bundle_.version = kBundleVersion;
  bundle_.name = std::move(name);
  const std::size_t c = input_shape.empty() ? 0 : std::size_t(input_shape[0]);
  bundle_.input = {std::move(input_shape), std::vector<double>(c, 0.0), std::vector<double>(c, 1.0)};
  bundle_.classes = classes;
  bundle_.bits = bits;
}

BundleLayer& BundleBuilder::append(const std::string& name, LayerType type) {
  BundleLayer l;
  l.name = name;
  l.type = type;
  l.inputs = {static_cast<int>(bundle_.layers.size()) - 1};
  bundle_.layers.push_back(std::move(l));
  return bundle_.layers.back();
}

BundleLayer& BundleBuilder::conv2d(const std::string& name, int in_channels, int out_channels,
                                   std::array<int, 2> kernel, std::array<int, 2> stride,
                                   std::array<int, 2> padding) {
  BundleLayer& l = append(name, LayerType::kConv2d);
  l.in_channels = in_channels;
  l.out_channels = out_channels;
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  l.weight = Eigen::MatrixXi::Zero(in_channels * kernel[0] * kernel[1], out_channels);
  l.weight_scale.assign(std::size_t(out_channels), 1.0);
  l.input_scale = 1.0;
  l.bias.assign(std::size_t(out_channels), 0.0);
  return l;
}

BundleLayer& BundleBuilder::linear(const std::string& name, int in_features, int out_features) {
  BundleLayer& l = append(name, LayerType::kLinear);
  l.in_features = in_features;
  l.out_features = out_features;
  l.weight = Eigen::MatrixXi::Zero(in_features, out_features);
  l.weight_scale.assign(std::size_t(out_features), 1.0);
  l.input_scale = 1.0;
  l.bias.assign(std::size_t(out_features), 0.0);
  return l;
}

BundleLayer& BundleBuilder::batchnorm(const std::string& name, int channels) {
  BundleLayer& l = append(name, LayerType::kBatchNorm);
  l.channels = channels;
  l.bn_scale.assign(std::size_t(channels), 1.0);
  l.bn_shift.assign(std::size_t(channels), 0.0);
  return l;
}

BundleLayer& BundleBuilder::maxpool(const std::string& name, std::array<int, 2> kernel,
                                    std::array<int, 2> stride, std::array<int, 2> padding) {
  BundleLayer& l = append(name, LayerType::kMaxPool);
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  return l;
}

BundleLayer& BundleBuilder::avgpool(const std::string& name, std::array<int, 2> kernel,
                                    std::array<int, 2> stride) {
  BundleLayer& l = append(name, LayerType::kAvgPool);
  l.kernel = kernel;
  l.stride = stride;
  return l;
}

BundleLayer& BundleBuilder::add(const std::string& name, const std::string& a, const std::string& b) {
  append(name, LayerType::kAdd);
  connect(name, {a, b});
  return bundle_.layers.back();
}

BundleLayer& BundleBuilder::concat(const std::string& name, const std::vector<std::string>& inputs) {
  append(name, LayerType::kConcat);
  connect(name, inputs);
  return bundle_.layers.back();
}

BundleLayer& BundleBuilder::clip(const std::string& name, double lo, double hi) {
  BundleLayer& l = append(name, LayerType::kClip);
  l.clip_min = lo;
  l.clip_max = hi;
  return l;
}

BundleLayer& BundleBuilder::simple(const std::string& name, LayerType type) { return append(name, type); }

void BundleBuilder::connect(const std::string& name, const std::vector<std::string>& inputs) {
  const int target = bundle_.find(name);
  if (target < 0) throw InputError("BundleBuilder::connect: no layer named '" + name + "'");
  std::vector<int> indices;
  for (const auto& in : inputs) {
    const int i = in == "input" ? -1 : bundle_.find(in);
    if (in != "input" && i < 0) throw InputError("BundleBuilder::connect: no layer named '" + in + "'");
    indices.push_back(i);
  }
  bundle_.layers[std::size_t(target)].inputs = std::move(indices);
}

}  // namespace cimsim
