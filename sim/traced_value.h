// A value a module shows in the VCD trace. The module sets it at every change (a plain store);
// inside the trace window a change also wakes the value's own writer process, which writes it to
// its sc_signal in the next delta cycle, as does show() (the window opens). One writer per
// signal: the module's process and the window's opening may fall in the same delta cycle
// without a conflicting write. Without a window there is neither signal nor process.
#pragma once

#include <memory>
#include <string>
#include <systemc>

#include "trace_sink.h"
#include "trace_window.h"

namespace cimsim {

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
    options.dont_initialize();
    options.set_sensitivity(&changed_);
    sc_core::sc_spawn([this] { signal_->write(value_); }, (std::string(name) + "_writer").c_str(), &options);
  }
  TracedValue(const TracedValue&) = delete;
  TracedValue& operator=(const TracedValue&) = delete;

  void set(const T& v) {
    value_ = v;
    if (signal_ && window_.contains(sc_core::sc_time_stamp())) changed_.notify(sc_core::SC_ZERO_TIME);
  }
  // Writes the value as it stands.
  void show() {
    if (signal_) changed_.notify(sc_core::SC_ZERO_TIME);
  }
  const T& value() const { return value_; }
  void trace(TraceSink& sink, const std::string& name) const {
    if (signal_) sink.add(*signal_, name);
  }

 private:
  TraceWindow window_;
  T value_;
  sc_core::sc_event changed_;
  std::unique_ptr<sc_core::sc_signal<T>> signal_;
};

// A strobe shown in the VCD trace: fire() raises it for one clock period (inside the trace
// window), a later fire() within that period extends it. Its own process writes the signal.
class TracedPulse {
 public:
  TracedPulse(const char* name, const TraceWindow& window) : window_(window) {
    if (!window.enabled) return;
    signal_ = std::make_unique<sc_core::sc_signal<bool>>(name, false);
    sc_core::sc_spawn([this] { run(); }, (std::string(name) + "_writer").c_str());
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
  void run() {
    while (true) {
      sc_core::wait(fired_);
      signal_->write(true);
      while (sc_core::sc_time_stamp() < last_ + window_.period)
        sc_core::wait(last_ + window_.period - sc_core::sc_time_stamp());
      signal_->write(false);
    }
  }
  TraceWindow window_;
  sc_core::sc_time last_;
  sc_core::sc_event fired_;
  std::unique_ptr<sc_core::sc_signal<bool>> signal_;
};

}  // namespace cimsim
