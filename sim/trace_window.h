// The cycle window in which modules record per-cycle signal changes for the VCD trace.
// Outside it (or with no trace) no signal is written and no per-cycle wake-up happens.
// Comparisons are made in whole cycles (time / period), never by multiplying the window's
// bounds into sc_time, so no bound can overflow simulated time.
#pragma once

#include <cstdint>
#include <systemc>

namespace cimsim {

struct TraceWindow {
  bool enabled = false;
  int64_t from_cycle = 0;
  int64_t to_cycle = 0;    // inclusive; ignored when open_ended
  bool open_ended = true;  // no upper bound: to the end of the run
  sc_core::sc_time period;

  int64_t cycle_of(const sc_core::sc_time& t) const { return int64_t(t.value() / period.value()); }
  bool contains(const sc_core::sc_time& t) const {
    if (!enabled) return false;
    const int64_t c = cycle_of(t);
    return c >= from_cycle && (open_ended || c <= to_cycle);
  }
  // Whether the cycles [begin, begin + cycles) overlap the window.
  bool overlaps(const sc_core::sc_time& begin, int64_t cycles) const {
    if (!enabled) return false;
    const int64_t c = cycle_of(begin);
    return c + cycles > from_cycle && (open_ended || c <= to_cycle);
  }
};

}  // namespace cimsim
