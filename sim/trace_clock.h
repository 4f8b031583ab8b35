// The clock as a traced signal: `clk` rises at the start of every cycle and falls half a period
// later, inside the trace window only (the simulator itself needs no clock: its processes wait
// for whole numbers of cycles). Exists only when a trace is on. Its process ends with a closed
// window; with an open-ended one it runs until the driver that owns the run calls sc_stop()
// (cimsim mvm's and the network runner's do when their work is done).
#pragma once

#include <string>
#include <systemc>

#include "trace_sink.h"
#include "trace_window.h"

namespace cimsim {

class TraceClock : public sc_core::sc_module {
 public:
  TraceClock(sc_core::sc_module_name name, const TraceWindow& window)
      : sc_core::sc_module(name), window_(window), clk_("clk", false) {
    SC_HAS_PROCESS(TraceClock);
    SC_THREAD(run);
  }
  void trace(TraceSink& sink) const {
    sink.begin_group("clock");
    sink.add(clk_, std::string(name()) + ".clk");
  }

 private:
  void run() {
    sc_core::sc_time open;
    if (!window_.open_time(open)) return;
    wait(open);
    const sc_core::sc_time high = sc_core::sc_time::from_value(window_.period.value() / 2);
    for (int64_t cycle = window_.from_cycle; window_.open_ended || cycle <= window_.to_cycle; ++cycle) {
      clk_.write(true);
      wait(high);
      clk_.write(false);
      wait(window_.period - high);
    }
  }
  TraceWindow window_;
  sc_core::sc_signal<bool> clk_;
};

}  // namespace cimsim
