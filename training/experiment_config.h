// The experiment YAML of cimsim-train (docs/training.md, "Experiment file"): which network, data
// set, bit widths, optimizer, learning-rate schedule and per-stage overrides. Read strictly with
// YamlSection: an unknown key, a wrong type or an out-of-range value is one InputError naming
// "<file>:<line>: <key>: <problem>; <fix>".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimsim::train {

enum class Stage { kFp32, kQat, kCim };
const char* stage_name(Stage stage);  // "fp32", "qat", "cim"

struct NetworkSpec {
  std::string arch = "lenet5";  // lenet5 | vgg8 | resnet20; "" without a network section (--from BUNDLE)
  double width = 1.0;           // channel (and hidden-unit) multiplier
};

struct DataSpec {
  std::string set = "fashion-mnist";  // fashion-mnist | mnist | cifar10 | npy
  std::string path;                   // directory of the files (fashion-mnist: Debian's by default)
  std::string train_files, test_files;  // npy: "IMAGES.npy,LABELS.npy" of each split
  int64_t train_limit = -1;           // first N training images; -1: all
  int64_t test_limit = -1;            // first N test images; -1: all
  int64_t holdout = 0;                // the last N training images (after train_limit): not trained on,
                                      // evaluated every epoch (select: best)
  std::vector<double> mean;           // per channel; the network sees (pixel/255 - mean) / std
  std::vector<double> std;
};

struct OptimizerSpec {
  std::string type = "sgd";  // sgd | adam
  double lr = 0.05;
  double weight_decay = 5e-4;
  double momentum = 0.9;  // sgd
  bool nesterov = true;   // sgd
  double beta1 = 0.9;     // adam
  double beta2 = 0.999;   // adam
};

struct ScheduleSpec {
  int epochs = 10;
  int batch_size = 128;
  std::string lr_schedule = "cosine";  // cosine | step | constant
  int step_epochs = 10;                // step: multiply by step_gamma every step_epochs epochs
  double step_gamma = 0.1;
};

// A stage's epochs and learning rate; 0 means "the schedule's / optimizer's value".
struct StageSpec {
  int epochs = 0;
  double lr = 0;
  int64_t train_images = 0;     // images trained on per epoch, the first of each epoch's order; 0: all
  bool learn_intervals = true;  // stage cim: the ADC intervals are trained (else they keep their start)
  // Stage cim with --hw-stats: "cells" (per-cell perturbations from the measured per-level device
  // errors plus the measured read and thermal noise) or "partial_sums" (one Gaussian per partial sum).
  std::string feedback = "cells";
  // Stages qat and cim: which epoch's weights the stage ends with and exports: "last", or "best" by
  // the accuracy on the held-out training images (data.holdout).
  std::string select = "last";
};

struct ExperimentConfig {
  std::string source;  // the file it was read from
  std::string name;
  uint64_t seed = 1;
  int threads = 2;
  NetworkSpec network;
  DataSpec data;
  int weight_bits = 4;
  int input_bits = 4;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  StageSpec fp32, qat, cim;

  const StageSpec& stage(Stage s) const { return s == Stage::kFp32 ? fp32 : s == Stage::kQat ? qat : cim; }
  int epochs(Stage s) const { return stage(s).epochs > 0 ? stage(s).epochs : schedule.epochs; }
  double lr(Stage s) const { return stage(s).lr > 0 ? stage(s).lr : optimizer.lr; }
  // Channels of the data set's images (1 for the MNISTs, 3 for CIFAR-10).
  int input_channels() const { return data.set == "cifar10" ? 3 : 1; }
};

// `source_name` is used in messages in place of a file name.
ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source_name);
ExperimentConfig load_experiment(const std::string& path);

// The learning rate of 0-based `epoch` of a stage with `epochs` epochs starting at `base_lr`.
double scheduled_lr(const ScheduleSpec& schedule, double base_lr, int epoch, int epochs);

}  // namespace cimsim::train
