// `cimsim calibrate`: runs a model over calibration images on the simulated chip, takes every CIM
// layer's histogram of the partial sums at its ADC inputs and chooses the layer's ADC interval
// (minmax, percentile or mse; models/adc/adc_calibration.h, docs/calibration.md), one layer after
// the other in one simulation (calibrate_network).
#include <spdlog/spdlog.h>

#include <fstream>
#include <functional>
#include <memory>

#include "adc/adc_calibration.h"
#include "adc/calibration_file.h"
#include "cli_common.h"
#include "core/error.h"
#include "io/output_files.h"
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

PartialSumCounts counts_of(const PartialSumHistogram& h) {
  PartialSumCounts c;
  c.first_edge = h.first_edge();
  c.bin_width = h.bin_width();
  c.counts = h.counts();
  c.underflow = h.underflow();
  c.overflow = h.overflow();
  return c;
}

int calibrate(const CalibrateArgs& args) {
  CalibrationSpec spec;
  spec.method = parse_calibration_method(args.method);
  spec.percentile = args.percentile;
  std::vector<std::string> overrides = args.overrides;
  overrides.push_back("adc.ideal=false");  // the partial sums reach a converter to calibrate
  const HwConfig hw = load_hw_config(args.hw, overrides);
  const ModelBundle bundle = load_model_bundle(args.model);
  check_bundle_fits(hw, bundle);
  warn_if_implausible_device(hw);
  if (std::none_of(bundle.layers.begin(), bundle.layers.end(), [](const BundleLayer& l) { return l.is_cim(); }))
    throw InputError(bundle.manifest + ": the model has no conv2d or linear layer, so no ADC to calibrate");
  const data::Dataset data = load_data(args.data, args.split, args.limit);
  OutputFiles outputs;
  const std::string out_temp = outputs.stage(args.out);
  spdlog::info("calibrate: model '{}' on '{}', {} images of {} ({}), method {}", bundle.name, hw.name,
               data.count, data.name, args.split, args.method);

  NetworkOptions options;
  options.seed = args.seed;
  options.batch = args.batch;
  options.histograms = true;
  const AdcInterval full = hw.full_interval();
  spec.adc_bits = hw.macro.adc_bits;
  spec.full_lo = full.lo;
  spec.full_hi = full.hi;
  CalibrationFile file;
  file.method = spec.method;
  file.percentile = args.percentile;
  file.zero_level = args.zero_level;
  file.adc_bits = hw.macro.adc_bits;
  file.hw = args.hw;
  file.model = args.model;
  file.data = args.data + " " + args.split;
  file.images = data.count;
  // Layer by layer in order: layer k's partial sums are measured over the full range with layers
  // 0..k-1 on their chosen intervals, so each distribution is the one its ADC will see.
  calibrate_network(
      hw, bundle, data, options, [&](const BundleLayer& layer, const ConversionStats& measured) {
        const PartialSumCounts sums = counts_of(measured.histogram);
        AdcInterval chosen;
        try {
          chosen = calibrate_interval(sums, spec);
        } catch (const InputError& e) {
          throw InputError("layer " + layer.name + ": " + e.what());
        }
        if (args.zero_level &&
            !move_zero_onto_level(chosen.lo, chosen.hi, spec.adc_bits, spec.full_lo, spec.full_hi))
          spdlog::warn("layer {}: --zero-level: the interval [{:.4f}, {:.4f}] is left as chosen: 0 lies more "
                       "than half a step outside it, or moving it would leave the converter's full range",
                       layer.name, chosen.lo, chosen.hi);
        const ClipFractions clips = clip_fractions(sums, chosen.lo, chosen.hi);
        file.layers.push_back(LayerCalibration{layer.name, chosen.lo, chosen.hi, clips.low, clips.high,
                                               quantization_mse(sums, chosen.lo, chosen.hi, spec.adc_bits),
                                               quantization_mse(sums, full.lo, full.hi, spec.adc_bits)});
        spdlog::info("calibrate: {} [{:.4f}, {:.4f}]", layer.name, chosen.lo, chosen.hi);
        return chosen;
      });
  {
    std::ofstream out(out_temp);
    out << calibration_yaml(file);
    if (!out.flush()) throw InputError(args.out + ": cannot write the calibration file; check the directory");
  }
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
