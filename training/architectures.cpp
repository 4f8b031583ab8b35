#include "architectures.h"

#include <algorithm>

#include "bundle/architectures.h"
#include "bundle/bundle_writer.h"
#include "core/error.h"
#include "image_tensors.h"

namespace cimsim::train {

std::vector<int> input_shape(const DataSpec& data) {
  if (data.set == "npy") {
    const data::Dataset one = load_split(data, data::Split::kTest);
    return {int(one.channels), int(one.height), int(one.width)};
  }
  return data.set == "cifar10" ? std::vector<int>{3, 32, 32} : std::vector<int>{1, 28, 28};
}

ModelBundle architecture(const ExperimentConfig& config) {
  if (config.network.arch.empty()) {
    throw InputError(config.source +
                     ": the experiment names no network; start from a model bundle (--from BUNDLE_DIR, e.g. "
                     "cimsim import's) or add network: {arch: lenet5}");
  }
  const std::vector<int> shape = input_shape(config.data);
  BundleBuilder b(config.name, shape, 10, BundleBits{config.weight_bits, config.input_bits});
  b.bundle().input.mean = config.data.mean;
  b.bundle().input.std = config.data.std;
  if (config.data.mean.size() == 1) b.bundle().input.mean.assign(std::size_t(shape[0]), config.data.mean[0]);
  if (config.data.std.size() == 1) b.bundle().input.std.assign(std::size_t(shape[0]), config.data.std[0]);
  if (config.network.arch == "lenet5") {
    lenet5_graph(b, shape[0], shape[1], config.network.width);
  } else if (config.network.arch == "vgg8") {
    vgg8_graph(b, shape[0], shape[1], config.network.width);
  } else {
    resnet20_graph(b, shape[0], config.network.width);
  }
  // Normalised images below 0 (mean > 0) need signed inputs in the layers that read them.
  const bool negative = std::any_of(config.data.mean.begin(), config.data.mean.end(), [](double m) { return m > 0; });
  for (BundleLayer& l : b.bundle().layers)
    if (l.is_cim() && l.inputs[0] < 0) l.input_signed = negative;
  return b.bundle();
}

}  // namespace cimsim::train
