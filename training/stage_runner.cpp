#include "stage_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "adc/calibration_file.h"
#include "architectures.h"
#include "bundle/data_fit.h"
#include "bundle_io.h"
#include "checkpoint.h"
#include "config/hw_config.h"
#include "core/error.h"
#include "hw_stats.h"
#include "image_tensors.h"
#include "training_loop.h"

namespace cimsim::train {
namespace {

namespace fs = std::filesystem;

// The hardware of --hw (required by stage cim), checked against the experiment's bits.
std::optional<HwConfig> load_hardware(const ExperimentConfig& config, const RunOptions& options) {
  if (!options.hw_stats_path.empty() && options.stage != Stage::kCim)
    throw InputError("--hw-stats " + options.hw_stats_path +
                     ": the measured statistics are used only by --stage cim");
  if (!options.calib_path.empty() && options.stage != Stage::kCim)
    throw InputError("--calib " + options.calib_path + ": ADC intervals are used only by --stage cim");
  if (options.hw_path.empty()) {
    if (options.stage == Stage::kCim)
      throw InputError("--stage cim needs --hw HW.yaml: the macros whose numerics stage 2 trains for");
    return std::nullopt;
  }
  HwConfig hw = load_hw_config(options.hw_path);
  if (hw.macro.weight_bits != config.weight_bits || hw.macro.input_bits != config.input_bits) {
    throw InputError(options.hw_path + ": macro.weight_bits " + std::to_string(hw.macro.weight_bits) +
                     " and macro.input_bits " + std::to_string(hw.macro.input_bits) + " differ from " +
                     config.source + "'s bits (" + std::to_string(config.weight_bits) + ", " +
                     std::to_string(config.input_bits) + "); make them equal");
  }
  return hw;
}

}  // namespace

std::vector<std::string> full_range_layers(const ModelBundle& graph, const HwConfig& hw) {
  std::vector<std::string> full;
  if (hw.adc.ideal) return full;
  for (const BundleLayer& l : graph.layers)
    if (l.is_cim() && hw.interval_for(l.name).full) full.push_back(l.name);
  return full;
}

void put_on_hardware(NetworkImpl& net, const HwConfig& hw, const std::string& hw_stats_path,
                     const std::string& feedback, const std::optional<CalibrationFile>& calib,
                     const std::string& calib_source, const FeedbackWording& wording) {
  std::map<std::string, AdcInterval> start;
  if (calib) {
    check_calibration_applies(*calib, calib_source, hw, net.graph());
    start = calibration_intervals(*calib);
    for (const auto& [layer, interval] : start)
      spdlog::info("layer {}: ADC interval starts at [{:.4f}, {:.4f}] ({})", layer, interval.lo, interval.hi,
                   calib_source);
  }
  CimNoise noise;
  std::map<std::string, MeasuredNoise> measured;
  if (hw_stats_path.empty()) {
    noise.program_sigma = hw.device.program_sigma;
    noise.program_lognormal_sigma = hw.device.program_lognormal_sigma;
  } else {
    measured = measured_noise_from_stats(hw_stats_path, feedback, int(hw.macro.max_cell_level()), wording);
  }
  net.set_hardware(hw, noise, start, measured);
  for (const auto& [layer, m] : measured) {
    std::string levels;
    for (std::size_t l = 0; l < m.level_mean.size(); ++l)
      levels += fmt::format("{}{}: {:+.3f} +- {:.3f}", l ? ", " : "", l, m.level_mean[l], m.level_std[l]);
    spdlog::info("layer {}: injected partial-sum noise {:.4g}{}", layer, m.partial_sum_sigma,
                 levels.empty() ? std::string() : "; cell error per level " + levels);
  }
}

namespace {

// Stage cim from full-range intervals learns them from a poor start (13% on the tiny experiment
// where a calibrated start gives 69%): say so, and how to start from calibrated ones.
void warn_if_full_range(const ModelBundle& graph, const HwConfig& hw, const std::string& calib_path) {
  if (!calib_path.empty()) return;
  std::string full;
  for (const std::string& name : full_range_layers(graph, hw)) full += (full.empty() ? "" : ", ") + name;
  if (full.empty()) return;
  spdlog::warn("--stage cim: the ADC intervals of {} start at the full range, where few of the {}-bit ADC's "
               "levels are used; run cimsim calibrate on the --from bundle and pass --calib (docs/training.md)",
               full, hw.macro.adc_bits);
}

// The checkpoint --from DIR starts from: the previous stage's, else this stage's.
std::string from_checkpoint(const std::string& dir, Stage stage) {
  if (stage == Stage::kQat && fs::exists(checkpoint_path(dir, Stage::kFp32)))
    return checkpoint_path(dir, Stage::kFp32);
  if (stage == Stage::kCim && fs::exists(checkpoint_path(dir, Stage::kQat)))
    return checkpoint_path(dir, Stage::kQat);
  if (fs::exists(checkpoint_path(dir, stage))) return checkpoint_path(dir, stage);
  throw InputError("--from " + dir + ": holds neither a model bundle (model.yaml) nor a checkpoint (" +
                   std::string(stage == Stage::kQat   ? "fp32.ckpt or qat.ckpt"
                               : stage == Stage::kCim ? "qat.ckpt or cim.ckpt"
                                                      : "fp32.ckpt") +
                   "); give the --out directory of an earlier run or a bundle directory");
}

// The exported bundle, read back from disk into a double-precision network, evaluated on the test
// images: this both checks the import path and gives the accuracy the simulator reproduces exactly.
double bundle_accuracy(const ExperimentConfig& config, const ModelBundle& graph, const std::string& dir,
                       const data::Dataset& test_images, const std::optional<HwConfig>& hw) {
  Network check(graph);
  check->to(torch::kDouble);
  load_bundle_into(*check, load_model_bundle(dir));
  if (hw) {  // stage cim: on the macros, ideal devices, exact order
    check->set_hardware(*hw, CimNoise{});
    check->set_exact(true);
  }
  const ImageTensors test = to_tensors(test_images, config.data.mean, config.data.std, torch::kDouble);
  return evaluate(*check, test, std::max(config.schedule.batch_size, 256)).accuracy;
}

}  // namespace

std::optional<ModelBundle> bundle_graph(const std::string& from, const std::string& out_dir, bool resume) {
  const fs::path saved = fs::path(out_dir) / kGraphDir;
  if (resume) {
    if (fs::exists(saved / kBundleManifest)) return load_model_bundle(saved.string());
    return std::nullopt;
  }
  if (from.empty()) return std::nullopt;
  if (!fs::is_directory(from)) throw InputError("--from " + from + ": not a directory");
  if (fs::exists(fs::path(from) / kBundleManifest)) return load_model_bundle(from);
  if (fs::exists(fs::path(from) / kGraphDir / kBundleManifest))
    return load_model_bundle((fs::path(from) / kGraphDir).string());
  return std::nullopt;
}

Network build_network(const ExperimentConfig& config, uint64_t seed, const std::string& from, Stage stage,
                      const std::optional<ModelBundle>& graph) {
  torch::manual_seed(seed);  // the initial weights
  ModelBundle layers = graph ? *graph : architecture(config);
  layers.bits = BundleBits{config.weight_bits, config.input_bits};
  Network net(layers);
  if (!from.empty()) {
    if (!fs::is_directory(from)) throw InputError("--from " + from + ": not a directory");
    if (fs::exists(fs::path(from) / kBundleManifest)) {
      // The graph's bundle when it is this one (read once), else the bundle of --from.
      load_bundle_into(*net, graph && graph->dir == from ? *graph : load_model_bundle(from));
      spdlog::info("started from the bundle {}", from);
    } else {
      const std::string path = from_checkpoint(from, stage);
      const CheckpointInfo info = load_checkpoint(path, *net, nullptr);
      spdlog::info("started from {} ({} epochs of stage {})", path, info.epochs_done, stage_name(info.stage));
    }
  }
  net->set_quantized(stage != Stage::kFp32);
  return net;
}

namespace {

// One epoch of the stage: training on the epoch's order of the training images, then the test (and
// held-out) images. The caller saves the checkpoint.
EpochMetrics run_epoch(NetworkImpl& net, torch::optim::Optimizer& optimizer, const ExperimentConfig& config,
                       const RunOptions& options, const ImageTensors& train, const ImageTensors& test,
                       const std::optional<ImageTensors>& holdout, uint64_t seed, int epoch) {
  const auto start = std::chrono::steady_clock::now();
  const int epochs = config.epochs(options.stage);
  // Stage cim's noise draws come from torch's generator: seeded per epoch, so a resumed run
  // draws what an uninterrupted one would.
  torch::manual_seed(seed * 1000003ULL + uint64_t(epoch) * 7919ULL + uint64_t(options.stage));
  const double lr = scheduled_lr(config.schedule, config.lr(options.stage), epoch, epochs);
  set_learning_rate(optimizer, lr);
  ProgressBar bar(options.progress);
  std::vector<int64_t> order = epoch_order(train.count(), seed, epoch);
  const int64_t per_epoch = config.stage(options.stage).train_images;
  if (per_epoch > 0 && per_epoch < int64_t(order.size())) order.resize(std::size_t(per_epoch));
  const PassStats fit =
      train_epoch(net, optimizer, train, order, config.schedule.batch_size,
                  [&](int64_t done, int64_t total, double loss) { bar.update(done, total, loss); });
  bar.finish();
  const PassStats eval = evaluate(net, test, std::max(config.schedule.batch_size, 256));
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.stage = options.stage;
  m.loss = fit.loss;
  m.train_acc = fit.accuracy;
  m.test_acc = eval.accuracy;
  m.lr = lr;
  if (holdout) m.holdout_acc = csv_rounded(evaluate(net, *holdout, std::max(config.schedule.batch_size, 256)).accuracy);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("{} epoch {}/{}: loss {:.4f}, train {:.2f}%, test {:.2f}%{}, lr {:.3g}, {:.1f} s",
               stage_name(options.stage), m.epoch, epochs, m.loss, 100 * m.train_acc, 100 * m.test_acc,
               m.holdout_acc ? fmt::format(", held-out {:.2f}%", 100 * *m.holdout_acc) : std::string(), lr,
               m.seconds);
  return m;
}

// The stage's model bundle (qat: DIR/bundle; cim: DIR/cim-bundle; the flow keeps both) and its
// accuracy as cimsim run computes it.
void export_stage_bundle(const ExperimentConfig& config, const RunOptions& options,
                         const std::optional<HwConfig>& hw, const data::Dataset& test_images,
                         StageResult& result) {
  const bool cim = options.stage == Stage::kCim;
  result.bundle_dir = (fs::path(options.out_dir) / (cim ? "cim-bundle" : "bundle")).string();
  ModelBundle bundle = export_bundle(*result.net);
  bundle.name = config.name;
  write_model_bundle_atomically(bundle, result.bundle_dir);
  result.bundle_accuracy =
      bundle_accuracy(config, result.net->graph(), result.bundle_dir, test_images, cim ? hw : std::nullopt);
  spdlog::info(
      "wrote the model bundle {}: test accuracy {:.2f}% ({}/{}) in double precision, as cimsim run "
      "computes it with {} and ideal devices",
      result.bundle_dir, 100 * result.bundle_accuracy,
      std::lround(result.bundle_accuracy * double(test_images.count)), test_images.count,
      cim ? "the hardware's ADCs and the learned intervals" : "an ideal ADC");
}

// A network from a bundle (cimsim import, or any bundle): its input normalisation replaces the
// experiment's (run_stage keeps its graph in OUT/graph for --resume and the next stage's --from OUT).
ExperimentConfig config_for_graph(const ExperimentConfig& experiment, const std::optional<ModelBundle>& graph) {
  ExperimentConfig config = experiment;
  if (!graph) return config;
  if (graph->input.mean != config.data.mean || graph->input.std != config.data.std)
    spdlog::info("normalising the images as the bundle {} does (its input mean and std)", graph->dir);
  config.data.mean = graph->input.mean;
  config.data.std = graph->input.std;
  return config;
}

// data.holdout: the last N of the training images, taken out of `train` (docs/training.md).
std::optional<ImageTensors> hold_out(ImageTensors& train, const ExperimentConfig& config) {
  const int64_t n = train.count(), h = config.data.holdout;
  if (h == 0) return std::nullopt;
  if (h >= n)
    throw InputError(config.source + ": data.holdout " + std::to_string(h) + " leaves none of the " +
                     std::to_string(n) + " training images to train on; hold out fewer");
  ImageTensors held{train.images.narrow(0, n - h, h), train.labels.narrow(0, n - h, h)};
  train = ImageTensors{train.images.narrow(0, 0, n - h), train.labels.narrow(0, 0, n - h)};
  return held;
}

// select: best, once the stage's epochs are done: the stage's checkpoint takes the best held-out
// epoch's weights (so the bundle and the next stage start from them), the last epoch's checkpoint is
// kept as <stage>-last.ckpt. Each step can be redone: a rerun after a crash, or of a finished stage,
// finds no <stage>-best.ckpt and changes nothing.
void end_with_best_epoch(NetworkImpl& net, torch::optim::Optimizer& optimizer, const RunOptions& options,
                         const BestEpoch& best, int epochs, uint64_t seed, const std::string& checkpoint) {
  const std::string best_path = checkpoint_path(options.out_dir, options.stage, "best");
  const std::string last_path = checkpoint_path(options.out_dir, options.stage, "last");
  if (!fs::exists(best_path)) return;
  std::error_code ec;
  if (!fs::exists(last_path)) {
    fs::copy_file(checkpoint, last_path + ".tmp", fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(last_path + ".tmp", last_path, ec);
    if (ec) throw InputError(last_path + ": cannot write it (" + ec.message() + "); rerun with --resume");
  }
  const CheckpointInfo info = load_checkpoint(best_path, net, nullptr);
  save_checkpoint(checkpoint, net, optimizer, CheckpointInfo{options.stage, epochs, seed});
  fs::remove(best_path, ec);
  spdlog::info("{} ends with epoch {} of {} (held-out accuracy {:.2f}%, the best; select: best); the last "
               "epoch's weights are in {}",
               stage_name(options.stage), info.epochs_done, epochs, 100 * best.holdout_acc, last_path);
}

}  // namespace

StageResult run_stage(const ExperimentConfig& experiment, const RunOptions& options) {
  const std::optional<HwConfig> hw = load_hardware(experiment, options);
  const uint64_t seed = options.seed.value_or(experiment.seed);
  torch::set_num_threads(options.threads.value_or(experiment.threads));
  StageResult result;
  result.checkpoint = checkpoint_path(options.out_dir, options.stage);
  if (!options.resume && fs::exists(result.checkpoint)) {
    throw InputError(result.checkpoint + " exists; pass --resume to continue it, or choose another --out");
  }
  if (options.resume && !fs::exists(result.checkpoint)) {
    throw InputError("--resume: " + result.checkpoint +
                     " does not exist; run without --resume to start the stage");
  }
  const std::optional<ModelBundle> graph = bundle_graph(options.from, options.out_dir, options.resume);
  const ExperimentConfig config = config_for_graph(experiment, graph);
  result.net = build_network(config, seed, options.resume ? std::string() : options.from, options.stage, graph);
  NetworkImpl& net = *result.net;
  if (options.stage == Stage::kCim) {
    std::optional<CalibrationFile> calib;
    if (!options.calib_path.empty()) calib = load_calibration(options.calib_path);
    put_on_hardware(net, *hw, options.hw_stats_path, config.cim.feedback, calib, options.calib_path);
    if (!options.resume) warn_if_full_range(net.graph(), *hw, options.calib_path);
    if (!config.cim.learn_intervals) {
      net.freeze_adc_intervals();
      spdlog::info("ADC intervals fixed at their start values (cim.learn_intervals: false)");
    }
  }
  const int epochs = config.epochs(options.stage);
  auto optimizer = make_optimizer(net, config.optimizer, config.lr(options.stage));
  int first_epoch = 0;
  if (options.resume) {
    const CheckpointInfo info = load_checkpoint(result.checkpoint, net, optimizer.get());
    if (info.seed != seed) {
      throw InputError(result.checkpoint + ": written with seed " + std::to_string(info.seed) + ", not " +
                       std::to_string(seed) + "; resume with the same --seed");
    }
    first_epoch = info.epochs_done;
    spdlog::info("resuming {} after epoch {}", result.checkpoint, first_epoch);
  }
  const data::Dataset test_images = load_split(config.data, data::Split::kTest);
  check_data_fits(net.graph(), test_images, config.source, "set data: to the model's data set");
  ImageTensors train = [&] {  // the raw images freed once converted
    const data::Dataset images = load_split(config.data, data::Split::kTrain);
    check_data_fits(net.graph(), images, config.source, "set data: to the model's data set");
    return to_tensors(images, config.data.mean, config.data.std);
  }();
  const std::optional<ImageTensors> holdout = hold_out(train, config);
  const ImageTensors test = to_tensors(test_images, config.data.mean, config.data.std);

  // Only now, with every input checked and read, is the output directory created: a bad input
  // leaves nothing behind.
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw InputError(options.out_dir + ": cannot create the output directory: " + ec.message());
  if (!config.source.empty() && fs::exists(config.source)) {
    fs::copy_file(config.source, fs::path(options.out_dir) / "experiment.yaml",
                  fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError(options.out_dir + "/experiment.yaml: cannot write it: " + ec.message());
  }
  if (graph && !options.resume) write_model_bundle_atomically(*graph, (fs::path(options.out_dir) / kGraphDir).string());
  const int64_t per_epoch = config.stage(options.stage).train_images;
  spdlog::info("{} {} on {}: {} training{}{} and {} test images, {} epochs from epoch {}",
               stage_name(options.stage), graph ? graph->name : config.network.arch, config.data.set, train.count(),
               per_epoch > 0 && per_epoch < train.count() ? fmt::format(" ({} per epoch)", per_epoch) : "",
               holdout ? fmt::format(", {} held-out", holdout->count()) : "", test.count(), epochs, first_epoch + 1);

  MetricsCsv metrics(options.out_dir, options.stage, first_epoch);
  const bool select_best = config.stage(options.stage).select == "best";
  BestEpoch best = metrics.kept_best();  // a resumed run's best so far
  int run_now = 0;
  for (int epoch = first_epoch; epoch < epochs; ++epoch) {
    if (options.stop_after_epochs > 0 && run_now == options.stop_after_epochs) break;
    const EpochMetrics m = run_epoch(net, *optimizer, config, options, train, test, holdout, seed, epoch);
    // In this order: the best epoch's weights, its metrics.csv row, then the stage's checkpoint. A
    // crash before the checkpoint redoes the epoch on --resume (bit-identically, rows past the
    // checkpoint dropped), so the best so far, rebuilt from the kept rows, and <stage>-best.ckpt agree.
    if (select_best && best.offer(m))
      save_checkpoint(checkpoint_path(options.out_dir, options.stage, "best"), net, *optimizer,
                      CheckpointInfo{options.stage, m.epoch, seed});
    metrics.append(m);
    save_checkpoint(result.checkpoint, net, *optimizer, CheckpointInfo{options.stage, m.epoch, seed});
    result.epochs.push_back(m);
    ++run_now;
  }
  if (options.stage != Stage::kFp32 && first_epoch + run_now >= epochs) {
    if (select_best) end_with_best_epoch(net, *optimizer, options, best, epochs, seed, result.checkpoint);
    export_stage_bundle(config, options, hw, test_images, result);
  }
  return result;
}

}  // namespace cimsim::train
