// `cimsim run`: a model bundle over a data set on the simulated chip, with accuracy, cycles,
// energy and per-layer conversion statistics.
#include <spdlog/spdlog.h>


#include <chrono>
#include <filesystem>
#include <cmath>
#include <memory>
#include <optional>
#include <tuple>

#include "adc/calibration_file.h"
#include "adc/layer_interval.h"
#include "bundle/model_bundle.h"
#include "bundle/shape_only.h"
#include "cli_common.h"
#include "config/hw_config.h"
#include "core/error.h"
#include "io/output_files.h"
#include "model_run.h"

namespace cimsim::cli {
namespace {

struct RunArgs {
  std::string hw, model, data = "fashion-mnist", split = "test", stats, out, trace, trace_window, trace_adcs;
  std::vector<std::string> overrides;
  std::string calib;
  int64_t limit = -1;
  int batch = 64;
  uint64_t seed = 1;
  bool shape_only = false;
};

// --model arch:NAME[:WIDTH], or a bundle directory; with --shape-only or arch:, random weights at the
// hardware's bits (models/bundle/shape_only.h).
ModelBundle model_of(const RunArgs& args, const HwConfig& hw, const data::Dataset& data) {
  const BundleBits bits = bundle_bits(hw.macro);
  if (args.model.rfind("arch:", 0) != 0) {
    ModelBundle bundle = load_model_bundle(args.model);
    if (args.shape_only) randomize_weights(bundle, bits, args.seed);
    return bundle;
  }
  const std::string spec = args.model.substr(5);
  const auto colon = spec.find(':');
  double width = 1.0;
  if (colon != std::string::npos) {
    std::size_t used = 0;
    try {
      width = std::stod(spec.substr(colon + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != spec.size() - colon - 1)
      throw InputError("--model " + args.model + ": the width after the second ':' must be a number, e.g. arch:vgg8:0.5");
  }
  const int classes = data.num_classes > 1 ? data.num_classes : 10;
  return shape_only_architecture(spec.substr(0, colon), width,
                                 {int(data.channels), int(data.height), int(data.width)}, classes, bits,
                                 args.seed);
}

// Per layer and image: the energy by component (the layer's macros, its digital operations, its
// buffer traffic), and the area of its macros.
void print_energy_table(const NetworkReport& report, const RunStats& stats) {
  const double images = double(std::max<int64_t>(1, report.images));
  fmt::print("{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10}\n", "pJ/img", "dac",
             "array", "adc", "shift-add", "leakage", "digital", "buffer", "total", "area mm^2");
  for (std::size_t i = 0; i < report.layers.size(); ++i) {
    const NetworkLayerReport& l = report.layers[i];
    const EnergyBreakdown e = l.cim ? l.mvm.energy : EnergyBreakdown{};
    const auto& area = stats.layers[i].cim ? stats.layers[i].cim->area_um2 : std::nullopt;
    fmt::print("{:<14} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>11.1f} {:>10}\n",
               l.name, e.dac_pj / images, e.array_pj / images, e.adc_pj / images, e.shift_add_pj / images,
               e.leakage_pj / images, l.digital_pj / images, l.buffer_pj / images,
               stats.layers[i].energy_per_image_pj, area ? fmt::format("{:.4f}", area->total * 1e-6) : "-");
  }
}

// The per-layer table of cycles, conversions, clipping and energy, then the energy table.
void print_layer_tables(const NetworkReport& report, const RunStats& stats) {
  fmt::print("{:<12} {:<14} {:>6} {:>6} {:>12} {:>10} {:>12} {:>7} {:>7} {:>9} {:>12}\n", "layer", "type",
             "macros", "util%", "cycles/img", "MVMs/img", "conv/img", "clip-%", "clip+%", "SQNR dB",
             "energy/img pJ");
  for (const auto& l : report.layers) {
    // The slowest layer's cycles (the pipeline's interval) carry a '*'.
    const std::string cycles = fmt::format("{}{}", l.cycles_per_image, l.name == stats.bottleneck_layer ? "*" : "");
    if (!l.cim) {
      fmt::print("{:<12} {:<14} {:>6} {:>6} {:>12}\n", l.name, l.type, "-", "-", cycles);
      continue;
    }
    const LayerReport& m = l.mvm;
    const double conv = double(std::max<int64_t>(1, m.stats.adc.conversions));
    const double sqnr = m.stats.error.sqnr_db();
    fmt::print("{:<12} {:<14} {:>6} {:>6.1f} {:>12} {:>10} {:>12} {:>7.2f} {:>7.2f} {:>9} {:>12.1f}\n",
               l.name, l.type, m.macros, 100.0 * m.utilization, cycles,
               m.vectors / std::max<int64_t>(1, report.images),
               m.stats.adc.conversions / std::max<int64_t>(1, report.images),
               100.0 * double(m.stats.adc.clipped_low) / conv,
               100.0 * double(m.stats.adc.clipped_high) / conv,
               std::isfinite(sqnr) ? fmt::format("{:.2f}", sqnr) : std::string("exact"),
               m.energy.total_pj() / double(std::max<int64_t>(1, report.images)));
  }
  print_energy_table(report, stats);
}

// The per-layer tables (unless --quiet) and the result lines (always).
void print_summary(const NetworkReport& report, const RunStats& stats, const HwConfig& hw, int64_t macs,
                   double wall_s, bool tables) {
  if (tables) print_layer_tables(report, stats);
  const double epi = report.energy_per_image_pj();
  const std::string accuracy =
      stats.shape_only ? std::string("top-1 accuracy not meaningful (shape-only: random weights)")
                       : fmt::format("top-1 accuracy {:.2f}% ({}/{})", 100.0 * report.accuracy(), report.correct,
                                     report.images);
  fmt::print(
      "{}  latency {:.2f} us/image @ {} MHz ({} cycles)  {:.0f} images/s"
      " ({}, slowest layer {})\n",
      accuracy, report.latency_per_image_s() * 1e6,
      hw.timing.clock_mhz, report.latency_cycles, report.images_per_second(), stats.dataflow,
      stats.bottleneck_layer);
  const double images = double(std::max<int64_t>(1, report.images));
  fmt::print("energy {:.1f} nJ/image ({:.2f} TOPS/W): dynamic {:.1f} nJ, static {:.1f} nJ{}  {:.2f} s wall\n",
             epi * 1e-3, epi > 0 ? 2.0 * double(macs) / epi : 0.0,
             1e-3 * (report.energy.dynamic_pj() + report.digital_pj + report.buffer_pj) / images,
             1e-3 * (report.energy.static_pj() + report.digital_static_pj) / images,
             hw.chip.power_gating ? " (power-gated)" : "", wall_s);
  if (stats.area) {
    const ChipAreaStats& a = *stats.area;
    fmt::print(
        "area {:.3f} mm^2: {} macros x {:.0f} um^2 (ADCs {:.0f}%, cells {:.0f}%) + digital {:.3f} mm^2"
        " + buffers {:.3f} mm^2 ({} bytes);  {:.3f} TOPS, {:.3f} TOPS/mm^2\n",
        a.chip_mm2, a.macros, a.macro_um2.total, 100.0 * a.macro_um2.adc / a.macro_um2.total,
        100.0 * a.macro_um2.cells / a.macro_um2.total, a.digital_mm2, a.buffer_mm2, stats.buffer_capacity_bytes,
        stats.tops, a.tops_per_mm2);
  }
}

int run(const RunArgs& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  std::optional<CalibrationFile> calib;
  if (!args.calib.empty()) calib = load_calibration(args.calib);
  const HwConfig hw = load_hw_config(args.hw, interval_overrides(calib ? &*calib : nullptr, args.overrides));
  const bool shape_only = args.shape_only || args.model.rfind("arch:", 0) == 0;
  // A bundle is checked before the images are read; arch: needs the images' shape first.
  std::optional<ModelBundle> loaded;
  if (!shape_only) loaded = load_model_bundle(args.model);
  const data::Dataset data = load_data(args.data, args.split, args.limit);
  const ModelBundle bundle = loaded ? std::move(*loaded) : model_of(args, hw, data);
  if (calib) check_calibration_applies(*calib, args.calib, hw, bundle);
  check_bundle_fits(hw, bundle);
  OutputFiles outputs;
  const std::string stats_temp = args.stats.empty() ? std::string() : outputs.stage(args.stats);
  std::string out_stats, out_config, out_logits;
  if (!args.out.empty()) {
    // One commit for the three: never a new stats.json beside the previous run's logits.npy.
    const std::string dir = outputs.stage_directory(args.out, {"stats.json", "hw.json", "logits.npy"});
    out_stats = dir + "/stats.json";
    out_config = dir + "/hw.json";
    out_logits = dir + "/logits.npy";
  }
  spdlog::info("run: model '{}' ({} layers) on '{}', {} images of {}", bundle.name, bundle.layers.size(),
               hw.name, data.count, data.name);

  NetworkOptions options;
  options.seed = args.seed;
  options.batch = args.batch;
  options.outputs = &outputs;
  options.histograms = !args.stats.empty() || !args.out.empty();  // only the stats file shows them
  options.trace_path = args.trace;
  std::tie(options.trace_from, options.trace_to) = parse_trace_window(args.trace, args.trace_window);
  std::tie(options.trace_adcs, options.trace_all_adcs) = parse_trace_adcs(args.trace, args.trace_adcs, hw);
  ModelRunResult result =
      run_model(hw, bundle, data, options, {args.hw, args.model, args.data, args.split}, shape_only);
  const NetworkReport& report = result.report;
  RunStats& stats = result.stats;
  const int64_t macs = result.macs;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  stats.wall_seconds = wall_s;
  const nlohmann::json doc = to_json_record(stats);
  if (!stats_temp.empty()) write_json(stats_temp, doc);
  if (!args.out.empty()) {
    write_json(out_stats, doc);
    write_json(out_config, hw.to_json());
    write_matrix_npy(out_logits, report.logits);
  }
  outputs.commit();

  // --quiet hides the progress and the tables, never the result.
  print_summary(report, stats, hw, macs, wall_s, spdlog::should_log(spdlog::level::info));
  return 0;
}

}  // namespace

std::function<int()> add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "run a model bundle over a data set on the simulated chip");
  cmd->fallthrough();
  cmd->add_option("--hw", args->hw, "hardware config YAML (configs/hw/)")->required();
  cmd->add_option("--model", args->model,
                  "model bundle directory (docs/model-bundle.md), or arch:lenet5|vgg8|resnet20[:WIDTH] (shape-only)")
      ->required();
  cmd->add_flag("--shape-only", args->shape_only,
                "replace the bundle's weights with random integers at the hardware's bits (costs without training)");
  cmd->add_option("--data", args->data,
                  "fashion-mnist (default), fashion-mnist:DIR, mnist:DIR, cifar10:DIR, cifar100:DIR, "
                  "npy:IMAGES.npy,LABELS.npy");
  cmd->add_option("--split", args->split, "test (default) or train")->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--limit", args->limit, "run only the first N images")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  cmd->add_option("--batch", args->batch, "images per lock-step batch")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--stats", args->stats, "statistics JSON to write");
  cmd->add_option("--out", args->out, "directory for stats.json, hw.json and logits.npy");
  cmd->add_option("--trace", args->trace, "VCD file to write (a bare name goes under traces/)");
  cmd->add_option("--trace-window", args->trace_window, "FROM:TO cycles to record (default: the whole run)");
  cmd->add_option("--trace-adcs", args->trace_adcs,
                  "ADCs of each macro to trace: all, or indices such as 0,3 (default: 0)");
  cmd->add_option("--set", args->overrides, "override a config key: dotted.key=value (repeatable)");
  cmd->add_option("--calib", args->calib, "ADC intervals from cimsim calibrate (--set adc.layers wins)");
  cmd->add_option("--seed", args->seed, "seed of every random draw (device and noise), 0..2^64-1")
      ->check(CLI::NonNegativeNumber);
  return [cmd, args]() { return cmd->parsed() ? run(*args) : 0; };
}

}  // namespace cimsim::cli
