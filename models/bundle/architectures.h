// The shipped network architectures as bundle layer graphs with zero weights, for the trainer's
// experiments and the benchmarks. Channel counts are the published ones times network.width, rounded,
// at least 1.
//   lenet5:   LeCun et al. 1998 with ReLU and max pooling: conv5x5(6, pad 2) relu maxpool2 conv5x5(16)
//             relu maxpool2 flatten fc(120) relu fc(84) relu fc(classes).
//   vgg8:     6 conv + 2 fc (VGG style, Simonyan & Zisserman 2015): [conv3x3 bn relu] x 2 at 64, 128 and
//             256 channels, each pair followed by maxpool2; flatten fc(512) relu fc(classes).
//   resnet20: He et al. 2016, CIFAR variant: conv3x3(16) bn relu, 3 stages of 3 basic blocks at 16, 32
//             and 64 channels (stride 2 at the first block of stages 2 and 3), global_avgpool flatten
//             fc(classes). Block: conv3x3 bn relu conv3x3 bn, plus the shortcut, add, relu. The
//             shortcut is the identity, or (option B) a 1x1 conv with stride + bn where the shape
//             changes, so every block maps onto the bundle's conv2d + batchnorm + add.
#pragma once

#include "bundle/bundle_writer.h"

namespace cimsim {

// Each appends the network's layers to `b`, for inputs of `channels` x `size` x `size`.
void lenet5_graph(BundleBuilder& b, int channels, int size, double width);
void vgg8_graph(BundleBuilder& b, int channels, int size, double width);
void resnet20_graph(BundleBuilder& b, int channels, double width);

}  // namespace cimsim
