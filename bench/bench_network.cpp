// Benchmark (not a test): a ResNet-20-shaped bundle (random weights) over Fashion-MNIST test
// images at input_bits 4, weight_bits 4, cell_bits 1, dac_bits 1, rows_per_cycle 64, adc_bits 5,
// with device variation on, against the same network's GEMM work timed with Eigen in the same run.
//   build/bench/bench_network [--images 10000] [--batch 64] [--set key=value ...] [--limit-reps 3]
//                             [--hw PRESET] [--macros-factor F] [--histograms 0|1]
// (e.g. --set chip.dataflow=pipelined --set chip.power_gating=true --macros-factor 2 for the
// chip's throughput and leakage share pipelined, power-gated, with automatic weight duplication
// on twice the macros the network needs; --hw configs/hw/rram-neurosim-128-4b-chip.yaml for the
// preset with every cost modelled. The default preset is configs/hw/rram-neurosim-128.yaml; the
// overrides above apply to either.)
// --histograms 1 also counts the partial-sum histograms, as `cimsim run --stats/--out` does.
#include <omp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "bundle/architectures.h"
#include "bundle/bundle_mapping.h"
#include "bundle/bundle_writer.h"
#include "config/hw_config.h"
#include "bundle/shape_only.h"
#include "data/idx_reader.h"
#include "int8_rate.h"
#include "network_runner.h"
#include "report_handler.h"

namespace {

using cimsim::BundleLayer;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The limits: every CIM layer's work as fp32 GEMMs, (pixels x phases x images) x K x (N x slices),
// and as the simulator's u8 x s8 kernel on the same shapes (int8_rate.h), timed on a 64-image slice
// and scaled to all images.
struct Limit {
  double gemm_s = 0, int8_s = 0, array_macs = 0;
  const char* int8_kernel = "";
  int64_t cim_layers = 0, macros = 0;
};

Limit gemm_limit(const cimsim::HwConfig& hw, const cimsim::ModelBundle& bundle,
                 const cimsim::data::Dataset& data, const cimsim::NetworkReport& report, int limit_reps) {
  const int phases = hw.macro.phases(), slices = hw.macro.slices();
  Limit limit;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const BundleLayer& l = bundle.layers[i];
    if (!l.is_cim()) continue;
    ++limit.cim_layers;
    limit.macros += report.layers[i].mvm.macros;
    const int64_t pixels = l.output_pixels();
    const int64_t slice = limit_reps > 0 ? std::min<int64_t>(64, data.count) : 1;
    const Eigen::MatrixXf a = Eigen::MatrixXf::Random(pixels * phases * slice, l.weight.rows());
    const Eigen::MatrixXf w = Eigen::MatrixXf::Random(l.weight.rows(), l.weight.cols() * slices);
    Eigen::MatrixXf c(a.rows(), w.cols());
    double best = 1e30;
    for (int rep = 0; rep < limit_reps; ++rep) {
      const auto g0 = std::chrono::steady_clock::now();
      c.noalias() = a * w;
      best = std::min(best, seconds_since(g0));
    }
    limit.gemm_s += best * double(data.count) / double(slice);
    const cimsim::bench::Int8Rate int8 =
        cimsim::bench::int8_rate(a.rows(), a.cols(), w.cols(), std::max(limit_reps, 1));
    limit.int8_s += int8.seconds * double(data.count) / double(slice);
    limit.int8_kernel = int8.kernel;
    limit.array_macs +=
        double(a.rows()) * double(a.cols()) * double(w.cols()) * double(data.count) / double(slice);
  }
  return limit;
}

}  // namespace

int run(int argc, char* argv[]) {
  int64_t images = 10000;
  int batch = 64;
  int limit_reps = 3;
  bool histograms = false;  // repetitions of each GEMM of the limit (0: skip the limit, for profiling)
  int macros_factor = 0;    // > 0: chip.macros = that many times the minimum, chip.duplicate auto
  std::string preset = std::string(CIMSIM_SOURCE_DIR) + "/configs/hw/rram-neurosim-128.yaml";
  std::vector<std::string> overrides = {
      "macro.input_bits=4",      "macro.dac_bits=1", "macro.weight_bits=4",      "macro.cell_bits=1",
      "macro.rows_per_cycle=64", "macro.adc_bits=5", "device.program_sigma=0.05"};
  std::vector<std::string> extra;  // --set: after the benchmark's own, so they can change them
  CLI::App app{"cimsim benchmark: a ResNet-20-shaped network over Fashion-MNIST against its GEMM work"};
  app.add_option("--images", images, "test images to run (default 10000)")->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--batch", batch, "images per lock-step batch (default 64)")->check(CLI::Range(1, 1 << 16));
  app.add_option("--set", extra, "further config overrides, dotted.key=value (repeatable)");
  app.add_option("--limit-reps", limit_reps, "repetitions of each GEMM of the limit; 0 skips it (default 3)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--histograms", histograms, "1: count the partial-sum histograms as cimsim run --stats does");
  app.add_option("--macros-factor", macros_factor, "> 0: that many times the minimum macros, chip.duplicate auto")
      ->check(CLI::Range(0, 1024));
  app.add_option("--hw", preset, "hardware preset (default configs/hw/rram-neurosim-128.yaml)");
  CLI11_PARSE(app, argc, argv);
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  cimsim::install_report_handler(false);
  cimsim::HwConfig hw = cimsim::load_hw_config(preset, overrides);

  // ResNet-20 (models/bundle/architectures.h) with seeded random 4-bit weights (shape_only.h).
  cimsim::ModelBundle bundle =
      cimsim::shape_only_architecture("resnet20", 1.0, {1, 28, 28}, 10, cimsim::BundleBits{4, 4}, 7);
  if (macros_factor > 0) {  // automatic duplication within a multiple of the macros the network needs
    int64_t minimum = 0;
    for (const BundleLayer& l : bundle.layers)
      if (l.is_cim()) minimum += cimsim::map_bundle_layer(l, hw.macro).macros();
    overrides.push_back("chip.macros=" + std::to_string(minimum * macros_factor));
    overrides.push_back("chip.duplicate=auto");
    hw = cimsim::load_hw_config(preset, overrides);
  }
  const cimsim::data::Dataset data =
      cimsim::data::load_fashion_mnist(cimsim::data::kFashionMnistDir, cimsim::data::Split::kTest, images);

  cimsim::NetworkOptions options;
  options.batch = batch;
  options.histograms = histograms;
  const auto t0 = std::chrono::steady_clock::now();
  const cimsim::NetworkReport report = cimsim::run_network(hw, bundle, data, options);
  const double sim_s = seconds_since(t0);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);

  const Limit limit = gemm_limit(hw, bundle, data, report, limit_reps);
  const double gemm_s = limit.gemm_s, array_macs = limit.array_macs;
  const int64_t cim_layers = limit.cim_layers, macros = limit.macros;
  std::printf(
      "resnet20-shaped: %lld CIM layers on %lld macros, %lld cycles/image, program_sigma %g, "
      "histograms %s, %d threads\n",
      (long long)cim_layers, (long long)macros, (long long)report.cycles_per_image, hw.device.program_sigma,
      histograms ? "on" : "off", omp_get_max_threads());
  std::printf("simulator   %8.1f s for %lld images = %8.1f images/s  (%.2f GMAC/s of array work)\n", sim_s,
              (long long)data.count, double(data.count) / sim_s, array_macs / sim_s * 1e-9);
  if (limit_reps > 0) {
    std::printf("eigen gemm  %8.1f s for the same work = %8.1f images/s  (%.2f GMAC/s, %d thread)\n", gemm_s,
                double(data.count) / gemm_s, array_macs / gemm_s * 1e-9, Eigen::nbThreads());
    std::printf("int8 kernel %8.1f s for the same work = %8.1f images/s  (%.2f GMAC/s, u8 x s8 byte_gemm, %s)\n",
                limit.int8_s, double(data.count) / limit.int8_s, array_macs / limit.int8_s * 1e-9,
                limit.int8_kernel);
    std::printf("ratio simulator/int8 = %.3f (target >= 0.5)\n", limit.int8_s / sim_s);
    std::printf("ratio simulator/gemm = %.3f (target >= 0.4); ", gemm_s / sim_s);
  } else {
    std::printf("eigen gemm and ratio: not measured (--limit-reps 0); ");
  }
  std::printf("10,000 images would take %.0f s (target <= 60, issue 20)\n", sim_s * 10000.0 / double(data.count));
  std::printf("peak resident memory = %.1f MiB; top-1 of the random network %.1f%%\n",
              double(usage.ru_maxrss) / 1024.0, 100.0 * report.accuracy());
  // The simulated chip's figures (issue 15's targets: compare --set chip.dataflow=pipelined with
  // the default, and --set chip.power_gating=true for the leakage share).
  const double run_images = double(std::max<int64_t>(1, report.images));
  const double static_pj = report.energy.static_pj() + report.digital_static_pj;
  std::printf("chip (%s%s): %.0f images/s, latency %.1f us, slowest layer %s; %.1f nJ/image, static %.1f%%\n",
              hw.chip.dataflow == cimsim::Dataflow::kPipelined ? "pipelined" : "layer by layer",
              hw.chip.power_gating ? ", power-gated" : "", report.images_per_second(),
              report.latency_per_image_s() * 1e6, report.layers[std::size_t(report.bottleneck)].name.c_str(),
              report.energy_per_image_pj() * 1e-3,
              100.0 * static_pj / (report.energy_per_image_pj() * run_images));
  // Against layer by layer with one copy of every layer (docs/timing.md's rule on the same layers).
  int64_t plain_cycles = 0;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const cimsim::NetworkLayerReport& r = report.layers[i];
    plain_cycles += cimsim::stage_cycles(hw, bundle, i, 1, r.cim ? r.mvm.cycles_per_mvm : 0);
  }
  const double plain_ips = hw.timing.clock_mhz * 1e6 / double(plain_cycles);
  std::printf("  vs layer by layer, one copy per layer: %.0f images/s: %.1fx (%s)\n", plain_ips,
              report.images_per_second() / plain_ips, preset.c_str());
  return 0;
}

int sc_main(int argc, char* argv[]) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
