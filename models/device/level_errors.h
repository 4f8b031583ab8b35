// The programmed conductance against its target, per target level (docs/stats.md, `device_levels`):
// for every cell of a layer (each side of each differential pair, every slice, every copy), the error
// d = g - L of the conductance g it holds after programming variation, stuck-at faults and drift
// against the level L it was written to, in levels. g and L lie on the fixed-point grid of
// kConductanceFractionBits (array_programming.h), so d * 2^16 is an integer and the sums below are
// integers: exact, whatever order the tiles are merged in.
#pragma once

#include <cstdint>
#include <vector>

namespace cimsim {

struct DeviceLevelFigures;
__extension__ using Int128 = __int128;  // GCC and clang; exact sums of squares

class DeviceLevelErrors {
 public:
  // Levels 0 .. max_level.
  void init(int max_level);
  bool empty() const { return cells_.empty(); }
  // A cell written to `level` that holds g (on the fixed-point grid).
  void add(int level, double g);
  void merge(const DeviceLevelErrors& other);
  int64_t cells(int level) const { return cells_[std::size_t(level)]; }
  // Mean and population standard deviation of d over the cells of `level`, in levels (0 without cells).
  double mean(int level) const;
  double stddev(int level) const;
  int max_level() const { return int(cells_.size()) - 1; }
  // One record per level, levels 0 .. max_level.
  std::vector<DeviceLevelFigures> figures() const;

 private:
  std::vector<int64_t> cells_;
  std::vector<int64_t> sum_;     // of d * 2^16
  std::vector<Int128> sum_sq_;  // of (d * 2^16)^2
};

}  // namespace cimsim
