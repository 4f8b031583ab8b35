#include "mapping/mvm_cycles.h"

#include <algorithm>

namespace cimsim {

int64_t mvm_cycles(const HwConfig& hw, const LayerMapping& mapping) {
  const MacroConfig& m = hw.macro;
  const int64_t t_a = hw.timing.array_cycles, t_sa = hw.timing.shift_add_cycles;
  const int64_t t_conv = hw.conversion_cycles();
  int64_t slowest = 0;
  for (int macro = 0; macro < mapping.macros(); ++macro) {
    const int64_t steps = int64_t(mapping.row_tile_of(macro).num_groups) * m.phases();
    const int64_t signals = int64_t(mapping.col_tile_of(macro).col_count) * m.slices() * m.signals_per_pair();
    const int64_t t_b = std::min<int64_t>(m.signals_per_adc(), signals) * t_conv;
    slowest = std::max(slowest, t_a + (steps - 1) * std::max(t_a, t_b) + t_b + t_sa);
  }
  int tree = 0;
  while ((std::size_t(1) << tree) < mapping.row_tiles.size()) ++tree;
  return slowest + tree;
}

}  // namespace cimsim
