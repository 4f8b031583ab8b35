// Tests of the model-bundle loader and writer (models/bundle/*, docs/model-bundle.md): bundles built
// with BundleBuilder read back field by field (LeNet-like and a ResNet-style block), the weight layout
// is checked against hand-written .npy files, and every kind of bad bundle fails with a message that
// names the manifest line (computed from the written model.yaml, never hard-coded) or the tensor file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "bundle/bundle_writer.h"
#include "bundle/model_bundle.h"
#include "core/error.h"
#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
namespace npy = cimsim::npy;
using cimsim::BundleBuilder;
using cimsim::BundleLayer;
using cimsim::InputError;
using cimsim::LayerType;
using cimsim::ModelBundle;

// LeNet-like: 1x28x28 -conv5x5 pad2-> 6x28x28 -maxpool2-> 6x14x14 -conv5x5-> 16x10x10 -maxpool2-> 16x5x5
// -flatten-> 400 -linear-> 120 -relu-> -linear-> 10.
BundleBuilder lenet() {
  BundleBuilder b("lenet-test", {1, 28, 28}, 10, {4, 4});
  b.bundle().input.mean = {0.25};
  b.bundle().input.std = {0.5};
  BundleLayer& c1 = b.conv2d("conv1", 1, 6, {{5, 5}}, {{1, 1}}, {{2, 2}});
  for (int o = 0; o < 6; ++o)
    for (int k = 0; k < 25; ++k) c1.weight(k, o) = (k * 7 + o * 5) % 15 - 7;
  c1.weight_scale = {0.01, 0.02, 0.03, 0.04, 0.05, 0.06};
  c1.input_scale = 1.0 / 15;
  c1.bias = {0.5, -0.25, 0, 0.125, 1, -1};
  c1.has_adc = true;
  c1.adc = {false, -8.5, 8};
  b.simple("relu1", LayerType::kRelu);
  b.maxpool("pool1", {{2, 2}}, {{2, 2}});
  BundleLayer& c2 = b.conv2d("conv2", 6, 16, {{5, 5}});
  for (int o = 0; o < 16; ++o)
    for (int k = 0; k < 150; ++k) c2.weight(k, o) = (k * 3 + o) % 13 - 6;
  c2.weight_scale.assign(16, 0.03);
  c2.input_scale = 0.125;
  c2.has_adc = true;  // full
  b.simple("relu2", LayerType::kRelu);
  b.maxpool("pool2", {{2, 2}}, {{2, 2}});
  b.simple("flatten", LayerType::kFlatten);
  BundleLayer& f1 = b.linear("fc1", 400, 120);
  for (int o = 0; o < 120; ++o)
    for (int k = 0; k < 400; ++k) f1.weight(k, o) = (k + 2 * o) % 15 - 7;
  f1.input_scale = 0.05;
  f1.weight_scale.assign(120, 0.0123);
  b.simple("relu3", LayerType::kRelu);
  BundleLayer& f2 = b.linear("fc2", 120, 10);
  f2.weight(119, 9) = -7;
  f2.bias.assign(10, 0.1);
  return b;
}

// A ResNet-style block: conv-bn-relu, then conv-bn-relu-conv-bn with the residual edge, global pooling.
BundleBuilder resnet_block() {
  BundleBuilder b("resnet-block", {3, 8, 8}, 10, {8, 6});
  b.bundle().input.mean = {0.49, 0.48, 0.45};
  b.bundle().input.std = {0.25, 0.24, 0.26};
  b.conv2d("conv0", 3, 4, {{3, 3}}, {{1, 1}}, {{1, 1}}).weight.setConstant(3);
  b.batchnorm("bn0", 4).bn_scale = {1.5, -0.5, 2, 0.25};
  b.simple("relu0", LayerType::kRelu);
  b.conv2d("conv1", 4, 4, {{3, 3}}, {{1, 1}}, {{1, 1}});
  b.batchnorm("bn1", 4).bn_shift = {0.1, 0.2, 0.3, 0.4};
  b.simple("relu1", LayerType::kRelu);
  b.conv2d("conv2", 4, 4, {{3, 3}}, {{1, 1}}, {{1, 1}}).weight.setConstant(-127);
  b.batchnorm("bn2", 4);
  b.add("add", "bn2", "relu0");
  b.simple("relu2", LayerType::kRelu);
  b.simple("gap", LayerType::kGlobalAvgPool);
  b.linear("fc", 4, 10);
  return b;
}

// model.yaml as lines, addressed by (layer name, key) or (dotted top-level key, e.g. "input.std").
class Manifest {
 public:
  explicit Manifest(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_);
    for (std::string l; std::getline(in, l);) lines_.push_back(l);
  }
  // 1-based line of a key; key "name" of a layer is the line its entry starts on.
  int line(const std::string& layer, const std::string& key) const {
    return static_cast<int>(find(layer, key)) + 1;
  }
  Manifest& set(const std::string& layer, const std::string& key, const std::string& value) {
    std::string& l = lines_[find(layer, key)];
    l = l.substr(0, l.find(':') + 1) + " " + value;
    return *this;
  }
  // Replaces the key's whole line (to misspell the key).
  Manifest& replace(const std::string& layer, const std::string& key, const std::string& text) {
    lines_[find(layer, key)] = text;
    return *this;
  }
  // Adds "key: value" at the end of the layer's entry, or at the top level for layer "".
  Manifest& add(const std::string& layer, const std::string& key, const std::string& value) {
    if (layer.empty()) {
      lines_.insert(lines_.begin(), key + ": " + value);
      return *this;
    }
    lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(entry_end(find(layer, "name"))),
                  "    " + key + ": " + value);
    return *this;
  }
  Manifest& erase(const std::string& layer, const std::string& key) {
    lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(find(layer, key)));
    return *this;
  }
  Manifest& erase_layer(const std::string& layer) {
    const std::size_t begin = find(layer, "name");
    lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(begin),
                 lines_.begin() + static_cast<std::ptrdiff_t>(entry_end(begin)));
    return *this;
  }
  void save() const {
    std::ofstream out(path_, std::ios::trunc);
    for (const auto& l : lines_) out << l << "\n";
  }

 private:
  std::size_t entry_end(std::size_t begin) const {
    std::size_t end = begin + 1;
    while (end < lines_.size() && lines_[end].rfind("    ", 0) == 0) ++end;
    return end;
  }
  std::size_t find(const std::string& layer, const std::string& key) const {
    auto starts = [&](std::size_t i, const std::string& prefix) { return lines_[i].rfind(prefix, 0) == 0; };
    std::size_t i = 0;
    if (layer.empty()) {
      const auto dot = key.find('.');
      const std::string head = key.substr(0, dot);
      while (i < lines_.size() && !starts(i, head + ":")) ++i;
      if (dot != std::string::npos) {
        for (++i; i < lines_.size() && !starts(i, "  " + key.substr(dot + 1) + ":");) ++i;
      }
    } else {
      while (i < lines_.size() && lines_[i] != "  - name: " + layer) ++i;
      if (key != "name") {
        const std::size_t end = i < lines_.size() ? entry_end(i) : i;
        for (++i; i < end && !starts(i, "    " + key + ":");) ++i;
        if (i == end) i = lines_.size();
      }
    }
    if (i >= lines_.size()) ADD_FAILURE() << "no line for " << layer << " " << key << " in " << path_;
    return i < lines_.size() ? i : 0;
  }
  std::string path_;
  std::vector<std::string> lines_;
};

testing::AssertionResult has_all(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& p : parts)
    if (message.find(p) == std::string::npos)
      return testing::AssertionFailure() << "message lacks \"" << p << "\":\n  " << message;
  return testing::AssertionSuccess();
}

testing::AssertionResult starts_with(const std::string& message, const std::string& prefix) {
  if (message.rfind(prefix, 0) == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "message does not start with \"" << prefix << "\":\n  " << message;
}

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::temp_directory_path() / ("cimsim_bundle_" + std::to_string(::getpid()) + "_" +
                                         info->test_suite_name() + "_" + info->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& file) const { return (fs::path(dir_) / file).string(); }
  std::string manifest() const { return path("model.yaml"); }
  Manifest written(const BundleBuilder& b) const {
    b.write(dir_);
    return Manifest(manifest());
  }

  std::string error() const {
    try {
      cimsim::load_model_bundle(dir_);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected an InputError, but " << dir_ << " loaded";
    return "";
  }
  // The load fails with "<dir>/model.yaml:<line>: <dotted>: " and every phrase.
  void expect_manifest_error(int line, const std::string& dotted,
                             const std::vector<std::string>& phrases) const {
    const std::string m = error();
    EXPECT_TRUE(starts_with(m, manifest() + ":" + std::to_string(line) + ": " + dotted + ": "));
    EXPECT_TRUE(has_all(m, phrases));
  }
  // The load fails with "<dir>/<file>: ", every phrase, and the manifest key that names the file.
  void expect_tensor_error(const std::string& file, const std::string& dotted, int line,
                           const std::vector<std::string>& phrases) const {
    const std::string m = error();
    EXPECT_TRUE(starts_with(m, path(file) + ": "));
    EXPECT_TRUE(has_all(m, phrases));
    EXPECT_TRUE(has_all(m, {"(" + dotted + " at " + manifest() + ":" + std::to_string(line) + ")"}));
  }

  std::string dir_;
};

void expect_same_layer(const BundleLayer& want, const BundleLayer& got) {
  SCOPED_TRACE(want.name);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.inputs, want.inputs);
  EXPECT_EQ(got.in_channels, want.in_channels);
  EXPECT_EQ(got.out_channels, want.out_channels);
  EXPECT_EQ(got.kernel, want.kernel);
  EXPECT_EQ(got.stride, want.stride);
  EXPECT_EQ(got.padding, want.padding);
  EXPECT_EQ(got.in_features, want.in_features);
  EXPECT_EQ(got.out_features, want.out_features);
  EXPECT_EQ(got.channels, want.channels);
  EXPECT_EQ(got.weight.rows(), want.weight.rows());
  EXPECT_EQ(got.weight.cols(), want.weight.cols());
  EXPECT_TRUE(got.weight == want.weight);
  EXPECT_EQ(got.weight_scale, want.weight_scale);
  EXPECT_EQ(got.input_scale, want.input_scale);
  EXPECT_EQ(got.bias, want.bias);
  EXPECT_EQ(got.has_adc, want.has_adc);
  EXPECT_EQ(got.adc.full, want.adc.full);
  EXPECT_EQ(got.adc.lo, want.adc.lo);
  EXPECT_EQ(got.adc.hi, want.adc.hi);
  EXPECT_EQ(got.bn_scale, want.bn_scale);
  EXPECT_EQ(got.bn_shift, want.bn_shift);
  EXPECT_EQ(got.is_cim(), want.type == LayerType::kConv2d || want.type == LayerType::kLinear);
}

// ---- 1. round trips -----------------------------------------------------------------------------

TEST_F(BundleTest, LenetRoundTripsEveryField) {
  const BundleBuilder b = lenet();
  const Manifest m = written(b);
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  EXPECT_EQ(got.dir, dir_);
  EXPECT_EQ(got.manifest, manifest());
  EXPECT_EQ(got.format, "cimsim-model-bundle");
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.name, "lenet-test");
  EXPECT_EQ(got.input.shape, (std::vector<int>{1, 28, 28}));
  EXPECT_EQ(got.input.mean, std::vector<double>{0.25});
  EXPECT_EQ(got.input.std, std::vector<double>{0.5});
  EXPECT_EQ(got.classes, 10);
  EXPECT_EQ(got.bits.weight, 4);
  EXPECT_EQ(got.bits.input, 4);
  ASSERT_EQ(got.layers.size(), b.bundle().layers.size());
  for (std::size_t i = 0; i < got.layers.size(); ++i) {
    expect_same_layer(b.bundle().layers[i], got.layers[i]);
    EXPECT_EQ(got.layers[i].line, m.line(got.layers[i].name, "name"));
    EXPECT_EQ(got.find(got.layers[i].name), static_cast<int>(i));
  }
  EXPECT_EQ(got.find("nothing"), -1);
  EXPECT_EQ(got.layers[0].inputs, std::vector<int>{-1});  // the first layer reads the network input
  EXPECT_EQ(got.layers[3].inputs, std::vector<int>{2});   // default: the previous layer
  const std::vector<std::vector<int>> shapes = {{6, 28, 28},  {6, 28, 28}, {6, 14, 14}, {16, 10, 10},
                                                {16, 10, 10}, {16, 5, 5},  {400},       {120},
                                                {120},        {10}};
  for (std::size_t i = 0; i < shapes.size(); ++i) EXPECT_EQ(got.layers[i].output_shape, shapes[i]) << i;
  EXPECT_EQ(got.layers[0].weight.rows(), 25);
  EXPECT_EQ(got.layers[3].weight.rows(), 150);
  EXPECT_EQ(got.layers[3].weight.cols(), 16);
  EXPECT_EQ(got.layers[3].bias, std::vector<double>(16, 0.0));  // no bias file: zeros
  EXPECT_FALSE(fs::exists(path("conv2.bias.npy")));
  EXPECT_FALSE(fs::exists(path("conv2.wscale.npy")));  // a uniform scale is written as a number
  EXPECT_TRUE(fs::exists(path("conv1.wscale.npy")));
  EXPECT_FALSE(got.layers[7].has_adc);
}

TEST_F(BundleTest, WeightFileElementMapsToRowCinKhKw) {
  const BundleBuilder b = lenet();
  b.write(dir_);
  // conv2 element [o=11, c=4, i=3, j=2] of the [16, 6, 5, 5] file is row (4 * 5 + 3) * 5 + 2 = 117.
  const npy::Array file = npy::read(path("conv2.weight.npy"));
  ASSERT_EQ(file.shape, (std::vector<int64_t>{16, 6, 5, 5}));
  const double element = file.values[((11 * 6 + 4) * 5 + 3) * 5 + 2];
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  EXPECT_EQ(got.layers[3].weight(117, 11), static_cast<int>(element));
  EXPECT_EQ(element, (117 * 3 + 11) % 13 - 6);
  // fc2 [10, 120]: element [9, 119] is row 119 of column 9.
  EXPECT_EQ(npy::read(path("fc2.weight.npy")).values[9 * 120 + 119], -7);
  EXPECT_EQ(got.layers[9].weight(119, 9), -7);
}

TEST_F(BundleTest, HandWrittenConvWeightsLoadInCinKhKwOrder) {
  BundleBuilder b("layout", {2, 4, 3}, 3, {16, 8});
  b.conv2d("conv", 2, 3, {{3, 2}});
  b.simple("gap", LayerType::kGlobalAvgPool);
  b.write(dir_);
  std::vector<double> codes;  // [o, c, i, j] -> o*1000 + c*100 + i*10 + j, written in C order
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) codes.push_back(o * 1000 + c * 100 + i * 10 + j);
  npy::write(path("conv.weight.npy"), {3, 2, 3, 2}, codes, "<i8");
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  const auto& w = got.layers[0].weight;
  ASSERT_EQ(w.rows(), 12);
  ASSERT_EQ(w.cols(), 3);
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) EXPECT_EQ(w((c * 3 + i) * 2 + j, o), o * 1000 + c * 100 + i * 10 + j);
  EXPECT_EQ(got.layers[0].output_shape, (std::vector<int>{3, 2, 2}));
  EXPECT_EQ(got.layers[1].output_shape, std::vector<int>{3});
}

TEST_F(BundleTest, ResNetBlockWithBatchnormAddAndGlobalPool) {
  const BundleBuilder b = resnet_block();
  const Manifest m = written(b);
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  ASSERT_EQ(got.layers.size(), 12u);
  for (std::size_t i = 0; i < got.layers.size(); ++i) expect_same_layer(b.bundle().layers[i], got.layers[i]);
  EXPECT_EQ(got.input.mean, (std::vector<double>{0.49, 0.48, 0.45}));
  EXPECT_EQ(got.input.std, (std::vector<double>{0.25, 0.24, 0.26}));
  const int add = got.find("add");
  EXPECT_EQ(got.layers[std::size_t(add)].type, LayerType::kAdd);
  EXPECT_EQ(got.layers[std::size_t(add)].inputs, (std::vector<int>{got.find("bn2"), got.find("relu0")}));
  EXPECT_EQ(m.line("add", "inputs"), m.line("add", "name") + 2);  // the add's inputs are written out
  EXPECT_EQ(got.layers[1].bn_scale, (std::vector<double>{1.5, -0.5, 2, 0.25}));  // negative scale allowed
  EXPECT_EQ(got.layers[4].bn_shift, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(got.layers[6].weight(35, 3), -127);
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_EQ(got.layers[i].output_shape, (std::vector<int>{4, 8, 8})) << got.layers[i].name;
  EXPECT_EQ(got.layers[10].output_shape, std::vector<int>{4});
  EXPECT_EQ(got.layers[11].output_shape, std::vector<int>{10});
}

TEST_F(BundleTest, FlowStyleLayersExplicitInputAndOptionalKeysLoad) {
  // Written by hand: flow-style entries, "inputs: [input]", maxpool padding, avgpool, flatten of [F].
  fs::create_directories(dir_);
  npy::write(path("w.npy"), {2, 12}, std::vector<double>(24, 1.0), "<i8");
  npy::write(path("s.npy"), {2}, {0.5, 0.25}, "<f4");
  const std::string text =
      "format: cimsim-model-bundle\nversion: 1\nname: flow\n"
      "input: {shape: [3, 6, 6], mean: [0, 0, 0], std: [1, 1, 1]}\n"
      "classes: 2\nbits: {weight: 2, input: 1}\nlayers:\n"
      "  - {name: pool, type: maxpool, inputs: [input], kernel: [3, 3], stride: [2, 2], "
      "padding: [1, 1]}\n"
      "  - {name: avg, type: avgpool, kernel: [2, 2], stride: [1, 1]}\n"
      "  - {name: flat, type: flatten}\n"
      "  - {name: flat2, type: flatten}\n"
      "  - {name: fc, type: linear, in_features: 12, out_features: 2, weight: w.npy,\n"
      "     weight_scale: s.npy, input_scale: 1e-2, adc: {lo: 0, hi: 3}}\n";
  std::ofstream(manifest()) << text;
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  EXPECT_EQ(got.layers[0].inputs, std::vector<int>{-1});
  EXPECT_EQ(got.layers[0].padding, (std::array<int, 2>{{1, 1}}));
  EXPECT_EQ(got.layers[0].output_shape, (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(got.layers[1].output_shape, (std::vector<int>{3, 2, 2}));
  EXPECT_EQ(got.layers[3].output_shape, std::vector<int>{12});
  EXPECT_EQ(got.layers[4].weight_scale, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(got.layers[4].input_scale, 1e-2);
  EXPECT_TRUE(got.layers[4].has_adc);
  EXPECT_FALSE(got.layers[4].adc.full);
  EXPECT_EQ(got.layers[4].adc.hi, 3);
  const auto fc_line =
      std::count(text.begin(), text.begin() + std::ptrdiff_t(text.find("{name: fc")), '\n') + 1;
  EXPECT_EQ(got.layers[4].line, fc_line);
}

// ---- 2. manifest errors -------------------------------------------------------------------------

TEST_F(BundleTest, MissingDirectoryAndManifest) {
  std::string m = error();
  EXPECT_TRUE(starts_with(m, dir_ + ": not a directory"));
  fs::create_directories(dir_);
  m = error();
  EXPECT_TRUE(starts_with(m, manifest() + ": cannot open the manifest"));
}

TEST_F(BundleTest, YamlSyntaxError) {
  Manifest m = written(lenet());
  const int line = m.line("conv1", "kernel");
  m.set("conv1", "kernel", "[5, 5").save();
  // yaml-cpp finds the unclosed flow list when the next line starts.
  const std::string message = error();
  EXPECT_TRUE(starts_with(message, manifest() + ":" + std::to_string(line + 1) + ":"));
  EXPECT_TRUE(has_all(message, {"YAML syntax error", "end of sequence flow not found"}));
}

TEST_F(BundleTest, WrongFormat) {
  Manifest m = written(lenet());
  m.set("", "format", "onnx").save();
  expect_manifest_error(m.line("", "format"), "format",
                        {"'onnx' is not a model bundle", "cimsim-model-bundle"});
}

TEST_F(BundleTest, UnsupportedVersion) {
  Manifest m = written(lenet());
  m.set("", "version", "2").save();
  expect_manifest_error(m.line("", "version"), "version", {"2 is not supported", "reads version 1"});
}

TEST_F(BundleTest, MissingTopLevelKey) {
  Manifest m = written(lenet());
  m.erase("", "classes").save();
  // A missing top-level key is reported where the document's mapping starts.
  expect_manifest_error(m.line("", "format"), "classes", {"missing required key", "add 'classes:'"});
}

TEST_F(BundleTest, MissingLayerKeyIsReportedAtTheLayer) {
  Manifest m = written(lenet());
  m.erase("conv1", "input_scale").save();
  expect_manifest_error(m.line("conv1", "name"), "layers[0].input_scale", {"missing required key"});
}

TEST_F(BundleTest, MisspelledKeyGetsDidYouMean) {
  Manifest m = written(lenet());
  m.replace("pool1", "stride", "    strid: [2, 2]").save();
  expect_manifest_error(m.line("pool1", "strid"), "layers[2].strid",
                        {"unknown key", "did you mean 'stride'?"});
}

TEST_F(BundleTest, UnknownLayerKey) {
  Manifest m = written(lenet());
  m.add("conv2", "dropout", "0.5").save();
  expect_manifest_error(m.line("conv2", "dropout"), "layers[3].dropout",
                        {"unknown key", "known keys here", "weight"});
}

TEST_F(BundleTest, KeyOfAnotherLayerTypeIsUnknown) {
  Manifest m = written(lenet());
  m.add("relu1", "kernel", "[2, 2]").save();
  expect_manifest_error(m.line("relu1", "kernel"), "layers[1].kernel",
                        {"unknown key", "known keys here: inputs, name, type"});
}

TEST_F(BundleTest, UnknownTopLevelAndSectionKeys) {
  Manifest m = written(lenet());
  m.add("", "comment", "trained on fashion").save();
  expect_manifest_error(m.line("", "comment"), "comment", {"unknown key"});
  m.erase("", "comment").replace("", "bits.input", "  inptu: 4").save();
  expect_manifest_error(m.line("", "bits.inptu"), "bits.inptu", {"unknown key", "did you mean 'input'?"});
}

TEST_F(BundleTest, UnknownLayerTypeListsTheKnownOnes) {
  Manifest m = written(lenet());
  m.set("relu1", "type", "relu6").save();
  expect_manifest_error(m.line("relu1", "type"), "layers[1].type",
                        {"unknown layer type 'relu6'", "did you mean 'relu'?",
                         "conv2d, linear, batchnorm, relu, maxpool, avgpool, global_avgpool, flatten, add"});
}

TEST_F(BundleTest, DuplicateLayerName) {
  Manifest m = written(lenet());
  const int first = m.line("relu1", "name");
  const int line = m.line("relu2", "name");
  m.set("relu2", "name", "relu1").save();
  expect_manifest_error(line, "layers[4].name",
                        {"duplicate layer name 'relu1'", "first used at line " + std::to_string(first)});
}

TEST_F(BundleTest, LayerNamedInput) {
  Manifest m = written(lenet());
  m.set("relu1", "name", "input").save();
  expect_manifest_error(m.line("input", "name"), "layers[1].name", {"'input' is the network input"});
}

TEST_F(BundleTest, InputsNamingALaterLayer) {
  Manifest m = written(lenet());
  m.add("relu1", "inputs", "[pool1]").save();
  expect_manifest_error(m.line("relu1", "inputs"), "layers[1].inputs", {"'pool1' names no earlier layer"});
}

TEST_F(BundleTest, InputsNamingNoLayerGetDidYouMean) {
  Manifest m = written(lenet());
  m.add("pool1", "inputs", "[relu]").save();
  expect_manifest_error(m.line("pool1", "inputs"), "layers[2].inputs",
                        {"'relu' names no earlier layer", "did you mean 'relu1'?", "'input'"});
}

TEST_F(BundleTest, InputsNamingTheLayerItself) {
  Manifest m = written(lenet());
  m.add("relu1", "inputs", "[relu1]").save();
  expect_manifest_error(m.line("relu1", "inputs"), "layers[1].inputs", {"'relu1' names no earlier layer"});
}

TEST_F(BundleTest, AddNeedsTwoInputs) {
  Manifest m = written(resnet_block());
  m.set("add", "inputs", "[bn2]").save();
  expect_manifest_error(m.line("add", "inputs"), "layers[8].inputs",
                        {"expected a list of 2 layer names", "[a, b]"});
  m.erase("add", "inputs").save();
  expect_manifest_error(m.line("add", "name"), "layers[8].inputs", {"an add layer needs its two inputs"});
}

TEST_F(BundleTest, ReluTakesOneInput) {
  Manifest m = written(lenet());
  m.add("relu2", "inputs", "[conv1, conv2]").save();
  expect_manifest_error(m.line("relu2", "inputs"), "layers[4].inputs",
                        {"expected a list of 1 layer name for relu"});
}

TEST_F(BundleTest, ConvInChannelsMismatch) {
  Manifest m = written(lenet());
  m.set("conv2", "in_channels", "5").save();
  expect_manifest_error(m.line("conv2", "in_channels"), "layers[3].in_channels",
                        {"5 does not match the 6 channels", "'pool1' outputs [6, 14, 14]", "in_channels: 6"});
}

TEST_F(BundleTest, LinearInFeaturesMismatch) {
  Manifest m = written(lenet());
  m.set("fc1", "in_features", "399").save();
  expect_manifest_error(m.line("fc1", "in_features"), "layers[7].in_features",
                        {"399 does not match the 400 features", "'flatten' outputs [400]"});
}

TEST_F(BundleTest, LinearWithoutFlatten) {
  Manifest m = written(lenet());
  m.erase_layer("flatten").save();
  expect_manifest_error(
      m.line("fc1", "type"), "layers[6].type",
      {"linear needs a flat [F] input", "'pool2' outputs [16, 5, 5]", "add a flatten layer"});
}

TEST_F(BundleTest, GlobalAvgPoolNeedsAnImage) {
  Manifest m = written(resnet_block());
  m.add("fc", "inputs", "[gap]")
      .set("fc", "type", "global_avgpool")
      .erase("fc", "in_features")
      .erase("fc", "out_features")
      .erase("fc", "weight")
      .erase("fc", "weight_scale")
      .erase("fc", "input_scale")
      .save();
  expect_manifest_error(m.line("fc", "type"), "layers[11].type",
                        {"global_avgpool needs a [C, H, W] input but 'gap' outputs [4]"});
}

TEST_F(BundleTest, AddOfDifferentShapes) {
  Manifest m = written(resnet_block());
  m.set("add", "inputs", "[bn2, input]").save();
  expect_manifest_error(m.line("add", "inputs"), "layers[8].inputs",
                        {"same shape", "'bn2' outputs [4, 8, 8]", "'input' outputs [3, 8, 8]"});
}

TEST_F(BundleTest, BatchnormChannelsMismatch) {
  Manifest m = written(resnet_block());
  m.set("bn1", "channels", "5").save();
  expect_manifest_error(m.line("bn1", "channels"), "layers[4].channels", {"5 does not match the 4 channels"});
}

TEST_F(BundleTest, PoolingWindowLargerThanInput) {
  Manifest m = written(lenet());
  m.set("pool2", "kernel", "[11, 11]").save();
  expect_manifest_error(m.line("pool2", "kernel"), "layers[5].kernel",
                        {"11x11 window is larger than the input 10x10", "'relu2' outputs [16, 10, 10]"});
}

TEST_F(BundleTest, ConvKernelLargerThanPaddedInput) {
  Manifest m = written(resnet_block());
  m.set("conv0", "padding", "[0, 0]").set("", "input.shape", "[3, 2, 8]").save();
  expect_manifest_error(m.line("conv0", "kernel"), "layers[0].kernel",
                        {"3x3 window is larger than the input 2x8"});
}

TEST_F(BundleTest, MaxpoolPaddingAboveHalfTheKernel) {
  Manifest m = written(lenet());
  m.add("pool1", "padding", "[2, 1]").save();
  expect_manifest_error(m.line("pool1", "padding"), "layers[2].padding", {"exceeds half the kernel"});
}

TEST_F(BundleTest, LastLayerSizeIsNotClasses) {
  Manifest m = written(lenet());
  m.set("", "classes", "12").save();
  expect_manifest_error(m.line("", "classes"), "classes",
                        {"12 does not match the last layer 'fc2', which outputs [10]"});
}

TEST_F(BundleTest, BadListsAndIntervals) {
  Manifest m = written(lenet());
  m.set("conv1", "stride", "[1]").save();
  expect_manifest_error(m.line("conv1", "stride"), "layers[0].stride", {"expected a list of 2 integers"});
  m.set("conv1", "stride", "[1, 0]").save();
  expect_manifest_error(m.line("conv1", "stride"), "layers[0].stride", {"entry 1 (0) is out of range"});
  m.set("conv1", "stride", "[1, 1]").set("conv1", "adc", "{lo: 8, hi: -8}").save();
  expect_manifest_error(m.line("conv1", "adc"), "layers[0].adc.hi", {"must be above lo"});
  m.set("conv1", "adc", "fulll").save();
  expect_manifest_error(m.line("conv1", "adc"), "layers[0].adc", {"expected 'full' or a mapping"});
  m.set("conv1", "adc", "{lo: 0, high: 3}").save();
  expect_manifest_error(m.line("conv1", "adc"), "layers[0].adc.high", {"unknown key"});
}

TEST_F(BundleTest, NonPositiveScalesInTheManifest) {
  Manifest m = written(lenet());
  m.set("conv1", "input_scale", "0").save();
  expect_manifest_error(m.line("conv1", "input_scale"), "layers[0].input_scale", {"0 is not positive"});
  m.set("conv1", "input_scale", "0.1").set("conv2", "weight_scale", "-0.5").save();
  expect_manifest_error(m.line("conv2", "weight_scale"), "layers[3].weight_scale", {"-0.5 is not positive"});
  m.set("conv2", "weight_scale", ".nan").save();
  expect_manifest_error(m.line("conv2", "weight_scale"), "layers[3].weight_scale", {"not a finite number"});
}

TEST_F(BundleTest, MeanAndStdLengthsMustMatchChannels) {
  Manifest m = written(resnet_block());
  m.set("", "input.mean", "[0.5, 0.5]").save();
  expect_manifest_error(m.line("", "input.mean"), "input.mean",
                        {"has 2 entries but the input has C = 3 channels"});
  m.set("", "input.mean", "[0.5, 0.5, 0.5]").set("", "input.std", "[1, 1, 1, 1]").save();
  expect_manifest_error(m.line("", "input.std"), "input.std", {"has 4 entries"});
}

TEST_F(BundleTest, StdMustBePositive) {
  Manifest m = written(resnet_block());
  m.set("", "input.std", "[1, 0, 1]").save();
  expect_manifest_error(m.line("", "input.std"), "input.std", {"holds a value <= 0"});
}

TEST_F(BundleTest, BitsOutOfRange) {
  Manifest m = written(lenet());
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"bits.weight", "1"}, {"bits.weight", "17"}, {"bits.input", "0"}, {"bits.input", "17"}}) {
    Manifest(m).set("", key, value).save();
    expect_manifest_error(m.line("", key), key,
                          {value + " is out of range", key == "bits.weight" ? "2..16" : "1..16"});
  }
}

TEST_F(BundleTest, AbsoluteTensorPath) {
  Manifest m = written(lenet());
  m.set("conv1", "bias", "/tmp/conv1.bias.npy").save();
  expect_manifest_error(m.line("conv1", "bias"), "layers[0].bias",
                        {"absolute path", "relative to the bundle"});
}

// ---- 3. tensor errors ---------------------------------------------------------------------------

TEST_F(BundleTest, MissingTensorFile) {
  const Manifest m = written(lenet());
  fs::remove(path("conv2.weight.npy"));
  expect_tensor_error("conv2.weight.npy", "layers[3].weight", m.line("conv2", "weight"), {"does not exist"});
}

TEST_F(BundleTest, CorruptTensorFileKeepsTheReadersMessage) {
  const Manifest m = written(lenet());
  std::ofstream(path("fc1.weight.npy"), std::ios::trunc) << "not numpy";
  expect_tensor_error("fc1.weight.npy", "layers[7].weight", m.line("fc1", "weight"), {"not a .npy file"});
}

TEST_F(BundleTest, FloatWeightsAreRejected) {
  const Manifest m = written(lenet());
  npy::write(path("conv1.weight.npy"), {6, 1, 5, 5}, std::vector<double>(150, 1.0), "<f8");
  expect_tensor_error("conv1.weight.npy", "layers[0].weight", m.line("conv1", "weight"),
                      {"has dtype <f8", "signed integers"});
}

TEST_F(BundleTest, UnsignedWeightsAreRejectedNarrowSignedAccepted) {
  const Manifest m = written(lenet());
  // A [10, 120] int8 / uint8 file built by hand (npy::write has no 1-byte dtypes).
  auto raw = [](const std::string& descr) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (10, 120), }";
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header += '\n';
    std::string out = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
    for (int i = 0; i < 1200; ++i) out += static_cast<char>(i == 1199 ? -7 : 1);
    return out;
  };
  std::ofstream(path("fc2.weight.npy"), std::ios::binary | std::ios::trunc) << raw("|i1");
  const ModelBundle got = cimsim::load_model_bundle(dir_);
  EXPECT_EQ(got.layers[9].weight(119, 9), -7);
  EXPECT_EQ(got.layers[9].weight(0, 0), 1);
  std::ofstream(path("fc2.weight.npy"), std::ios::binary | std::ios::trunc) << raw("|u1");
  expect_tensor_error("fc2.weight.npy", "layers[9].weight", m.line("fc2", "weight"),
                      {"has dtype |u1", "int8"});
}

TEST_F(BundleTest, IntegerScalesAreRejected) {
  const Manifest m = written(lenet());
  npy::write(path("conv1.wscale.npy"), {6}, {1, 2, 3, 4, 5, 6}, "<i8");
  expect_tensor_error("conv1.wscale.npy", "layers[0].weight_scale", m.line("conv1", "weight_scale"),
                      {"has dtype <i8", "float32 or float64"});
  npy::write(path("conv1.wscale.npy"), {6}, {1, 2, 3, 4, 5, 6}, "<f4");
  npy::write(path("conv1.bias.npy"), {6}, {1, 2, 3, 4, 5, 6}, "<i8");
  expect_tensor_error("conv1.bias.npy", "layers[0].bias", m.line("conv1", "bias"), {"float32 or float64"});
}

TEST_F(BundleTest, BatchnormTensorsMustBeFloat) {
  const Manifest m = written(resnet_block());
  npy::write(path("bn1.bn_shift.npy"), {4}, {0, 0, 0, 0}, "<i8");
  expect_tensor_error("bn1.bn_shift.npy", "layers[4].shift", m.line("bn1", "shift"), {"float32 or float64"});
}

TEST_F(BundleTest, WrongTensorShapes) {
  const Manifest m = written(lenet());
  npy::write(path("conv1.weight.npy"), {6, 1, 3, 3}, std::vector<double>(54, 1.0), "<i8");
  expect_tensor_error(
      "conv1.weight.npy", "layers[0].weight", m.line("conv1", "weight"),
      {"expected shape [6, 1, 5, 5] [out_channels, in_channels, k_h, k_w]", "found [6, 1, 3, 3]"});
  npy::write(path("conv1.weight.npy"), {6, 1, 5, 5}, std::vector<double>(150, 1.0), "<i8");
  npy::write(path("fc2.bias.npy"), {1, 10}, std::vector<double>(10, 1.0));
  expect_tensor_error("fc2.bias.npy", "layers[9].bias", m.line("fc2", "bias"),
                      {"expected shape [10] [out_features]", "found [1, 10]"});
  npy::write(path("fc2.weight.npy"), {120, 10}, std::vector<double>(1200, 1.0), "<i8");  // transposed
  expect_tensor_error("fc2.weight.npy", "layers[9].weight", m.line("fc2", "weight"),
                      {"expected shape [10, 120] [out_features, in_features]", "found [120, 10]"});
}

TEST_F(BundleTest, NanAndInfInTensors) {
  const Manifest m = written(lenet());
  npy::write(path("conv1.bias.npy"), {6}, {0, 0, std::nan(""), 0, 0, 0});
  expect_tensor_error("conv1.bias.npy", "layers[0].bias", m.line("conv1", "bias"), {"element [2] is NaN"});
  npy::write(path("conv1.bias.npy"), {6}, {0, 0, 0, 0, 0, 0});
  npy::write(path("conv1.wscale.npy"), {6}, {1, 1, 1, 1, 1, std::numeric_limits<double>::infinity()});
  expect_tensor_error("conv1.wscale.npy", "layers[0].weight_scale", m.line("conv1", "weight_scale"),
                      {"element [5] is infinite"});
}

TEST_F(BundleTest, WeightsOutsideTheBitsRange) {
  const Manifest m = written(lenet());
  std::vector<double> w(150, 0.0);
  w[((4 * 1 + 0) * 5 + 2) * 5 + 3] = -8;  // [4, 0, 2, 3]
  npy::write(path("conv1.weight.npy"), {6, 1, 5, 5}, w, "<i8");
  expect_tensor_error("conv1.weight.npy", "layers[0].weight", m.line("conv1", "weight"),
                      {"element [4, 0, 2, 3] = -8 lies outside [-7, 7]", "bits.weight = 4"});
}

TEST_F(BundleTest, NonPositiveScaleInAFile) {
  const Manifest m = written(lenet());
  npy::write(path("conv1.wscale.npy"), {6}, {1, 1, 0, 1, 1, 1});
  expect_tensor_error("conv1.wscale.npy", "layers[0].weight_scale", m.line("conv1", "weight_scale"),
                      {"element [2] = 0 is not positive"});
}

}  // namespace

namespace {

// A block with every layer kind imported networks bring: a grouped (depthwise) conv with signed
// inputs, clip, concat.
BundleBuilder imported_block() {
  BundleBuilder b("imported-block", {4, 6, 6}, 10, {8, 8});
  BundleLayer& dw = b.conv2d("dw", 4, 8, {{3, 3}}, {{1, 1}}, {{1, 1}});
  dw.groups = 4;  // two outputs per group, each seeing one input channel
  for (int o = 0; o < 8; ++o)
    for (int k = 0; k < 9; ++k) dw.weight((o / 2) * 9 + k, o) = (k + o) % 5 - 2;
  dw.input_signed = true;
  b.clip("act", 0, 6);
  b.concat("cat", {"act", "input"});
  b.simple("gap", LayerType::kGlobalAvgPool);
  b.linear("fc", 12, 10).input_signed = true;
  return b;
}

}  // namespace

TEST_F(BundleTest, GroupedConvClipConcatAndSignedInputsRoundTrip) {
  const BundleBuilder b = imported_block();
  b.write(dir_);
  const cimsim::ModelBundle loaded = cimsim::load_model_bundle(dir_);
  const BundleLayer& dw = loaded.layers[0];
  EXPECT_EQ(dw.groups, 4);
  EXPECT_TRUE(dw.input_signed);
  EXPECT_EQ(dw.input_passes(), 2);
  EXPECT_EQ(dw.weight, b.bundle().layers[0].weight);  // block diagonal: zeros outside each group
  EXPECT_EQ(dw.weight(9, 0), 0);
  // The file holds only each output's own channels: [out, in / groups, k_h, k_w].
  const cimsim::npy::Array file = cimsim::npy::read(path("dw.weight.npy"));
  EXPECT_EQ(file.shape, (std::vector<int64_t>{8, 1, 3, 3}));
  EXPECT_EQ(file.descr, "|i1");
  EXPECT_EQ(loaded.layers[1].type, LayerType::kClip);
  EXPECT_EQ(loaded.layers[1].clip_max, 6);
  EXPECT_EQ(loaded.layers[2].output_shape, (std::vector<int>{12, 6, 6}));
  EXPECT_EQ(loaded.layers[2].inputs, (std::vector<int>{1, -1}));
  EXPECT_EQ(loaded.layers[4].input_passes(), 2);
}

TEST_F(BundleTest, GroupsMustDivideTheChannels) {
  Manifest m = written(imported_block());
  m.set("dw", "groups", "3").save();
  expect_manifest_error(m.line("dw", "groups"), "layers[0].groups",
                        {"3 does not divide in_channels 4 and out_channels 8", "depthwise: groups = in_channels"});
}

TEST_F(BundleTest, GroupedWeightFileOfTheDenseShapeIsRejected) {
  Manifest m = written(imported_block());
  m.set("dw", "groups", "1").save();
  const std::string e = error();
  EXPECT_TRUE(has_all(e, {"dw.weight.npy", "[out_channels, in_channels, k_h, k_w]"})) << e;
}

TEST_F(BundleTest, ConcatOfDifferentSizesAndClipBounds) {
  Manifest m = written(imported_block());
  m.set("cat", "inputs", "[act, gap]").save();
  expect_manifest_error(m.line("cat", "inputs"), "layers[2].inputs", {"'gap' names no earlier layer"});
  m.set("cat", "inputs", "[act]").save();
  expect_manifest_error(m.line("cat", "inputs"), "layers[2].inputs", {"2 to 1024 layer names for concat"});
  m = written(imported_block());
  m.set("act", "min", "6").save();
  expect_manifest_error(m.line("act", "max"), "layers[1].max", {"is not above min", "ReLU6"});
  m = written(imported_block());
  m.set("dw", "input_signed", "maybe").save();
  const std::string e = error();
  EXPECT_TRUE(has_all(e, {"layers[0].input_signed"})) << e;
}
