#include "architectures.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace cimsim {
namespace {

int scaled(int channels, double width) { return std::max(1, int(std::lround(channels * width))); }

// Spatial size after a convolution or pool.
int out_size(int in, int kernel, int stride, int padding) { return (in + 2 * padding - kernel) / stride + 1; }

}  // namespace

void lenet5_graph(BundleBuilder& b, int channels, int size, double width) {
  const int c1 = scaled(6, width), c2 = scaled(16, width), f1 = scaled(120, width), f2 = scaled(84, width);
  b.conv2d("conv1", channels, c1, {{5, 5}}, {{1, 1}}, {{2, 2}});
  b.simple("relu1", LayerType::kRelu);
  b.maxpool("pool1", {{2, 2}}, {{2, 2}});
  b.conv2d("conv2", c1, c2, {{5, 5}});
  b.simple("relu2", LayerType::kRelu);
  b.maxpool("pool2", {{2, 2}}, {{2, 2}});
  b.simple("flatten", LayerType::kFlatten);
  const int s = out_size(out_size(size / 2, 5, 1, 0), 2, 2, 0);  // conv1 keeps the size (padding 2)
  b.linear("fc1", c2 * s * s, f1);
  b.simple("relu3", LayerType::kRelu);
  b.linear("fc2", f1, f2);
  b.simple("relu4", LayerType::kRelu);
  b.linear("fc3", f2, 10);
}

void vgg8_graph(BundleBuilder& b, int channels, int size, double width) {
  int in = channels;
  int conv = 0;
  for (int stage = 0; stage < 3; ++stage) {
    const int c = scaled(64 << stage, width);
    for (int i = 0; i < 2; ++i) {
      const std::string n = std::to_string(++conv);
      b.conv2d("conv" + n, in, c, {{3, 3}}, {{1, 1}}, {{1, 1}});
      b.batchnorm("bn" + n, c);
      b.simple("relu" + n, LayerType::kRelu);
      in = c;
    }
    b.maxpool("pool" + std::to_string(stage + 1), {{2, 2}}, {{2, 2}});
    size = out_size(size, 2, 2, 0);
  }
  b.simple("flatten", LayerType::kFlatten);
  const int hidden = scaled(512, width);
  b.linear("fc1", in * size * size, hidden);
  b.simple("relu7", LayerType::kRelu);
  b.linear("fc2", hidden, 10);
}

void resnet20_graph(BundleBuilder& b, int channels, double width) {
  int in = scaled(16, width);
  b.conv2d("conv1", channels, in, {{3, 3}}, {{1, 1}}, {{1, 1}});
  b.batchnorm("bn1", in);
  b.simple("relu1", LayerType::kRelu);
  std::string block_input = "relu1";
  for (int stage = 0; stage < 3; ++stage) {
    const int c = scaled(16 << stage, width);
    for (int block = 0; block < 3; ++block) {
      const int stride = stage > 0 && block == 0 ? 2 : 1;
      const std::string p = "s" + std::to_string(stage + 1) + "b" + std::to_string(block + 1) + "_";
      b.conv2d(p + "conv_a", in, c, {{3, 3}}, {{stride, stride}}, {{1, 1}});
      b.connect(p + "conv_a", {block_input});
      b.batchnorm(p + "bn_a", c);
      b.simple(p + "relu_a", LayerType::kRelu);
      b.conv2d(p + "conv_b", c, c, {{3, 3}}, {{1, 1}}, {{1, 1}});
      b.batchnorm(p + "bn_b", c);
      std::string shortcut = block_input;
      if (stride != 1 || in != c) {
        b.conv2d(p + "conv_s", in, c, {{1, 1}}, {{stride, stride}});
        b.connect(p + "conv_s", {block_input});
        b.batchnorm(p + "bn_s", c);
        shortcut = p + "bn_s";
      }
      b.add(p + "add", p + "bn_b", shortcut);
      b.simple(p + "relu", LayerType::kRelu);
      block_input = p + "relu";
      in = c;
    }
  }
  b.simple("gap", LayerType::kGlobalAvgPool);
  b.simple("flatten", LayerType::kFlatten);
  b.linear("fc", in, 10);
}

}  // namespace cimsim
