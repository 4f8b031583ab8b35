// VCD waveform output through SystemC's tracing, plus a GTKWave save file (.gtkw) that groups
// each macro's signals. The VCD is written under a temporary name and renamed when the run
// completes, so a failed run never leaves a VCD that looks complete.
#pragma once

#include <string>
#include <systemc>

namespace cimsim {

class LayerEngine;

// A bare file name goes under traces/ (created if needed); paths with a directory are kept.
std::string resolve_trace_path(const std::string& requested);

class VcdTrace {
 public:
  explicit VcdTrace(const std::string& requested_path);
  ~VcdTrace();
  sc_core::sc_trace_file* file() { return file_; }
  const std::string& path() const { return path_; }
  std::string gtkw_path() const;
  // Closes the VCD, moves it to its final name and writes the .gtkw beside it, opening on
  // [view_from_ps, view_to_ps].
  void close(const LayerEngine& engine, double view_from_ps, double view_to_ps);

 private:
  std::string path_;
  std::string temp_base_;
  sc_core::sc_trace_file* file_ = nullptr;
};

}  // namespace cimsim
