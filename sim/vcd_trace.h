// Waveform output through SystemC's VCD tracing, plus a GTKWave save file (.gtkw) that groups
// each layer's and each macro's signals, and the traced clock. A name ending in .fst is written
// as a VCD and converted with GTKWave's vcd2fst. All files are staged in an OutputFiles set: they
// appear under their final names only when the caller commits the whole run's outputs.
#pragma once

#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "io/output_files.h"
#include "trace_clock.h"
#include "trace_sink.h"
#include "trace_window.h"

namespace cimsim {

// A bare file name goes under traces/; paths with a directory are kept; ".vcd" is added unless
// the name ends in .vcd or .fst.
std::string resolve_trace_path(const std::string& requested);

class VcdTrace {
 public:
  // Before elaboration ends (it creates the traced clock). InputError for an .fst name when
  // vcd2fst is not on the PATH.
  VcdTrace(const std::string& requested_path, OutputFiles& outputs, const TraceWindow& window);
  ~VcdTrace();
  // Where the modules register their signals (before sc_start).
  TraceSink& sink() { return *sink_; }
  const std::string& path() const { return path_; }
  std::string gtkw_path() const;
  // After the simulation: closes the VCD (converting it to FST if asked) and writes the staged
  // .gtkw, opening on the part of the window the run reached. InputError when the run ended
  // before the window opened (the trace would be empty).
  void close();

 private:
  void write_gtkw(double from_ps, double to_ps) const;
  std::string path_;
  TraceWindow window_;
  bool fst_ = false;
  std::string vcd_temp_base_;  // SystemC appends ".vcd"
  std::string fst_temp_;       // the staged .fst
  std::string gtkw_temp_;
  sc_core::sc_trace_file* file_ = nullptr;
  std::unique_ptr<TraceSink> sink_;
  std::unique_ptr<TraceClock> clock_;
};

}  // namespace cimsim
