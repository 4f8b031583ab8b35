#include "architectures.h"

#include "bundle/architectures.h"
#include "bundle/bundle_writer.h"

namespace cimsim::train {

std::vector<int> input_shape(const DataSpec& data) {
  return data.set == "cifar10" ? std::vector<int>{3, 32, 32} : std::vector<int>{1, 28, 28};
}

ModelBundle architecture(const ExperimentConfig& config) {
  const std::vector<int> shape = input_shape(config.data);
  BundleBuilder b(config.name, shape, 10, BundleBits{config.weight_bits, config.input_bits});
  b.bundle().input.mean = config.data.mean;
  b.bundle().input.std = config.data.std;
  if (config.network.arch == "lenet5") {
    lenet5_graph(b, shape[0], shape[1], config.network.width);
  } else if (config.network.arch == "vgg8") {
    vgg8_graph(b, shape[0], shape[1], config.network.width);
  } else {
    resnet20_graph(b, shape[0], config.network.width);
  }
  return b.bundle();
}

}  // namespace cimsim::train
