#include "shift_add.h"

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
  Eigen::Map<Eigen::ArrayXd> acc(registers, count);
  const Eigen::Map<const Eigen::ArrayXd> v(value, count);
  if (minus) {
    const Eigen::Map<const Eigen::ArrayXd> vm(minus, count);
    acc += (v - vm) * scale;
  } else {
    acc += v * scale;
  }
  if (saturation_ > 0) acc = acc.max(-saturation_).min(saturation_ - 1.0);
}

void ShiftAdd::run() {
  while (true) {
    wait(last_);
    wait(state_.cycles(state_.hw->timing.shift_add_cycles));
    done_.notify(sc_core::SC_ZERO_TIME);
  }
}

}  // namespace cimsim
