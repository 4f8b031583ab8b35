// VCD waveform output through SystemC's tracing, plus a GTKWave save file (.gtkw) that groups
// each macro's signals. Both are staged in an OutputFiles set: they appear under their final
// names only when the caller commits the whole run's outputs.
#pragma once

#include <string>
#include <systemc>
#include <vector>

#include "io/output_files.h"
#include "trace_window.h"

namespace cimsim {

class LayerEngine;

// A bare file name goes under traces/; paths with a directory are kept; ".vcd" is added if absent.
std::string resolve_trace_path(const std::string& requested);

class VcdTrace {
 public:
  VcdTrace(const std::string& requested_path, OutputFiles& outputs);
  ~VcdTrace();
  sc_core::sc_trace_file* file() { return file_; }
  const std::string& path() const { return path_; }
  std::string gtkw_path() const;
  // After the simulation: closes the VCD and writes the staged .gtkw (one group per macro of each
  // engine), opening on the part of `window` the run reached.
  void close(const std::vector<const LayerEngine*>& engines, const TraceWindow& window);

 private:
  std::string path_;
  std::string vcd_temp_base_;  // SystemC appends ".vcd"
  std::string gtkw_temp_;
  sc_core::sc_trace_file* file_ = nullptr;
};

}  // namespace cimsim
