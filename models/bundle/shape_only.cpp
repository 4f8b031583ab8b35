#include "bundle/shape_only.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>

#include "bundle/architectures.h"
#include "bundle/bundle_writer.h"
#include "core/error.h"
#include "core/rng.h"

namespace cimsim {
namespace {
constexpr uint64_t kShapeOnlyStream = 0x5348415045;  // "SHAPE": not one of the simulator's RngTags
}  // namespace

const std::vector<std::string>& architecture_names() {
  static const std::vector<std::string> names = {"lenet5", "vgg8", "resnet20"};
  return names;
}

void randomize_weights(ModelBundle& b, BundleBits bits, uint64_t seed) {
  b.bits = bits;
  const int top = (1 << (bits.weight - 1)) - 1;
  const double levels = double((1 << bits.input) - 1);
  double pixel_range = 0;  // the largest |(v - mean) / std| for v in [0, 1]
  for (std::size_t c = 0; c < b.input.mean.size(); ++c)
    pixel_range = std::max({pixel_range, std::fabs(-b.input.mean[c]) / b.input.std[c],
                            std::fabs(1.0 - b.input.mean[c]) / b.input.std[c]});
  for (std::size_t i = 0; i < b.layers.size(); ++i) {
    BundleLayer& l = b.layers[i];
    if (!l.is_cim()) continue;
    const CounterRng rng(seed, {kShapeOnlyStream, uint64_t(i)});
    const Eigen::Index n = l.weight.cols(), rows = l.rows_per_output();
    l.weight.setZero();
    for (Eigen::Index o = 0; o < n; ++o)
      for (Eigen::Index r = l.first_row(int(o)); r < l.first_row(int(o)) + rows; ++r)
        l.weight(r, o) = int(rng.bits(uint64_t(r * n + o)) % uint64_t(2 * top + 1)) - top;
    l.weight_scale.assign(std::size_t(n), 1.0 / (double(top) * std::sqrt(double(rows))));
    l.bias.assign(std::size_t(n), 0.0);
    l.input_scale = (l.inputs[0] < 0 ? std::max(pixel_range, 1e-12) : 4.0) / levels;
    l.has_adc = false;
  }
}

ModelBundle architecture_bundle(const std::string& name, double width, const std::vector<int>& input_shape,
                                int classes, BundleBits bits) {
  const auto& names = architecture_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw InputError("arch:" + name + ": unknown architecture; use arch:lenet5, arch:vgg8 or arch:resnet20");
  if (!(width > 0 && width <= 16))
    throw InputError("arch:" + name + ":" + std::to_string(width) + ": the width multiplier must be in (0, 16]");
  BundleBuilder b(name, input_shape, classes, bits);
  if (name == "lenet5") lenet5_graph(b, input_shape[0], input_shape[1], width);
  else if (name == "vgg8") vgg8_graph(b, input_shape[0], input_shape[1], width);
  else resnet20_graph(b, input_shape[0], width);
  // The last layer of the builders outputs 10 classes; other counts: resize it.
  BundleLayer& last = b.bundle().layers.back();
  if (classes != last.out_features) {
    last.out_features = classes;
    last.weight.setZero(last.weight.rows(), classes);
    last.weight_scale.assign(std::size_t(classes), 1.0);
    last.bias.assign(std::size_t(classes), 0.0);
  }
  // Unique within the process (a counter) and among processes (the pid).
  static std::atomic<int> scratch_count{0};
  const std::string scratch_dir =
      (std::filesystem::temp_directory_path() /
       ("cimsim_arch_" + std::to_string(::getpid()) + "_" + std::to_string(++scratch_count)))
          .string();
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  b.write(scratch_dir);
  ModelBundle loaded = load_model_bundle(scratch_dir);
  std::filesystem::remove_all(scratch_dir, ec);
  loaded.dir.clear();
  loaded.manifest = "arch:" + name;
  return loaded;
}

ModelBundle shape_only_architecture(const std::string& name, double width,
                                    const std::vector<int>& input_shape, int classes, BundleBits bits,
                                    uint64_t seed) {
  ModelBundle bundle = architecture_bundle(name, width, input_shape, classes, bits);
  randomize_weights(bundle, bits, seed);
  return bundle;
}

}  // namespace cimsim
