// chip.dataflow, chip.duplicate and the activation buffers (docs/timing.md, "Networks"): every
// layer's cycles with its pixels `copies` at a time and its buffer traffic at the configured
// bandwidth, and the simulation's end equal to the rule (pipelined: the pipeline recurrence over
// the batches; layer by layer: the sum per batch) in 96 configurations of batch, digital and array
// speed, copies, buffer bandwidth and dataflow, the arithmetic unchanged (the plain reference's
// logits); the recurrence and the buffer capacity against their closed forms on a chain and a
// residual block.
#include <gtest/gtest.h>

#include <tuple>

#include "../support/test_configs.h"
#include "../support/tiny_network.h"
#include "bundle/bundle_mapping.h"
#include "core/error.h"
#include "mapping/mvm_cycles.h"
#include "network_runner.h"

namespace cimsim {
namespace {

// A layer's buffer traffic per image by docs/timing.md: its inputs' and its output's elements at
// macro.input_bits each, in whole bytes; nothing for a flatten.
int64_t traffic_bytes(const ModelBundle& bundle, std::size_t i, int bits) {
  const BundleLayer& l = bundle.layers[i];
  if (l.type == LayerType::kFlatten) return 0;
  int64_t n = shape_elements(l.output_shape);
  for (int src : l.inputs) n += shape_elements(src < 0 ? bundle.input.shape : bundle.layers[std::size_t(src)].output_shape);
  return (n * bits + 7) / 8;
}

// batch, digital.ops_per_cycle, timing.array_cycles, copies of conv1 and conv3, buffer bytes per
// cycle (0: unlimited), pipelined or not
class PipelineTiming : public ::testing::TestWithParam<std::tuple<int, int, int, int, int, bool>> {};

TEST_P(PipelineTiming, TheSimulationFollowsTheRule) {
  const auto [batch, ops_per_cycle, array_cycles, copies, bytes_per_cycle, pipelined] = GetParam();
  std::mt19937 gen(42);
  const ModelBundle bundle = testing::every_layer_bundle(gen);
  testing::HwParams p;
  p.adc_ideal = true;
  p.array_cycles = array_cycles;
  const std::string n = std::to_string(copies);
  const HwConfig hw =
      parse_hw_config(testing::hw_yaml(p) + "digital:\n  ops_per_cycle: " + std::to_string(ops_per_cycle) +
                          "\nchip:\n  dataflow: " + (pipelined ? "pipelined" : "layer_by_layer") +
                          "\n  duplicate: {conv1: " + n + ", conv3: " + n + "}\n" +
                          (bytes_per_cycle ? "buffer:\n  bytes_per_cycle: " + std::to_string(bytes_per_cycle) +
                                                 "\n  pj_per_byte: 0.25\n"
                                           : std::string()),
                      "test.yaml");
  const data::Dataset images = testing::random_images(gen);
  NetworkOptions options;
  options.batch = batch;
  const NetworkReport report = run_network(hw, bundle, images, options);

  // Every layer's cycles: a CIM layer's pixels `copies` at a time, then its digital cycles; or
  // its buffer traffic's cycles when more.
  std::vector<int64_t> stages;
  int64_t slowest = 0, sum = 0, buffer_bound = 0;
  double buffer_pj = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const NetworkLayerReport& r = report.layers[i];
    const BundleLayer& l = bundle.layers[i];
    const int64_t bytes = traffic_bytes(bundle, i, hw.macro.input_bits);
    const int64_t traffic = bytes_per_cycle ? (bytes + bytes_per_cycle - 1) / bytes_per_cycle : 0;
    EXPECT_EQ(r.buffer_bytes_per_image, bytes) << l.name;
    EXPECT_EQ(r.buffer_cycles_per_image, traffic) << l.name;
    EXPECT_DOUBLE_EQ(r.buffer_pj, bytes_per_cycle ? 0.25 * double(bytes) * double(images.count) : 0.0) << l.name;
    buffer_pj += r.buffer_pj;
    int64_t compute = r.digital_cycles_per_image;
    if (l.is_cim()) {
      const int d = hw.chip.copies_of(l.name);
      const int64_t rounds = (l.output_pixels() + d - 1) / d;
      compute += rounds * r.mvm.cycles_per_mvm;
      EXPECT_EQ(r.mvm.macros, map_bundle_layer(l, hw.macro).macros() * d) << l.name;
      EXPECT_EQ(r.mvm.copies, d) << l.name;
      // What auto duplication plans with is what the simulation takes.
      EXPECT_EQ(r.mvm.cycles_per_mvm, mvm_cycles(hw, map_bundle_layer(l, hw.macro))) << l.name;
    }
    EXPECT_EQ(r.cycles_per_image, std::max(compute, traffic)) << l.name;
    // What auto duplication plans with (buffer-bound layers included) is what the simulation takes.
    EXPECT_EQ(r.cycles_per_image, stage_cycles(hw, bundle, i, hw.chip.copies_of(l.name),
                                               l.is_cim() ? r.mvm.cycles_per_mvm : 0))
        << l.name;
    buffer_bound += traffic > compute;
    stages.push_back(r.cycles_per_image);
    slowest = std::max(slowest, r.cycles_per_image);
    sum += r.cycles_per_image;
  }
  if (bytes_per_cycle && ops_per_cycle == 64) EXPECT_GT(buffer_bound, 0);  // the buffers limit some stage
  EXPECT_DOUBLE_EQ(report.buffer_pj, buffer_pj);
  const int64_t batches = (images.count + batch - 1) / batch;
  if (pipelined) {
    EXPECT_EQ(report.simulated_cycles, pipeline_cycles(bundle, stages, batches));
    EXPECT_EQ(report.cycles_per_image, slowest);
    EXPECT_EQ(report.layers[std::size_t(report.bottleneck)].cycles_per_image, slowest);
    EXPECT_EQ(report.latency_cycles, sum);  // every layer is on the one path of this network
    EXPECT_EQ(report.run_cycles, pipeline_cycles(bundle, stages, images.count));
    EXPECT_LT(report.run_cycles, sum * images.count);  // faster than one image at a time
  } else {
    EXPECT_EQ(report.simulated_cycles, sum * batches);
    EXPECT_EQ(report.cycles_per_image, sum);
    EXPECT_EQ(report.run_cycles, sum * images.count);
  }
  // The same arithmetic whatever the dataflow and copies (ideal cells): the plain reference.
  for (int b = 0; b < int(images.count); ++b) {
    testing::Image image(72);
    for (int i = 0; i < 72; ++i)
      image[std::size_t(i)] = double(images.images[std::size_t(b * 72 + i)]) / 255.0;
    const std::vector<double> expected = testing::reference_logits(bundle, image);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(report.logits(b, c), expected[std::size_t(c)]) << b << "," << c;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, PipelineTiming,
                         ::testing::Combine(::testing::Values(1, 2, 5), ::testing::Values(1, 64),
                                            ::testing::Values(1, 3), ::testing::Values(1, 3),
                                            ::testing::Values(0, 2), ::testing::Bool()));

// chip.duplicate must name CIM layers of the model, and the copies count against chip.macros.
TEST(Duplication, NamesCimLayersAndCountsTheirMacros) {
  std::mt19937 gen(42);
  const ModelBundle bundle = testing::every_layer_bundle(gen);
  auto error = [&](const std::string& chip) {
    try {
      check_bundle_fits(parse_hw_config(testing::hw_yaml(testing::HwParams{}) + "chip:\n" + chip, "hw.yaml"),
                        bundle);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("  duplicate: {conv9: 2}\n").find("chip.duplicate.conv9:"), std::string::npos);
  EXPECT_NE(error("  duplicate: {conv9: 2}\n").find("has no layer 'conv9'"), std::string::npos);
  EXPECT_NE(error("  duplicate: {relu1: 2}\n").find("'relu1' is not a CIM layer"), std::string::npos);
  // conv1 2 + conv2 1 + conv3 6 + fc 1 = 10 macros; 3 copies of conv3 need 22.
  EXPECT_EQ(error("  macros: 22\n  duplicate: {conv3: 3}\n"), "no error");
  EXPECT_NE(error("  macros: 21\n  duplicate: {conv3: 3}\n").find("conv3: 18 (3 copies)"), std::string::npos)
      << error("  macros: 21\n  duplicate: {conv3: 3}\n");
  EXPECT_NE(error("  duplicate: {conv1: 0}\n").find("chip.duplicate.conv1: 0 is out of range"),
            std::string::npos);
}

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

// The buffer capacity by its closed forms (docs/timing.md, "Networks"), 4-bit elements. Layer by
// layer: the most bytes alive at one layer (a tensor lives from its writer to its last reader,
// through flattens). Pipelined: each tensor's bytes x ceil(lifetime / max T), its lifetime from the
// start of its writer (the input: of its first reader) to the end of its last reader.
TEST(BufferRule, CapacityClosedFormsOnAChainAndAResidualBlock) {
  HwConfig hw = testing::make_hw(testing::HwParams{});
  hw.macro.input_bits = 4;
  auto layer = [](LayerType type, std::vector<int> inputs, std::vector<int> shape) {
    BundleLayer l;
    l.type = type;
    l.inputs = std::move(inputs);
    l.output_shape = std::move(shape);
    return l;
  };
  // input 1x4x4 (8 bytes) -> relu 2x4x4 (16) -> flatten (a view: 0) -> relu 32 (16) -> relu 10 (5)
  ModelBundle chain;
  chain.input.shape = {1, 4, 4};
  chain.layers = {layer(LayerType::kRelu, {-1}, {2, 4, 4}), layer(LayerType::kFlatten, {0}, {32}),
                  layer(LayerType::kRelu, {1}, {32}), layer(LayerType::kRelu, {2}, {10})};
  EXPECT_EQ(tensor_bytes(hw, chain, -1), 8);
  EXPECT_EQ(tensor_bytes(hw, chain, 1), 0);
  EXPECT_EQ(buffer_bytes(hw, chain, 0), 8 + 16);
  EXPECT_EQ(buffer_bytes(hw, chain, 1), 0);
  EXPECT_EQ(buffer_bytes(hw, chain, 2), 16 + 16);
  hw.chip.dataflow = Dataflow::kLayerByLayer;
  // at relu0: input + its output; at the flatten: relu0's; at relu2: relu0's (read through the
  // flatten) + its own; at relu3: relu2's + its own
  EXPECT_EQ(buffer_capacity(hw, chain, {1, 0, 1, 1}), std::max({8 + 16, 16, 16 + 16, 16 + 5}));
  hw.chip.dataflow = Dataflow::kPipelined;
  // T = 5, 0, 9, 2: ends 5, 5, 14, 16, P = 9. input [0, 5] -> 1 image; relu0 [0, 14] -> 2;
  // relu2 [5, 16] -> 2; relu3 [14, 16] -> 1.
  EXPECT_EQ(buffer_capacity(hw, chain, {5, 0, 9, 2}), 8 * 1 + 16 * 2 + 16 * 2 + 5 * 1);

  // a -> b -> c -> add(a, c), every tensor 2x2x2 (4 bytes), T = 3, 10, 1, 2: ends 3, 13, 14, 16,
  // P = 10. a [0, 16] -> 2, b [3, 14] -> 2, c [13, 16] -> 1, add [14, 16] -> 1, input [0, 3] -> 1.
  ModelBundle residual;
  residual.input.shape = {2, 2, 2};
  residual.layers = {layer(LayerType::kRelu, {-1}, {2, 2, 2}), layer(LayerType::kRelu, {0}, {2, 2, 2}),
                     layer(LayerType::kRelu, {1}, {2, 2, 2}), layer(LayerType::kAdd, {0, 2}, {2, 2, 2})};
  EXPECT_EQ(buffer_bytes(hw, residual, 3), 12);
  EXPECT_EQ(buffer_capacity(hw, residual, {3, 10, 1, 2}), 4 * (1 + 2 + 2 + 1 + 1));
  hw.chip.dataflow = Dataflow::kLayerByLayer;
  // a lives to the add: at a input + a, at b a + b, at c a + b + c, at the add a + c + add
  EXPECT_EQ(buffer_capacity(hw, residual, {3, 10, 1, 2}), 4 * 3);

  // The input read by two layers, a flatten as the last layer, a lifetime of exactly 2 P:
  // x -> r0 (T 5); x, r0 -> add (T 5); add -> flatten (T 0). Ends 5, 10, 10; P = 5. Layer by
  // layer: at r0 x + r0, at the add x + r0 + add, at the flatten the add (read through it).
  ModelBundle fan;
  fan.input.shape = {2, 2, 2};
  fan.layers = {layer(LayerType::kRelu, {-1}, {2, 2, 2}), layer(LayerType::kAdd, {-1, 0}, {2, 2, 2}),
                layer(LayerType::kFlatten, {1}, {8})};
  EXPECT_EQ(buffer_bytes(hw, fan, 1), (8 + 8 + 8) * 4 / 8);  // both inputs and the output
  EXPECT_EQ(buffer_capacity(hw, fan, {5, 5, 0}), 4 * 3);
  hw.chip.dataflow = Dataflow::kPipelined;
  // x [0, 10] -> 2 images; r0 [0, 10] -> 2; add [5, 10] (its reader, the flatten, ends at 10) -> 1
  EXPECT_EQ(buffer_capacity(hw, fan, {5, 5, 0}), 4 * 2 + 4 * 2 + 4 * 1);
  // Nothing to hold without layers; every stage of 0 cycles holds one image.
  EXPECT_EQ(buffer_capacity(hw, ModelBundle{}, {}), 0);
  EXPECT_EQ(buffer_capacity(hw, fan, {0, 0, 0}), 4 * 3);
  EXPECT_THROW(buffer_capacity(hw, fan, {1, 2}), std::logic_error);
}

// chip.duplicate: auto adds copies to the slowest CIM layer while they fit and help: with twice
// the minimum macros the slowest stage gets faster, the budget holds, and the slowest layer could
// not take one more copy that helps.
TEST(Duplication, AutoBalancesTheStagesWithinTheBudget) {
  std::mt19937 gen(42);
  const ModelBundle bundle = testing::every_layer_bundle(gen);
  const HwConfig one = testing::make_hw(testing::HwParams{});
  auto stage = [&](const HwConfig& hw, std::size_t i) {
    const BundleLayer& l = bundle.layers[i];
    const int d = hw.chip.copies_of(l.name);
    return (l.output_pixels() + d - 1) / d * mvm_cycles(hw, map_bundle_layer(l, hw.macro)) +
           digital_cycles(hw, bundle, i);
  };
  int minimum = 0;
  int64_t slowest_before = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i)
    if (bundle.layers[i].is_cim()) {
      minimum += map_bundle_layer(bundle.layers[i], one.macro).macros();
      slowest_before = std::max(slowest_before, stage(one, i));
    }
  const HwConfig hw = resolve_duplication(
      parse_hw_config(testing::hw_yaml(testing::HwParams{}) +
                          "chip:\n  macros: " + std::to_string(2 * minimum) + "\n  duplicate: auto\n",
                      "hw.yaml"),
      bundle);
  ASSERT_FALSE(hw.chip.duplicate.empty());
  int used = 0;
  int64_t slowest = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    if (!bundle.layers[i].is_cim()) continue;
    used += map_bundle_layer(bundle.layers[i], hw.macro).macros() * hw.chip.copies_of(bundle.layers[i].name);
    if (stage(hw, i) > slowest) slowest = stage(hw, i), at = i;
  }
  EXPECT_LE(used, 2 * minimum);
  EXPECT_LT(slowest, slowest_before);
  HwConfig more = hw;
  more.chip.duplicate[bundle.layers[at].name] = hw.chip.copies_of(bundle.layers[at].name) + 1;
  EXPECT_TRUE(used + map_bundle_layer(bundle.layers[at], hw.macro).macros() > 2 * minimum ||
              stage(more, at) >= slowest);
  // Without a budget it is an error.
  EXPECT_THROW(
      resolve_duplication(
          parse_hw_config(testing::hw_yaml(testing::HwParams{}) + "chip:\n  duplicate: auto\n", "hw.yaml"),
          bundle),
      InputError);
}

}  // namespace
}  // namespace cimsim
