// Where modules register their traced signals: each goes into the VCD file under its full name
// and into a list, grouped as the modules register them, from which the GTKWave save file is
// written, so the save file names exactly the signals the VCD holds.
#pragma once

#include <string>
#include <systemc>
#include <type_traits>
#include <vector>

namespace cimsim {

class TraceSink {
 public:
  enum class Kind { kBit, kInteger, kReal };
  struct Entry {
    std::string group;  // GTKWave group label
    std::string name;   // hierarchical name, as in the VCD below the "SystemC" scope
    Kind kind;
  };

  explicit TraceSink(sc_core::sc_trace_file* file) : file_(file) {}
  // Signals added from now on are shown under `label` in GTKWave.
  void begin_group(const std::string& label) { group_ = label; }
  template <typename T>
  void add(const sc_core::sc_signal<T>& signal, const std::string& name) {
    sc_core::sc_trace(file_, signal, name);
    const Kind kind = std::is_same_v<T, bool>       ? Kind::kBit
                      : std::is_floating_point_v<T> ? Kind::kReal
                                                    : Kind::kInteger;
    entries_.push_back(Entry{group_, name, kind});
  }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  sc_core::sc_trace_file* file_;
  std::string group_;
  std::vector<Entry> entries_;
};

}  // namespace cimsim
