#include "model_calibration.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "adc/adc_calibration.h"
#include "cli_common.h"
#include "core/error.h"
#include "network_runner.h"

namespace cimsim::cli {
namespace {

PartialSumCounts counts_of(const PartialSumHistogram& h) {
  PartialSumCounts c;
  c.first_edge = h.first_edge();
  c.bin_width = h.bin_width();
  c.counts = h.counts();
  c.underflow = h.underflow();
  c.overflow = h.overflow();
  return c;
}

}  // namespace

CalibrationFile calibrate_model(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                                const CalibrationSetup& setup) {
  CalibrationSpec spec;
  spec.method = parse_calibration_method(setup.method);
  spec.percentile = setup.percentile;
  check_bundle_fits(hw, bundle);
  warn_if_implausible_device(hw);
  if (std::none_of(bundle.layers.begin(), bundle.layers.end(),
                   [](const BundleLayer& l) { return l.is_cim(); }))
    throw InputError(bundle.manifest + ": the model has no conv2d or linear layer, so no ADC to calibrate");
  spdlog::info("calibrate: model '{}' on '{}', {} images of {}, method {}", bundle.name, hw.name, data.count,
               data.name, setup.method);

  NetworkOptions options;
  options.seed = setup.seed;
  options.batch = setup.batch;
  options.histograms = true;
  const AdcInterval full = hw.full_interval();
  spec.adc_bits = hw.macro.adc_bits;
  spec.full_lo = full.lo;
  spec.full_hi = full.hi;
  CalibrationFile file;
  file.method = spec.method;
  file.percentile = setup.percentile;
  file.zero_level = setup.zero_level;
  file.adc_bits = hw.macro.adc_bits;
  file.hw = setup.hw;
  file.model = setup.model;
  file.data = setup.data;
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
        if (setup.zero_level &&
            !move_zero_onto_level(chosen.lo, chosen.hi, spec.adc_bits, spec.full_lo, spec.full_hi))
          spdlog::warn(
              "layer {}: --zero-level: the interval [{:.4f}, {:.4f}] is left as chosen: 0 lies more "
              "than half a step outside it, or moving it would leave the converter's full range",
              layer.name, chosen.lo, chosen.hi);
        const ClipFractions clips = clip_fractions(sums, chosen.lo, chosen.hi);
        file.layers.push_back(LayerCalibration{layer.name, chosen.lo, chosen.hi, clips.low, clips.high,
                                               quantization_mse(sums, chosen.lo, chosen.hi, spec.adc_bits),
                                               quantization_mse(sums, full.lo, full.hi, spec.adc_bits)});
        spdlog::info("calibrate: {} [{:.4f}, {:.4f}]", layer.name, chosen.lo, chosen.hi);
        return chosen;
      });
  return file;
}

void write_calibration(const std::string& staged, const std::string& path, const CalibrationFile& file) {
  std::ofstream out(staged);
  out << calibration_yaml(file);
  if (!out.flush()) throw InputError(path + ": cannot write the calibration file; check the directory");
}

}  // namespace cimsim::cli
