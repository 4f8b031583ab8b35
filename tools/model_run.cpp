#include "model_run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "cli_common.h"
#include "core/error.h"
#include "stats/area.h"

namespace cimsim::cli {
namespace {

ChipAreaStats chip_area(const NetworkReport& r, const HwConfig& hw, double tops) {
  ChipAreaStats a;
  a.macro_um2 = macro_area(hw);
  for (const auto& l : r.layers) a.macros += l.cim ? l.mvm.macros : 0;
  if (hw.chip.macros > 0) a.macros = hw.chip.macros;
  a.cim_mm2 = a.macro_um2.total * double(a.macros) * 1e-6;
  a.digital_mm2 = hw.area.digital_um2 * 1e-6;
  a.buffer_mm2 = hw.area.buffer_um2_per_byte * double(r.buffer_capacity_bytes) * 1e-6;
  a.chip_mm2 = a.cim_mm2 + a.digital_mm2 + a.buffer_mm2;
  a.tops_per_mm2 = a.chip_mm2 > 0 ? tops / a.chip_mm2 : 0.0;
  return a;
}

RunStats run_stats(const NetworkReport& r, const RunInputs& inputs, uint64_t seed, const HwConfig& hw,
                   int64_t macs_per_image) {
  RunStats doc;
  doc.cimsim_version = kCimsimVersion;
  doc.seed = seed;
  doc.inputs = inputs;
  doc.config = hw;
  doc.model = r.model;
  doc.images = r.images;
  doc.correct = r.correct;
  doc.accuracy = r.accuracy();
  doc.cycles_per_image = r.cycles_per_image;
  doc.latency_per_image_us = r.latency_per_image_s() * 1e6;
  doc.images_per_second = r.images_per_second();
  doc.latency_cycles = r.latency_cycles;
  doc.dataflow = hw.chip.dataflow == Dataflow::kPipelined ? "pipelined" : "layer_by_layer";
  if (r.bottleneck >= 0) doc.bottleneck_layer = r.layers[std::size_t(r.bottleneck)].name;
  doc.energy_per_image_pj = r.energy_per_image_pj();
  const double images = double(std::max<int64_t>(1, r.images));
  doc.static_energy_per_image_pj = (r.energy.static_pj() + r.digital_static_pj) / images;
  doc.dynamic_energy_per_image_pj = (r.energy.dynamic_pj() + r.digital_pj + r.buffer_pj) / images;
  doc.energy_pj = energy_figures(r.energy);
  doc.digital_energy_pj = r.digital_pj;
  doc.digital_static_pj = r.digital_static_pj;
  doc.buffer_energy_pj = r.buffer_pj;
  doc.buffer_capacity_bytes = r.buffer_capacity_bytes;
  doc.macs_per_image = macs_per_image;
  doc.tops_per_watt =
      doc.energy_per_image_pj > 0 ? 2.0 * double(macs_per_image) / doc.energy_per_image_pj : 0.0;
  doc.tops = 2.0 * double(macs_per_image) * doc.images_per_second * 1e-12;
  if (hw.area.given) doc.area = chip_area(r, hw, doc.tops);
  for (const auto& l : r.layers) {
    NetworkLayerStats& layer = doc.layers.emplace_back();
    layer.name = l.name;
    layer.type = l.type;
    layer.cycles_per_image = l.cycles_per_image;
    layer.digital_ops_per_image = l.digital_ops_per_image;
    layer.digital_cycles_per_image = l.digital_cycles_per_image;
    layer.buffer_bytes_per_image = l.buffer_bytes_per_image;
    layer.buffer_cycles_per_image = l.buffer_cycles_per_image;
    layer.digital_energy_pj = l.digital_pj;
    layer.buffer_energy_pj = l.buffer_pj;
    layer.energy_per_image_pj =
        ((l.cim ? l.mvm.energy.total_pj() : 0.0) + l.digital_pj + l.buffer_pj) / images;
    if (l.cim) layer.cim = l.mvm.figures();
  }
  return doc;
}

}  // namespace

int64_t macs_per_image(const ModelBundle& bundle) {
  int64_t macs = 0;
  for (const BundleLayer& l : bundle.layers) {
    if (!l.is_cim()) continue;
    // A grouped conv's MACs are its real ones: K / groups rows per output (the block diagonal's zeros
    // occupy cells but are not work).
    macs += l.rows_per_output() * l.weight.cols() * l.output_pixels();
  }
  return macs;
}

ModelRunResult run_model(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                         const NetworkOptions& options, const RunInputs& inputs, bool shape_only) {
  const auto start = std::chrono::steady_clock::now();
  warn_if_implausible_device(hw);  // run_network checks that the bundle fits
  ModelRunResult result;
  result.report = run_network(hw, bundle, data, options);
  for (const auto& l : result.report.layers)
    if (l.cim) warn_if_misconfigured(l.mvm, hw);
  if (!result.report.logits.allFinite())
    throw InputError(inputs.model +
                     ": the logits are not finite (a weight_scale, input_scale, bias or batchnorm "
                     "value overflows double); check the bundle's scales");
  result.macs = macs_per_image(bundle);
  result.stats = run_stats(result.report, inputs, options.seed, hw, result.macs);
  result.stats.shape_only = shape_only;
  result.stats.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cimsim::cli
