#include "shift_add.h"

#include <algorithm>
#include <cmath>

namespace cimsim {

ShiftAdd::ShiftAdd(sc_core::sc_module_name name, MacroState& state, sc_core::sc_event& done)
    : sc_core::sc_module(name), state_(state), done_(done) {
  if (state.hw->macro.accumulator_bits > 0)
    saturation_ = std::ldexp(1.0, state.hw->macro.accumulator_bits - 1);
  SC_HAS_PROCESS(ShiftAdd);
  SC_THREAD(run);
}

void ShiftAdd::accumulate(double* registers, int count, double scale, const double* value,
                          const double* minus) const {
  // Plain loops (vectorised): the same operations in the same order as the formula.
  if (minus) {
    for (int i = 0; i < count; ++i) registers[i] += (value[i] - minus[i]) * scale;
  } else {
    for (int i = 0; i < count; ++i) registers[i] += value[i] * scale;
  }
  if (saturation_ > 0) {
    const double lo = -saturation_, hi = saturation_ - 1.0;
    for (int i = 0; i < count; ++i) registers[i] = std::min(std::max(registers[i], lo), hi);
  }
}

void ShiftAdd::run() {
  while (true) {
    wait(last_);
    wait(state_.cycles(state_.hw->timing.shift_add_cycles));
    done_.notify(sc_core::SC_ZERO_TIME);
  }
}

}  // namespace cimsim
