// cimsim-train: the LibTorch trainer (docs/training.md). `cimsim train ARGS...` executes this program,
// so the simulator binary never links LibTorch.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "core/error.h"
#include "experiment_config.h"
#include "process_memory.h"
#include "stage_runner.h"

int main(int argc, char* argv[]) {
  cimsim::train::keep_freed_memory();
  CLI::App app{"cimsim-train: quantization-aware training of networks for the cimsim simulator"};
  std::string config_path, stage = "fp32";
  cimsim::train::RunOptions options;
  int64_t seed = -1;
  int threads = 0;
  bool quiet = false, verbose = false;
  app.add_option("--config", config_path, "experiment YAML (docs/training.md)")->required();
  app.add_option("--out", options.out_dir, "output directory: checkpoints, metrics.csv, bundle/")->required();
  app.add_option("--stage", stage, "fp32 (ordinary training), qat (LSQ, stage 1) or cim (stage 2)")
      ->check(CLI::IsMember({"fp32", "qat", "cim"}));
  app.add_option("--from", options.from, "start from a model bundle or an earlier run's --out directory");
  app.add_option("--hw", options.hw_path, "hardware YAML whose bit widths must match the experiment's");
  app.add_option("--hw-stats", options.hw_stats_path, "stats JSON of a cimsim run (stage cim)");
  app.add_option("--calib", options.calib_path,
                 "calibration of cimsim calibrate: the ADC intervals start there (stage cim)");
  app.add_flag("--resume", options.resume, "continue this stage from its last checkpoint in --out");
  app.add_option("--seed", seed, "overrides the experiment's seed")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  app.add_option("--threads", threads, "LibTorch threads (default: the experiment's, 2)")
      ->check(CLI::Range(1, 256));
  app.add_option("--stop-after", options.stop_after_epochs,
                 "stop after this many epochs of this run, as an interruption would (for testing --resume)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("-q,--quiet", quiet, "log only warnings and errors, no progress bar");
  app.add_flag("-v,--verbose", verbose, "log debug messages");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help: 0; every bad option or value: the programs' one bad-input code, 2 (CLI11's own are 100+).
    return app.exit(e) == 0 ? 0 : 2;
  }
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(verbose ? spdlog::level::debug : quiet ? spdlog::level::warn : spdlog::level::info);
  options.stage = stage == "fp32"  ? cimsim::train::Stage::kFp32
                  : stage == "qat" ? cimsim::train::Stage::kQat
                                   : cimsim::train::Stage::kCim;
  if (seed >= 0) options.seed = uint64_t(seed);
  if (threads > 0) options.threads = threads;
  options.progress = !quiet;
  return cimsim::exit_code_of([&] {
    cimsim::train::run_stage(cimsim::train::load_experiment(config_path), options);
    return 0;
  });
}
