#include "dac.h"

namespace cimsim {

Dac::Dac(sc_core::sc_module_name name, MacroState& state, sc_core::sc_event& start)
    : sc_core::sc_module(name), state_(state), start_(start) {
  SC_HAS_PROCESS(Dac);
  SC_THREAD(run);
}

void Dac::run() {
  while (true) {
    wait(start_);
    const RowTile& tile = *state_.row_tile;
    const int phases = state_.hw->macro.phases();
    int index = 0;
    for (int local = 0; local < tile.num_groups; ++local) {
      const int group = tile.first_group + local;
      const int rows = state_.mapping->groups[std::size_t(group)].size;
      for (int phase = 0; phase < phases; ++phase) {
        state_.stats.events.dac_row_drives += int64_t(rows) * state_.job->batch;
        const bool last = local + 1 == tile.num_groups && phase + 1 == phases;
        to_array->write(Step{index++, local, group, phase, last});
      }
    }
  }
}

}  // namespace cimsim
