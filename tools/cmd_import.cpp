// `cimsim import MODEL.onnx --out DIR`: an ONNX model exported from PyTorch, lowered onto bundle layers
// and quantized after training (docs/import.md).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "bundle/bundle_writer.h"
#include "cli_common.h"
#include "core/error.h"
#include "import/onnx_model.h"
#include "import/ptq.h"

namespace cimsim::cli {
namespace {

struct ImportArgs {
  std::string model, out, name, data = "fashion-mnist", split = "train", mean, std;
  int weight_bits = 8, input_bits = 8;
  int64_t calib_images = 256;
  std::string weight_method = "mse", input_method = "percentile";
  double percentile = 99.99;
};

// "0.5,0.25" -> {0.5, 0.25}; one value per channel (one value is repeated).
std::vector<double> channel_values(const std::string& text, const std::string& option, int channels,
                                   double fallback) {
  if (text.empty()) return std::vector<double>(std::size_t(channels), fallback);
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || !std::isfinite(v))
      throw InputError(option + " " + text + ": '" + item + "' is not a number; give one number per channel, e.g. " +
                       option + " 0.2860");
    out.push_back(v);
  }
  if (out.size() == 1) out.assign(std::size_t(channels), out[0]);
  if (int(out.size()) != channels)
    throw InputError(option + " " + text + ": " + std::to_string(out.size()) + " values for a " +
                     std::to_string(channels) + "-channel input; give one per channel");
  return out;
}

int run(const ImportArgs& a) {
  const onnx_import::OnnxModel model = onnx_import::read_onnx_model(a.model);
  const int channels = int(model.input_shape[1]);
  onnx_import::PtqOptions o;
  o.weight_bits = a.weight_bits;
  o.input_bits = a.input_bits;
  o.weight_method = a.weight_method;
  o.input_method = a.input_method;
  o.percentile = a.percentile;
  o.mean = channel_values(a.mean, "--mean", channels, 0.0);
  o.std = channel_values(a.std, "--std", channels, 1.0);
  for (double s : o.std)
    if (!(s > 0)) throw InputError("--std " + a.std + ": standard deviations must be positive");
  o.name = a.name.empty() ? std::filesystem::path(a.model).stem().string() : a.name;
  const data::Dataset calibration = load_data(a.data, a.split, a.calib_images);
  if (calibration.count == 0) throw InputError("--data " + a.data + ": no images to calibrate with");
  // The network input is never negative when every pixel / 255 (in [0, 1]) or, for float images,
  // every calibration value is at least its channel's mean; else the first layers take signed inputs.
  bool input_nonneg = std::all_of(o.mean.begin(), o.mean.end(), [](double m) { return m <= 0; });
  if (calibration.is_float() && int(o.mean.size()) == calibration.channels) {
    input_nonneg = true;
    const int64_t plane = calibration.height * calibration.width;
    for (int64_t i = 0; i < calibration.count; ++i)
      for (int64_t k = 0; k < calibration.image_size(); ++k)
        input_nonneg = input_nonneg && calibration.input(i, k) >= o.mean[std::size_t(k / plane)];
  }
  const onnx_import::FloatGraph graph = onnx_import::lower_onnx(model, input_nonneg);
  if (calibration.channels != graph.input_shape[0] || calibration.height != graph.input_shape[1] ||
      calibration.width != graph.input_shape[2]) {
    throw InputError(a.model + ": the model takes " + std::to_string(graph.input_shape[0]) + "x" +
                     std::to_string(graph.input_shape[1]) + "x" + std::to_string(graph.input_shape[2]) +
                     " images but " + calibration.name + " has " + std::to_string(calibration.channels) + "x" +
                     std::to_string(calibration.height) + "x" + std::to_string(calibration.width) +
                     "; calibrate with the model's data (--data)");
  }
  const onnx_import::PtqResult r = onnx_import::quantize_graph(graph, calibration, o);
  write_model_bundle_atomically(r.bundle, a.out);

  std::printf("%s: %zu layers (%zu CIM), %d classes, weights %d bits, inputs %d bits -> %s\n", a.model.c_str(),
              r.bundle.layers.size(), r.layers.size(), r.bundle.classes, o.weight_bits, o.input_bits,
              a.out.c_str());
  std::printf("%-24s %7s %12s %12s %9s %9s\n", "layer", "input", "input_scale", "max |input|", "clipped",
              "w error");
  for (const auto& l : r.layers)
    std::printf("%-24s %7s %12.6g %12.6g %8.4f%% %8.4f%%%s\n", l.name.c_str(), l.input_signed ? "signed" : "unsigned",
                l.input_scale, l.input_max, 100.0 * l.clipped, 100.0 * l.weight_error,
                l.from_model ? "  (steps from the model)" : "");
  const double float_top1 = double(r.float_correct) / double(r.images);
  if (!calibration.labels.empty())
    std::printf("float model on the %lld calibration images: %.2f%% top-1\n", static_cast<long long>(r.images),
                100.0 * float_top1);
  // A run that is almost surely misconfigured says so.
  if (!calibration.labels.empty() && r.images >= 50 && float_top1 < 0.5) {
    spdlog::warn("the float model classifies only {:.1f}% of the {} calibration images: check --mean and --std (the "
                 "normalisation the model was trained with) and --data (the model's data set)",
                 100.0 * float_top1, r.images);
  }
  for (const auto& l : r.layers)
    if (l.clipped > 0.01)
      spdlog::warn("layer {}: {:.1f}% of its calibration inputs lie beyond the quantizer's range; use "
                   "--input-method mse or a higher --percentile, or more --input-bits",
                   l.name, 100.0 * l.clipped);
  return 0;
}

}  // namespace

std::function<int()> add_import_command(CLI::App& app) {
  auto a = std::make_shared<ImportArgs>();
  CLI::App* cmd =
      app.add_subcommand("import", "import an ONNX model and quantize it into a model bundle (docs/import.md)");
  cmd->fallthrough();
  cmd->add_option("model", a->model, "ONNX file (torch.onnx.export)")->required();
  cmd->add_option("--out", a->out, "bundle directory to write")->required();
  cmd->add_option("--name", a->name, "the bundle's name (default: the file name)");
  cmd->add_option("--weight-bits", a->weight_bits, "weight bits (default 8)")->check(CLI::Range(2, 16));
  cmd->add_option("--input-bits", a->input_bits, "input bits of every CIM layer (default 8)")->check(CLI::Range(1, 16));
  cmd->add_option("--mean", a->mean, "input mean per channel, comma-separated, of pixel / 255 (default 0)");
  cmd->add_option("--std", a->std, "input std per channel, comma-separated (default 1)");
  cmd->add_option("--data", a->data,
                  "calibration images: fashion-mnist (default), fashion-mnist:DIR, mnist:DIR, cifar10:DIR, "
                  "cifar100:DIR, npy:IMAGES.npy,LABELS.npy");
  cmd->add_option("--split", a->split, "train (default) or test")->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--calib-images", a->calib_images, "calibration images (default 256)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  cmd->add_option("--weight-method", a->weight_method, "per-channel weight steps: mse (default) or max")
      ->check(CLI::IsMember({"max", "mse"}));
  cmd->add_option("--input-method", a->input_method, "input steps: percentile (default) or mse")
      ->check(CLI::IsMember({"percentile", "mse"}));
  cmd->add_option("--percentile", a->percentile, "percentile of |input| for --input-method percentile (default 99.99)")
      ->check(finite_range(50.0, 100.0));
  return [cmd, a]() { return cmd->parsed() ? run(*a) : 0; };
}

}  // namespace cimsim::cli
