#include "device/level_errors.h"

#include <algorithm>
#include <cmath>

#include "device/array_programming.h"
#include "stats/stats_records.h"

namespace cimsim {

void DeviceLevelErrors::init(int max_level) {
  cells_.assign(std::size_t(max_level) + 1, 0);
  sum_.assign(cells_.size(), 0);
  sum_sq_.assign(cells_.size(), 0);
}

void DeviceLevelErrors::add(int level, double g) {
  const int64_t d = std::llround((g - level) * std::ldexp(1.0, kConductanceFractionBits));
  const std::size_t l = std::size_t(level);
  ++cells_[l];
  sum_[l] += d;
  sum_sq_[l] += Int128(d) * d;
}

void DeviceLevelErrors::merge(const DeviceLevelErrors& other) {
  if (other.empty()) return;
  if (empty()) init(other.max_level());
  for (std::size_t l = 0; l < cells_.size(); ++l) {
    cells_[l] += other.cells_[l];
    sum_[l] += other.sum_[l];
    sum_sq_[l] += other.sum_sq_[l];
  }
}

double DeviceLevelErrors::mean(int level) const {
  const std::size_t l = std::size_t(level);
  if (cells_[l] == 0) return 0.0;
  return double(sum_[l]) / double(cells_[l]) / std::ldexp(1.0, kConductanceFractionBits);
}

double DeviceLevelErrors::stddev(int level) const {
  const std::size_t l = std::size_t(level);
  if (cells_[l] == 0) return 0.0;
  // n^2 var = n sum_sq - sum^2, exact in 128 bits; then one rounding to double.
  const Int128 n = cells_[l];
  const Int128 scaled = n * sum_sq_[l] - Int128(sum_[l]) * sum_[l];
  const double var = double(scaled) / (double(n) * double(n));
  return std::sqrt(std::max(0.0, var)) / std::ldexp(1.0, kConductanceFractionBits);
}

std::vector<DeviceLevelFigures> DeviceLevelErrors::figures() const {
  std::vector<DeviceLevelFigures> out;
  for (int l = 0; l <= max_level(); ++l) out.push_back({l, cells(l), mean(l), stddev(l)});
  return out;
}

}  // namespace cimsim
