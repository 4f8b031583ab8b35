// The cycle window in which modules record per-cycle signal changes for the VCD trace.
// Outside it (or with no trace) no signal is written and no per-cycle wake-up happens.
// Comparisons are made in whole cycles (time / period), never by multiplying the window's
// bounds into sc_time, so no bound can overflow simulated time.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <systemc>

#include "config/hw_config.h"

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
  // The clock period in whole ps of `hw`, and a window that is enabled when a trace path is given;
  // to < 0 means to the end of the run.
  static TraceWindow for_run(const HwConfig& hw, const std::string& trace_path, int64_t from, int64_t to) {
    TraceWindow w;
    w.period = sc_core::sc_time(double(std::llround(hw.clock_period_ps())), sc_core::SC_PS);
    w.enabled = !trace_path.empty();
    w.from_cycle = from;
    w.open_ended = to < 0;
    w.to_cycle = to;
    return w;
  }

  // Whether the cycles [begin, begin + cycles) overlap the window.
  bool overlaps(const sc_core::sc_time& begin, int64_t cycles) const {
    if (!enabled) return false;
    const int64_t c = cycle_of(begin);
    return c + cycles > from_cycle && (open_ended || c <= to_cycle);
  }
};

}  // namespace cimsim
