// Parity for the layer kinds imported networks bring (docs/model-bundle.md): grouped (depthwise)
// convolutions, concat, clip (ReLU6) and signed inputs (docs/numerics.md section 11). A bundle with
// all of them, built here with random integer weights, is loaded into the trainer's network (built
// from the bundle's own graph, as `cimsim train --from` does) and evaluated in double in the exact
// order; the SystemC simulator runs the same bundle on float images. Logits must be equal (==), with
// an ideal ADC and with a 4-bit ADC over fixed intervals (the two passes of a signed layer each
// convert), with analog and digital subtraction and a saturating accumulator.
// Each TEST runs in its own process (SystemC elaborates once per process).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "../support/test_configs.h"
#include "bundle/bundle_writer.h"
#include "bundle_io.h"
#include "image_tensors.h"
#include "network_runner.h"

namespace cimsim::train {
namespace {

void fill(BundleLayer& l, std::mt19937& rng, int weight_bits, double input_scale, bool input_signed) {
  const int top = (1 << (weight_bits - 1)) - 1;
  std::uniform_int_distribution<int> w(-top, top);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  const int n = int(l.weight.cols());
  const int rows_per_group = int(l.weight.rows()) / l.groups, outs_per_group = n / l.groups;
  for (int o = 0; o < n; ++o) {
    const int first = o / outs_per_group * rows_per_group;
    for (int k = 0; k < rows_per_group; ++k) l.weight(first + k, o) = w(rng);
    l.weight_scale[std::size_t(o)] = 0.02 * u(rng);
    l.bias[std::size_t(o)] = 0.1 * (u(rng) - 1.0);
  }
  l.input_scale = input_scale;
  l.input_signed = input_signed;
}

ModelBundle imported_like(int weight_bits, int input_bits) {
  BundleBuilder b("imported", {2, 8, 8}, 10, BundleBits{weight_bits, input_bits});
  b.bundle().input.mean = {0.5, 0.4};
  b.bundle().input.std = {0.25, 0.3};
  std::mt19937 rng(7);
  fill(b.conv2d("stem", 2, 4, {3, 3}, {1, 1}, {1, 1}), rng, weight_bits, 0.2, true);
  b.clip("stem_act", 0, 6);
  BundleLayer& dw = b.conv2d("depthwise", 4, 4, {3, 3}, {2, 2}, {1, 1});
  dw.groups = 4;
  fill(dw, rng, weight_bits, 0.3, false);
  b.clip("dw_act", 0.0, 6.0);
  fill(b.conv2d("project", 4, 4, {1, 1}), rng, weight_bits, 0.1, true);  // after a clip, but signed anyway
  BundleLayer& side = b.conv2d("side", 4, 4, {1, 1}, {2, 2});
  b.connect("side", {"stem_act"});
  fill(side, rng, weight_bits, 0.3, false);
  b.add("res", "project", "side");
  b.concat("cat", {"res", "side"});
  b.simple("pool", LayerType::kGlobalAvgPool);
  fill(b.linear("fc", 8, 10), rng, weight_bits, 0.05, true);
  // Through the files, as the simulator and the trainer read bundles (the loader infers the shapes).
  const std::string dir = (std::filesystem::path(::testing::TempDir()) / ("imported_" + std::to_string(::getpid()))).string();
  write_model_bundle_atomically(b.bundle(), dir);
  ModelBundle loaded = load_model_bundle(dir);
  std::filesystem::remove_all(dir);
  return loaded;
}

data::Dataset float_images(int count) {
  data::Dataset d;
  d.name = "random";
  d.count = count;
  d.channels = 2;
  d.height = d.width = 8;
  d.num_classes = 10;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int i = 0; i < count * 2 * 64; ++i) d.values.push_back(u(rng));
  for (int i = 0; i < count; ++i) d.labels.push_back(i % 10);
  return d;
}

void expect_parity(cimsim::testing::HwParams p) {
  torch::set_num_threads(2);
  const ModelBundle bundle = imported_like(p.weight_bits, p.input_bits);
  const HwConfig hw = cimsim::testing::make_hw(p);
  Network net(bundle);
  net->to(torch::kDouble);
  load_bundle_into(*net, bundle);
  if (!p.adc_ideal) {
    net->set_hardware(hw, CimNoise{});
    net->set_exact(true);
  }
  net->eval();
  const data::Dataset images = float_images(6);
  const ImageTensors x = to_tensors(images, bundle.input.mean, bundle.input.std, torch::kDouble);
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(x.images).contiguous();
  }
  NetworkOptions options;
  options.batch = 4;
  const NetworkReport report = run_network(hw, bundle, images, options);
  ASSERT_EQ(report.logits.rows(), images.count);
  int64_t distinct = 0;
  for (int64_t b = 0; b < images.count; ++b)
    for (int k = 0; k < 10; ++k) {
      EXPECT_EQ(report.logits(b, k), logits[b][k].item<double>()) << "image " << b << " class " << k;
      distinct += logits[b][k].item<double>() != logits[0][0].item<double>();
    }
  EXPECT_GT(distinct, 0);
  // Signed layers run twice: their cycles are twice an unsigned layer's of the same shape.
  const auto& layers = report.layers;
  EXPECT_EQ(layers[std::size_t(bundle.find("project"))].mvm.vectors, 2 * 16 * images.count);
  EXPECT_EQ(layers[std::size_t(bundle.find("side"))].mvm.vectors, 16 * images.count);
}

cimsim::testing::HwParams params(bool ideal) {
  cimsim::testing::HwParams p;
  p.rows = 32;
  p.cols = 16;
  p.rows_per_cycle = 8;
  p.adc_ideal = ideal;
  p.adc_bits = 4;
  p.interval = "{lo: -20, hi: 30}";
  return p;
}

TEST(ImportedGraphParity, IdealAdc) { expect_parity(params(true)); }
TEST(ImportedGraphParity, FourBitAdcAnalogSubtraction) { expect_parity(params(false)); }
TEST(ImportedGraphParity, FourBitAdcDigitalSubtractionSaturating) {
  cimsim::testing::HwParams p = params(false);
  p.subtraction = "digital";
  p.dac_bits = 2;
  p.cell_bits = 2;
  p.accumulator_bits = "9";
  expect_parity(p);
}

}  // namespace
}  // namespace cimsim::train
