// `cimsim calibrate`: runs a model over calibration images on the simulated chip, takes every CIM
// layer's histogram of the partial sums at its ADC inputs and chooses the layer's ADC interval
// (minmax, percentile or mse; models/adc/adc_calibration.h, docs/calibration.md), one layer after
// the other: one simulation per CIM layer.
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>

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
  int64_t limit = 1000;
  int batch = 64;
  uint64_t seed = 1;
};

// One layer's partial sums over the simulated images.
struct LayerMeasurement {
  int64_t images = 0;
  PartialSumCounts sums;
};

// SystemC elaborates one simulation per process, and calibration needs one per layer: each runs in
// a forked child that sends back the measurement (or its error message) through a pipe.
LayerMeasurement measure_in_child(const std::function<LayerMeasurement()>& measure);

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
  // The partial sums are measured with full-range intervals: every layer's own interval (bundle or
  // config) would clip the tails the methods must see.
  std::vector<std::string> overrides = args.overrides;
  overrides.push_back("adc.ideal=false");
  HwConfig hw = load_hw_config(args.hw, overrides);
  const ModelBundle bundle = load_model_bundle(args.model);
  check_bundle_fits(hw, bundle);
  hw.adc.layers.clear();
  hw.adc.interval = AdcInterval{};
  ModelBundle measured = bundle;
  for (BundleLayer& l : measured.layers) l.has_adc = false;
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
  file.method = args.method;
  file.percentile = args.percentile;
  file.adc_bits = hw.macro.adc_bits;
  file.hw = args.hw;
  file.model = args.model;
  file.data = args.data + " " + args.split;
  // Layer by layer in order: layer k's partial sums are measured with layers 0..k-1 on their chosen
  // intervals (and k.. on the full range), so each distribution is the one its ADC will see.
  for (const BundleLayer& layer : bundle.layers) {
    if (!layer.is_cim()) continue;
    const LayerMeasurement measurement = measure_in_child([&] {
      const NetworkReport report = run_network(hw, measured, data, options);
      for (const auto& l : report.layers)
        if (l.cim && l.name == layer.name)
          return LayerMeasurement{report.images, counts_of(l.mvm.stats.histogram)};
      throw std::logic_error("calibrate: no report for layer " + layer.name);
    });
    const PartialSumCounts& sums = measurement.sums;
    file.images = measurement.images;
    AdcInterval chosen;
    try {
      chosen = calibrate_interval(sums, spec);
    } catch (const InputError& e) {
      throw InputError("layer " + layer.name + ": " + e.what());
    }
    const ClipFractions clips = clip_fractions(sums, chosen.lo, chosen.hi);
    file.layers.push_back(LayerCalibration{layer.name, chosen.lo, chosen.hi, clips.low, clips.high,
                                           quantization_mse(sums, chosen.lo, chosen.hi, spec.adc_bits),
                                           quantization_mse(sums, full.lo, full.hi, spec.adc_bits)});
    hw.adc.layers[layer.name] = chosen;
    spdlog::info("calibrate: {} [{:.4f}, {:.4f}]", layer.name, chosen.lo, chosen.hi);
  }
  {
    std::ofstream out(out_temp);
    out << calibration_yaml(file);
    if (!out.flush()) throw InputError(args.out + ": cannot write the calibration file; check the directory");
  }
  outputs.commit();
  if (!spdlog::should_log(spdlog::level::info)) return 0;
  fmt::print("{:<12} {:>14} {:>14} {:>8} {:>8} {:>14} {:>14}\n", "layer", "lo", "hi", "clip-%", "clip+%",
             "mse", "full-range mse");
  for (const LayerCalibration& l : file.layers) {
    fmt::print("{:<12} {:>14.4f} {:>14.4f} {:>8.3f} {:>8.3f} {:>14.4g} {:>14.4g}\n", l.name, l.lo, l.hi,
               100 * l.clip_low, 100 * l.clip_high, l.mse, l.full_range_mse);
  }
  fmt::print("wrote {} ({} layers, {} images)\n", args.out, file.layers.size(), file.images);
  return 0;
}

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) ::_exit(3);
    p += n;
    size -= std::size_t(n);
  }
}

LayerMeasurement measure_in_child(const std::function<LayerMeasurement()>& measure) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("calibrate: pipe() failed");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("calibrate: fork() failed");
  if (pid == 0) {  // child: measure, send [ok][images][first_edge][width][underflow][overflow][n][counts] or
                   // [!ok][message]
    ::close(fds[0]);
    char ok = 1;
    std::string message;
    LayerMeasurement m;
    try {
      m = measure();
    } catch (const std::exception& e) {
      ok = 0;
      message = e.what();
    }
    write_all(fds[1], &ok, 1);
    if (ok) {
      const PartialSumCounts& c = m.sums;
      const int64_t n = int64_t(c.counts.size());
      write_all(fds[1], &m.images, sizeof m.images);
      write_all(fds[1], &c.first_edge, sizeof c.first_edge);
      write_all(fds[1], &c.bin_width, sizeof c.bin_width);
      write_all(fds[1], &c.underflow, sizeof c.underflow);
      write_all(fds[1], &c.overflow, sizeof c.overflow);
      write_all(fds[1], &n, sizeof n);
      write_all(fds[1], c.counts.data(), c.counts.size() * sizeof(int64_t));
    } else {
      write_all(fds[1], message.data(), message.size());
    }
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string bytes;
  char buffer[1 << 16];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) bytes.append(buffer, std::size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || bytes.empty())
    throw std::runtime_error("calibrate: the simulation of a layer ended abnormally (status " +
                             std::to_string(status) + ")");
  if (bytes[0] == 0) throw InputError(bytes.substr(1));
  std::size_t at = 1;
  auto take = [&](void* out, std::size_t size) {
    if (at + size > bytes.size())
      throw std::runtime_error("calibrate: truncated result from a layer's simulation");
    std::memcpy(out, bytes.data() + at, size);
    at += size;
  };
  LayerMeasurement m;
  PartialSumCounts& c = m.sums;
  int64_t n = 0;
  take(&m.images, sizeof m.images);
  take(&c.first_edge, sizeof c.first_edge);
  take(&c.bin_width, sizeof c.bin_width);
  take(&c.underflow, sizeof c.underflow);
  take(&c.overflow, sizeof c.overflow);
  take(&n, sizeof n);
  c.counts.resize(std::size_t(n));
  take(c.counts.data(), std::size_t(n) * sizeof(int64_t));
  return m;
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
      ->check(CLI::Range(50.0, 100.0));
  cmd->add_option("--out", args->out, "calibration YAML to write")->required();
  cmd->add_option("--batch", args->batch, "images per lock-step batch")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--set", args->overrides, "override a config key: dotted.key=value (repeatable)");
  cmd->add_option("--seed", args->seed, "seed of every random draw (device and noise)");
  return [cmd, args]() { return cmd->parsed() ? calibrate(*args) : 0; };
}

}  // namespace cimsim::cli
