// The cycle window in which modules record per-cycle signal changes for the VCD trace.
// Outside it (or with no trace) no signal is written and no per-cycle wake-up happens.
// Comparisons are made in whole cycles (time / period); the one bound turned into a time, the
// opening, is checked against the largest representable time first (open_time()).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <systemc>
#include <vector>

#include "config/hw_config.h"

namespace cimsim {

struct TraceWindow {
  bool enabled = false;
  int64_t from_cycle = 0;
  int64_t to_cycle = 0;    // inclusive; ignored when open_ended
  bool open_ended = true;  // no upper bound: to the end of the run
  sc_core::sc_time period;
  // The ADCs of each macro whose signals are traced (indices in 0 .. macro.adcs() - 1); every
  // one when all_adcs.
  std::vector<int> adcs{0};
  bool all_adcs = false;

  int64_t cycle_of(const sc_core::sc_time& t) const { return int64_t(t.value() / period.value()); }
  bool contains(const sc_core::sc_time& t) const {
    if (!enabled) return false;
    const int64_t c = cycle_of(t);
    return c >= from_cycle && (open_ended || c <= to_cycle);
  }
  // The clock period in whole ps of `hw`, and a window that is enabled when a trace path is given;
  // to < 0 means to the end of the run.
  static TraceWindow for_run(const HwConfig& hw, const std::string& trace_path, int64_t from, int64_t to,
                             const std::vector<int>& adcs = {0}, bool all_adcs = false) {
    TraceWindow w;
    w.adcs = adcs;
    w.all_adcs = all_adcs;
    w.period = sc_core::sc_time(double(std::llround(hw.clock_period_ps())), sc_core::SC_PS);
    w.enabled = !trace_path.empty();
    w.from_cycle = from;
    w.open_ended = to < 0;
    w.to_cycle = to;
    return w;
  }

  // Whether ADC `adc` of a macro is traced.
  bool traces_adc(int adc) const {
    return enabled && (all_adcs || std::find(adcs.begin(), adcs.end(), adc) != adcs.end());
  }
  // The time the window opens, into `open`; false for a window opening beyond representable
  // simulated time (it never opens: the run ends long before).
  bool open_time(sc_core::sc_time& open) const {
    const double from_ticks = double(from_cycle) * double(period.value());
    if (from_ticks >= double(sc_core::sc_max_time().value()) / 2) return false;
    open = period * double(from_cycle);
    return true;
  }
  // Whether the cycles [begin, begin + cycles) overlap the window.
  bool overlaps(const sc_core::sc_time& begin, int64_t cycles) const {
    if (!enabled) return false;
    const int64_t c = cycle_of(begin);
    return c + cycles > from_cycle && (open_ended || c <= to_cycle);
  }
};

}  // namespace cimsim
