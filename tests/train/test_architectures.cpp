// The architectures have the published layer counts, scale with the width multiplier, take 1- and
// 3-channel images, and every layer is a bundle layer type the simulator runs.
#include <gtest/gtest.h>

#include <map>

#include "architectures.h"
#include "network.h"

namespace cimsim::train {
namespace {

ExperimentConfig experiment(const std::string& arch, double width, const std::string& set) {
  return parse_experiment("name: a\nnetwork: {arch: " + arch + ", width: " + std::to_string(width) +
                              "}\ndata: {set: " + set + (set == "fashion-mnist" ? "" : ", path: /nowhere") +
                              "}\nbits: {weight: 4, input: 4}\n"
                              "optimizer: {type: sgd, lr: 0.1}\nschedule: {epochs: 1, batch_size: 8}\n",
                          "a.yaml");
}

// conv kernel size (or 0 for linear) -> layers of that kind
std::map<int, int> cim_layers(const ModelBundle& b) {
  std::map<int, int> count;
  for (const BundleLayer& l : b.layers) {
    if (l.type == LayerType::kConv2d) ++count[l.kernel[0]];
    if (l.type == LayerType::kLinear) ++count[0];
  }
  return count;
}

TEST(Architectures, PublishedLayerCounts) {
  EXPECT_EQ(cim_layers(architecture(experiment("lenet5", 1, "fashion-mnist"))),
            (std::map<int, int>{{5, 2}, {0, 3}}));
  EXPECT_EQ(cim_layers(architecture(experiment("vgg8", 1, "cifar10"))), (std::map<int, int>{{3, 6}, {0, 2}}));
  // ResNet-20: 19 3x3 convolutions + 1 fc = 20 weight layers, plus 2 option-B 1x1 shortcuts.
  const ModelBundle resnet = architecture(experiment("resnet20", 1, "cifar10"));
  EXPECT_EQ(cim_layers(resnet), (std::map<int, int>{{3, 19}, {1, 2}, {0, 1}}));
  int adds = 0;
  for (const BundleLayer& l : resnet.layers) adds += l.type == LayerType::kAdd;
  EXPECT_EQ(adds, 9);
  EXPECT_EQ(resnet.layers.back().in_features, 64);
}

TEST(Architectures, WidthScalesChannelsAndInputsMayHaveOneOrThreeChannels) {
  torch::NoGradGuard no_grad;
  for (const char* arch : {"lenet5", "vgg8", "resnet20"}) {
    for (const char* set : {"fashion-mnist", "cifar10"}) {
      const ModelBundle half = architecture(experiment(arch, 0.5, set));
      const ModelBundle full = architecture(experiment(arch, 1, set));
      EXPECT_EQ(half.layers[0].in_channels, std::string(set) == "cifar10" ? 3 : 1);
      EXPECT_EQ(2 * half.layers[0].out_channels, full.layers[0].out_channels) << arch;
      torch::manual_seed(1);
      Network net(half);
      net->eval();
      const torch::Tensor logits =
          net->forward(torch::rand({2, half.input.shape[0], half.input.shape[1], half.input.shape[2]}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10})) << arch << " " << set;
    }
  }
}

}  // namespace
}  // namespace cimsim::train
