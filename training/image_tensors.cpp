#include "image_tensors.h"

#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "data/cifar_reader.h"
#include "data/idx_reader.h"
#include "data/npy_images.h"

namespace cimsim::train {
namespace {
// Key-path tag of the shuffle draws ("SHUF"); distinct from the simulator's RngTag values.
constexpr uint64_t kShuffleStream = 0x53485546;
}  // namespace

ImageTensors to_tensors(const data::Dataset& data, const std::vector<double>& mean,
                        const std::vector<double>& std, torch::Dtype dtype) {
  ImageTensors t;
  const std::vector<int64_t> shape{data.count, data.channels, data.height, data.width};
  // In double first, as the simulator computes it (sim/network_runner.cpp: (v / 255 - mean) / std,
  // or (value - mean) / std for float images).
  torch::Tensor x =
      data.is_float()
          ? torch::from_blob(const_cast<float*>(data.values.data()), shape, torch::kFloat).to(torch::kDouble)
          : torch::from_blob(const_cast<uint8_t*>(data.images.data()), shape, torch::kUInt8).to(torch::kDouble) /
                255.0;
  for (const std::vector<double>* v : {&mean, &std})
    if (v->size() != 1 && int64_t(v->size()) != data.channels)
      throw InputError(data.name + ": " + std::to_string(v->size()) + " mean or std values for " +
                       std::to_string(data.channels) + "-channel images; give one value per channel (or one for all)");
  for (int64_t c = 0; c < data.channels; ++c) {
    torch::Tensor plane = x.select(1, c);
    // One value stands for every channel's.
    plane.sub_(mean[mean.size() == 1 ? 0 : std::size_t(c)]).div_(std[std.size() == 1 ? 0 : std::size_t(c)]);
  }
  t.images = x.to(dtype);
  t.labels = torch::from_blob(const_cast<int32_t*>(data.labels.data()), {data.count}, torch::kInt32)
                 .to(torch::kLong);
  return t;
}

data::Dataset load_split(const DataSpec& spec, data::Split split) {
  const int64_t limit = split == data::Split::kTrain ? spec.train_limit : spec.test_limit;
  if (spec.set == "npy") {
    const std::string& files = split == data::Split::kTrain ? spec.train_files : spec.test_files;
    const auto comma = files.find(',');
    return data::load_npy_images(files.substr(0, comma), files.substr(comma + 1), limit);
  }
  if (spec.set == "fashion-mnist") return data::load_fashion_mnist(spec.path, split, limit);
  if (spec.set == "mnist") return data::load_mnist(spec.path, split, limit);
  return data::load_cifar10(spec.path, split, limit);
}

std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int epoch) {
  std::vector<int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), int64_t(0));
  const CounterRng rng(seed, {kShuffleStream, uint64_t(epoch)});
  for (int64_t i = count - 1; i > 0; --i) {
    // Modulo bias is below count / 2^64: negligible, and the draw stays a pure function of the key.
    const int64_t j = int64_t(rng.bits(uint64_t(i)) % uint64_t(i + 1));
    std::swap(order[std::size_t(i)], order[std::size_t(j)]);
  }
  return order;
}

}  // namespace cimsim::train
