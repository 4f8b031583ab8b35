// One stage of the two-stage flow (docs/training.md): builds the experiment's network, starts it from
// --from (a bundle or an earlier stage's checkpoint) or from a seeded initialisation, or resumes this
// stage's checkpoint, trains the stage's epochs with a checkpoint after each, and exports the model
// bundle: stage qat to <out>/bundle, stage cim (with its learned ADC intervals) to <out>/cim-bundle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adc/calibration_file.h"
#include "experiment_config.h"
#include "hw_stats.h"
#include "metrics_log.h"
#include "network.h"

namespace cimsim::train {

struct RunOptions {
  std::string out_dir;
  Stage stage = Stage::kFp32;
  std::string from;           // a bundle directory or an output directory of an earlier run
  std::string hw_path;        // checked against the experiment's bits when given
  std::string hw_stats_path;  // stage cim only
  std::string calib_path;     // stage cim only: the learned intervals start from this calibration
  bool resume = false;
  std::optional<uint64_t> seed;  // overrides the experiment's
  std::optional<int> threads;    // overrides the experiment's
  bool progress = true;          // the bar (only ever drawn on a terminal)
  int stop_after_epochs = 0;     // > 0: stop after this many epochs of this run (as if killed)
};

struct StageResult {
  std::vector<EpochMetrics> epochs;  // those run now
  Network net{nullptr};
  std::string checkpoint;
  std::string bundle_dir;       // stages qat and cim: where the bundle went
  double bundle_accuracy = -1;  // its test accuracy in double precision (cim: on the macros, ideal devices)
};

StageResult run_stage(const ExperimentConfig& config, const RunOptions& options);

// The network of `config`, started as --from says (nothing: seeded initialisation).
// The run's network graph when it comes from a bundle: --from BUNDLE (e.g. cimsim import's), or --from an
// earlier run's OUT whose graph/ holds one, or with `resume` OUT/graph; nullopt: the experiment's arch.
std::optional<ModelBundle> bundle_graph(const std::string& from, const std::string& out_dir, bool resume);
// The network of `graph` (else the experiment's architecture) at the experiment's bits, started from
// `from` (a bundle: its weights and, at equal bits, its steps; or an earlier run's checkpoint).
Network build_network(const ExperimentConfig& config, uint64_t seed, const std::string& from, Stage stage,
                      const std::optional<ModelBundle>& graph = std::nullopt);
// Stage cim's hardware (docs/training.md): every CIM layer of `net` computes on `hw`'s macros. Its
// noise is the hardware's device model, redrawn every forward; with `hw_stats_path`, instead, what the
// simulator measured per layer, under `feedback` (hw_stats.h). With `calib` (checked against `hw` and
// the graph; `calib_source` names it in messages), each layer's learned interval starts from it.
// `wording` names the statistics file and the feedback rules in messages.
void put_on_hardware(NetworkImpl& net, const HwConfig& hw, const std::string& hw_stats_path,
                     const std::string& feedback, const std::optional<CalibrationFile>& calib,
                     const std::string& calib_source, const FeedbackWording& wording = {});
// The CIM layers of `graph` whose ADC interval on `hw` is the full range (none with an ideal ADC):
// stage cim learns theirs from a poor start.
std::vector<std::string> full_range_layers(const ModelBundle& graph, const HwConfig& hw);
// Where a run keeps the graph of a network that came from a bundle.
inline constexpr const char* kGraphDir = "graph";

}  // namespace cimsim::train
