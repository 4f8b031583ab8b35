// Values a module shows in the VCD trace, each with its own writer process (an SC_METHOD), so
// that no two processes write one signal in the same delta cycle. Without a trace window there
// is neither signal nor process, and setting a value is a plain store.
#pragma once

#include <memory>
#include <string>
#include <systemc>

#include "trace_sink.h"
#include "trace_window.h"

namespace cimsim {

// A level. The module sets it at every change; inside the window a change wakes the writer,
// which writes the value in the next delta cycle (same simulated time). The writer also writes
// the value as it stands when the window opens.
template <typename T>
class TracedValue {
 public:
  // Created while its module is being constructed (the signal and process are named under it).
  TracedValue(const char* name, const TraceWindow& window, T initial = T{})
      : window_(window), value_(initial) {
    if (!window.enabled) return;
    signal_ = std::make_unique<sc_core::sc_signal<T>>(name, initial);
    sc_core::sc_spawn_options options;
    options.spawn_method();
    options.set_sensitivity(&changed_);
    // Not dont_initialize(): the first run, at time 0, waits for the window to open.
    sc_core::sc_spawn([this] { write(); }, (std::string(name) + "_writer").c_str(), &options);
  }
  TracedValue(const TracedValue&) = delete;
  TracedValue& operator=(const TracedValue&) = delete;

  void set(const T& v) {
    value_ = v;
    if (signal_ && window_.contains(sc_core::sc_time_stamp())) changed_.notify(sc_core::SC_ZERO_TIME);
  }
  void trace(TraceSink& sink, const std::string& name) const {
    if (signal_) sink.add(*signal_, name);
  }

 private:
  void write() {
    if (!opened_) {
      opened_ = true;
      sc_core::sc_time open;
      if (!window_.open_time(open)) return;  // never opens: stays asleep
      if (open > sc_core::SC_ZERO_TIME) {
        sc_core::next_trigger(open);
        return;
      }
    }
    signal_->write(value_);
  }
  TraceWindow window_;
  T value_;
  bool opened_ = false;
  sc_core::sc_event changed_;
  std::unique_ptr<sc_core::sc_signal<T>> signal_;
};

// A strobe: fire() raises it for one clock period (inside the window); a later fire() within
// that period extends it.
class TracedPulse {
 public:
  TracedPulse(const char* name, const TraceWindow& window) : window_(window) {
    if (!window.enabled) return;
    signal_ = std::make_unique<sc_core::sc_signal<bool>>(name, false);
    sc_core::sc_spawn_options options;
    options.spawn_method();
    options.dont_initialize();
    options.set_sensitivity(&fired_);
    sc_core::sc_spawn([this] { write(); }, (std::string(name) + "_writer").c_str(), &options);
  }
  TracedPulse(const TracedPulse&) = delete;
  TracedPulse& operator=(const TracedPulse&) = delete;

  void fire() {
    if (!signal_ || !window_.contains(sc_core::sc_time_stamp())) return;
    last_ = sc_core::sc_time_stamp();
    fired_.notify(sc_core::SC_ZERO_TIME);
  }
  void trace(TraceSink& sink, const std::string& name) const {
    if (signal_) sink.add(*signal_, name);
  }

 private:
  // High until one period after the last fire, then low and asleep until the next.
  void write() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now < last_ + window_.period) {
      signal_->write(true);
      sc_core::next_trigger(last_ + window_.period - now);
    } else {
      signal_->write(false);
    }
  }
  TraceWindow window_;
  sc_core::sc_time last_;
  sc_core::sc_event fired_;
  std::unique_ptr<sc_core::sc_signal<bool>> signal_;
};

}  // namespace cimsim
