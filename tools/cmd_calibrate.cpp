// `cimsim calibrate`: runs a model over calibration images on the simulated chip, takes every CIM
// layer's histogram of the partial sums at its ADC inputs and chooses the layer's ADC interval
// (minmax, percentile or mse; models/adc/adc_calibration.h, docs/calibration.md), one layer after
// the other in one simulation (calibrate_network).
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>

#include "adc/calibration_file.h"
#include "cli_common.h"
#include "core/error.h"
#include "io/output_files.h"
#include "model_calibration.h"
#include "network_runner.h"

namespace cimsim::cli {
namespace {

struct CalibrateArgs {
  std::string hw, model, data = "fashion-mnist", split = "train", method = "mse", out;
  std::vector<std::string> overrides;
  double percentile = 99.99;
  bool zero_level = false;
  int64_t limit = 1000;
  int batch = 64;
  uint64_t seed = 1;
};

// The chosen interval of each layer with its clipped shares and errors.
void print_intervals(const CalibrationFile& file) {
  fmt::print("{:<12} {:>14} {:>14} {:>8} {:>8} {:>14} {:>14}\n", "layer", "lo", "hi", "clip-%", "clip+%",
             "mse", "full-range mse");
  for (const LayerCalibration& l : file.layers) {
    fmt::print("{:<12} {:>14.4f} {:>14.4f} {:>8.3f} {:>8.3f} {:>14.4g} {:>14.4g}\n", l.name, l.lo, l.hi,
               100 * l.clip_low, 100 * l.clip_high, l.mse, l.full_range_mse);
  }
}

int calibrate(const CalibrateArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  overrides.push_back(kCalibrationOverride);  // the partial sums reach a converter to calibrate
  const HwConfig hw = load_hw_config(args.hw, overrides);
  const ModelBundle bundle = load_model_bundle(args.model);
  check_bundle_fits(hw, bundle);
  const data::Dataset data = load_data(args.data, args.split, args.limit);
  OutputFiles outputs;
  const std::string out_temp = outputs.stage(args.out);
  CalibrationSetup setup;
  setup.method = args.method;
  setup.percentile = args.percentile;
  setup.zero_level = args.zero_level;
  setup.seed = args.seed;
  setup.batch = args.batch;
  setup.hw = args.hw;
  setup.model = args.model;
  setup.data = args.data + " " + args.split;
  const CalibrationFile file = calibrate_model(hw, bundle, data, setup);
  write_calibration(out_temp, args.out, file);
  outputs.commit();
  if (spdlog::should_log(spdlog::level::info)) print_intervals(file);
  fmt::print("wrote {} ({} layers, {} images)\n", args.out, file.layers.size(), file.images);  // even with -q
  return 0;
}

}  // namespace

std::function<int()> add_calibrate_command(CLI::App& app) {
  auto args = std::make_shared<CalibrateArgs>();
  CLI::App* cmd =
      app.add_subcommand("calibrate", "choose each CIM layer's ADC interval from its partial sums");
  cmd->fallthrough();
  cmd->add_option("--hw", args->hw, "hardware config YAML (configs/hw/)")->required();
  cmd->add_option("--model", args->model, "model bundle directory (docs/model-bundle.md)")->required();
  cmd->add_option("--data", args->data,
                  "fashion-mnist (default), fashion-mnist:DIR, mnist:DIR, cifar10:DIR, cifar100:DIR");
  cmd->add_option("--split", args->split, "train (default) or test")->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--limit", args->limit, "calibration images (default 1000)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  cmd->add_option("--method", args->method, "minmax, percentile or mse (default)")
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  cmd->add_option("--percentile", args->percentile, "percent of the partial sums kept (method percentile)")
      ->check(finite_range(50.0, 100.0));
  cmd->add_option("--out", args->out, "calibration YAML to write")->required();
  cmd->add_flag("--zero-level", args->zero_level,
                "move each interval by at most half a step so that 0 is one of its levels");
  cmd->add_option("--batch", args->batch, "images per lock-step batch")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--set", args->overrides, "override a config key: dotted.key=value (repeatable)");
  cmd->add_option("--seed", args->seed, "seed of every random draw (device and noise), 0..2^64-1")
      ->check(CLI::NonNegativeNumber);
  return [cmd, args]() { return cmd->parsed() ? calibrate(*args) : 0; };
}

}  // namespace cimsim::cli
