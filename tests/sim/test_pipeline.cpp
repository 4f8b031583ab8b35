// chip.dataflow pipelined (docs/timing.md, "Networks"): every layer a stage taking the batches in
// order. The simulation's end equals the pipeline rule over the batches, in 24 configurations of
// batch, digital and array speed, and the arithmetic is the layer-by-layer one (the plain
// reference's logits). The rule itself against its closed forms on a chain and a residual block.
#include <gtest/gtest.h>

#include <tuple>

#include "../support/test_configs.h"
#include "../support/tiny_network.h"
#include "network_runner.h"

namespace cimsim {
namespace {

// batch, digital.ops_per_cycle, timing.array_cycles
class PipelineTiming : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(PipelineTiming, TheSimulationFollowsThePipelineRule) {
  const auto [batch, ops_per_cycle, array_cycles] = GetParam();
  std::mt19937 gen(42);
  const ModelBundle bundle = testing::every_layer_bundle(gen);
  testing::HwParams p;
  p.adc_ideal = true;
  p.array_cycles = array_cycles;
  const HwConfig hw =
      parse_hw_config(testing::hw_yaml(p) + "digital:\n  ops_per_cycle: " + std::to_string(ops_per_cycle) +
                          "\nchip:\n  dataflow: pipelined\n",
                      "test.yaml");
  const data::Dataset images = testing::random_images(gen);
  NetworkOptions options;
  options.batch = batch;
  const NetworkReport report = run_network(hw, bundle, images, options);

  std::vector<int64_t> stages;
  int64_t slowest = 0, sum = 0;
  for (const NetworkLayerReport& r : report.layers) {
    stages.push_back(r.cycles_per_image);
    slowest = std::max(slowest, r.cycles_per_image);
    sum += r.cycles_per_image;
  }
  const int64_t batches = (images.count + batch - 1) / batch;
  EXPECT_EQ(report.simulated_cycles, pipeline_cycles(bundle, stages, batches));
  EXPECT_EQ(report.cycles_per_image, slowest);
  EXPECT_EQ(report.layers[std::size_t(report.bottleneck)].cycles_per_image, slowest);
  EXPECT_EQ(report.latency_cycles, sum);  // every layer is on the one path of this network
  EXPECT_EQ(report.run_cycles, pipeline_cycles(bundle, stages, images.count));
  EXPECT_LT(report.run_cycles, sum * images.count);  // faster than one image at a time
  // The same arithmetic as layer by layer: the plain reference's logits.
  for (int b = 0; b < int(images.count); ++b) {
    testing::Image image(72);
    for (int i = 0; i < 72; ++i)
      image[std::size_t(i)] = double(images.images[std::size_t(b * 72 + i)]) / 255.0;
    const std::vector<double> expected = testing::reference_logits(bundle, image);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(report.logits(b, c), expected[std::size_t(c)]) << b << "," << c;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, PipelineTiming,
                         ::testing::Combine(::testing::Values(1, 2, 3, 5), ::testing::Values(1, 7, 64),
                                            ::testing::Values(1, 3)));

// The rule against its closed forms: on a chain, sum + (N - 1) x max; with a residual block
// (a -> b -> c -> add(a, c)), the largest over the paths of sum + (N - 1) x max along the path.
TEST(PipelineRule, ClosedFormsOnAChainAndAResidualBlock) {
  ModelBundle chain;
  chain.layers.resize(4);
  for (int i = 0; i < 4; ++i) chain.layers[std::size_t(i)].inputs = {i - 1};
  const std::vector<int64_t> t{5, 9, 2, 4};
  for (int64_t n : {1, 2, 7, 100}) EXPECT_EQ(pipeline_cycles(chain, t, n), 20 + (n - 1) * 9) << n;

  ModelBundle residual;
  residual.layers.resize(4);
  residual.layers[0].inputs = {-1};
  residual.layers[1].inputs = {0};
  residual.layers[2].inputs = {1};
  residual.layers[3].inputs = {0, 2};
  const std::vector<int64_t> r{3, 10, 1, 2};
  for (int64_t n : {1, 4, 50}) {
    const int64_t long_path = (3 + 10 + 1 + 2) + (n - 1) * 10, skip_path = (3 + 2) + (n - 1) * 3;
    EXPECT_EQ(pipeline_cycles(residual, r, n), std::max(long_path, skip_path)) << n;
  }
}

}  // namespace
}  // namespace cimsim
