#include "metrics_log.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace cimsim::train {
namespace {
constexpr const char* kHeader = "epoch,stage,loss,train_acc,test_acc,lr,seconds,holdout_acc";
}

double csv_rounded(double accuracy) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", accuracy);
  return std::atof(text);
}

bool BestEpoch::offer(const EpochMetrics& m) {
  if (!m.holdout_acc || !(*m.holdout_acc > holdout_acc)) return false;
  epoch = m.epoch;
  holdout_acc = *m.holdout_acc;
  return true;
}

MetricsCsv::MetricsCsv(const std::string& dir, Stage stage, int keep_epochs)
    : path_((std::filesystem::path(dir) / "metrics.csv").string()) {
  std::vector<std::string> kept;
  std::ifstream in(path_);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.rfind("epoch,", 0) == 0) continue;  // a header, this one or an older one
    std::vector<std::string> field;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) field.push_back(f);
    if (field.size() < 2) continue;
    const bool this_stage = field[1] == stage_name(stage);
    const int epoch = std::atoi(field[0].c_str());
    if (this_stage && epoch > keep_epochs) continue;
    kept.push_back(line);
    if (this_stage && field.size() >= 8 && !field[7].empty()) {
      EpochMetrics m;
      m.epoch = epoch;
      m.holdout_acc = std::atof(field[7].c_str());
      kept_best_.offer(m);
    }
  }
  in.close();
  std::ofstream out(path_, std::ios::trunc);
  out << kHeader << "\n";
  for (const auto& line : kept) out << line << "\n";
  out.close();
  if (!out) throw InputError(path_ + ": cannot write the metrics file; check that the directory is writable");
}

void MetricsCsv::append(const EpochMetrics& m) {
  std::ofstream out(path_, std::ios::app);
  char line[256];
  char holdout[32] = "";
  if (m.holdout_acc) std::snprintf(holdout, sizeof holdout, "%.6f", *m.holdout_acc);
  std::snprintf(line, sizeof line, "%d,%s,%.6f,%.6f,%.6f,%.6g,%.3f,%s\n", m.epoch, stage_name(m.stage), m.loss,
                m.train_acc, m.test_acc, m.lr, m.seconds, holdout);
  out << line;
  out.close();  // the write reaches the disk (or fails: disk full) here
  if (!out) throw InputError(path_ + ": cannot append to the metrics file; is the disk full?");
}

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}

void ProgressBar::update(int64_t done, int64_t total, double loss) {
  if (!enabled_) return;
  const int64_t every = std::max<int64_t>(1, total / 20);
  if (done % every != 0 && done != total) return;
  constexpr int kWidth = 30;
  const int filled = int(kWidth * done / total);
  std::string bar(std::size_t(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(std::size_t(kWidth - filled - 1), ' ');
  std::fprintf(stderr, "\r[%s] %lld/%lld loss %.4f", bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), loss);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace cimsim::train
