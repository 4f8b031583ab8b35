// The cycle window in which modules record per-cycle signal changes for the VCD trace.
// Outside it (or with no trace) no signal is written and no per-cycle wake-up happens.
#pragma once

#include <cstdint>
#include <systemc>

namespace cimsim {

struct TraceWindow {
  bool enabled = false;
  int64_t from_cycle = 0;
  int64_t to_cycle = 0;  // inclusive
  sc_core::sc_time period;

  bool contains(const sc_core::sc_time& t) const {
    return enabled && t >= period * double(from_cycle) && t <= period * double(to_cycle);
  }
  // Whether [begin, begin + cycles) overlaps the window.
  bool overlaps(const sc_core::sc_time& begin, int64_t cycles) const {
    return enabled && begin <= period * double(to_cycle) &&
           begin + period * double(cycles) > period * double(from_cycle);
  }
};

}  // namespace cimsim
