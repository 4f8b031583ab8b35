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
constexpr const char* kHeader = "epoch,stage,loss,train_acc,test_acc,lr,seconds";
}

MetricsCsv::MetricsCsv(const std::string& dir, Stage stage, int keep_epochs)
    : path_((std::filesystem::path(dir) / "metrics.csv").string()) {
  std::vector<std::string> kept;
  std::ifstream in(path_);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line == kHeader) continue;
    std::istringstream fields(line);
    std::string epoch, row_stage;
    std::getline(fields, epoch, ',');
    std::getline(fields, row_stage, ',');
    if (row_stage != stage_name(stage) || std::atoi(epoch.c_str()) <= keep_epochs) kept.push_back(line);
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
  std::snprintf(line, sizeof line, "%d,%s,%.6f,%.6f,%.6f,%.6g,%.3f\n", m.epoch, stage_name(m.stage), m.loss,
                m.train_acc, m.test_acc, m.lr, m.seconds);
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
