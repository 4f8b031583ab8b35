// What a run reports per epoch: metrics.csv (one row per epoch, all stages in one file), a one-line
// summary through spdlog, and a progress bar within the epoch when stderr is a terminal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "experiment_config.h"

namespace cimsim::train {

struct EpochMetrics {
  int epoch = 0;  // 1-based within its stage
  Stage stage = Stage::kFp32;
  double loss = 0, train_acc = 0, test_acc = 0, lr = 0, seconds = 0;
  std::optional<double> holdout_acc;  // with data.holdout
};

// An accuracy as metrics.csv holds it (6 decimals), so that a resumed run compares the same values.
double csv_rounded(double accuracy);

// The epoch (1-based) with the highest held-out accuracy, the first of equals.
struct BestEpoch {
  int epoch = 0;
  double holdout_acc = -1;
  // Takes m when it beats the best so far; returns whether it did.
  bool offer(const EpochMetrics& m);
};

class MetricsCsv {
 public:
  // Opens <dir>/metrics.csv keeping the header and the rows of other stages and of this stage's first
  // `keep_epochs` epochs (0 on a fresh run of the stage; the checkpoint's epochs on --resume).
  MetricsCsv(const std::string& dir, Stage stage, int keep_epochs);
  void append(const EpochMetrics& m);
  const std::string& path() const { return path_; }
  // The best held-out epoch among this stage's kept rows (a resumed run's epochs so far).
  const BestEpoch& kept_best() const { return kept_best_; }

 private:
  std::string path_;
  BestEpoch kept_best_;
};

// "\r[=====>    ] 120/469 loss 0.4321" on stderr, redrawn at most ~20 times per epoch; off when stderr
// is not a terminal or when `enabled` is false.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  void update(int64_t done, int64_t total, double loss);
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace cimsim::train
