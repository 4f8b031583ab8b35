#include "vcd_trace.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/process.h"

namespace cimsim {
namespace fs = std::filesystem;
namespace {

// Runs vcd2fst VCD FST (its output discarded); InputError naming `shown` (the requested path)
// when it fails.
void convert_to_fst(const std::string& vcd, const std::string& fst, const std::string& shown) {
  const std::string program = find_on_path("vcd2fst");
  const int status = wait_status(spawn_process(program, {vcd, fst}, "/dev/null", {}, program));
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(fst))
    throw InputError(shown + ": vcd2fst could not convert the trace; write a .vcd instead");
}

}  // namespace

std::string resolve_trace_path(const std::string& requested) {
  fs::path p(requested);
  if (!p.has_parent_path()) p = fs::path("traces") / p;
  if (p.extension() != ".vcd" && p.extension() != ".fst") p += ".vcd";
  return p.string();
}

VcdTrace::VcdTrace(const std::string& requested_path, OutputFiles& outputs, const TraceWindow& window)
    : path_(resolve_trace_path(requested_path)),
      window_(window),
      fst_(fs::path(path_).extension() == ".fst") {
  if (fst_ && find_on_path("vcd2fst").empty()) {
    throw InputError(
        "--trace " + path_ +
        ": an .fst trace needs GTKWave's vcd2fst (apt-get install gtkwave); or name a .vcd file");
  }
  std::string vcd_temp;
  if (fst_) {
    fst_temp_ = outputs.stage(path_);
    vcd_temp = fst_temp_ + ".vcd";  // removed after the conversion
  } else {
    vcd_temp = outputs.stage(path_);
  }
  vcd_temp_base_ = vcd_temp.substr(0, vcd_temp.size() - 4);
  gtkw_temp_ = outputs.stage(gtkw_path());
  {
    // SystemC's VCD file does not report a file it cannot open (its destructor then divides by
    // zero): try the path first.
    std::ofstream probe(vcd_temp_base_ + ".vcd");
    if (!probe)
      throw InputError("--trace " + path_ + ": cannot create the trace file in " +
                       fs::path(vcd_temp_base_).parent_path().string() +
                       " (not writable?); give a writable path");
  }
  file_ = sc_core::sc_create_vcd_trace_file(vcd_temp_base_.c_str());
  if (!file_) throw InputError(path_ + ": cannot create the VCD file");
  file_->set_time_unit(1, sc_core::SC_PS);
  sink_ = std::make_unique<TraceSink>(file_);
  clock_ = std::make_unique<TraceClock>("clock", window);
  clock_->trace(*sink_);
}

VcdTrace::~VcdTrace() {
  if (file_) sc_core::sc_close_vcd_trace_file(file_);
  if (fst_) std::remove((vcd_temp_base_ + ".vcd").c_str());
}

std::string VcdTrace::gtkw_path() const { return fs::path(path_).replace_extension(".gtkw").string(); }

void VcdTrace::close() {
  const double period_ps = window_.period.to_seconds() * 1e12;
  const double end_ps = sc_core::sc_time_stamp().to_seconds() * 1e12;
  const int64_t end_cycle = window_.cycle_of(sc_core::sc_time_stamp());
  sc_core::sc_close_vcd_trace_file(file_);
  file_ = nullptr;
  if (window_.from_cycle >= end_cycle) {
    throw InputError("--trace-window " + std::to_string(window_.from_cycle) + ":" +
                     (window_.open_ended ? std::string() : std::to_string(window_.to_cycle)) +
                     ": the run ends at cycle " + std::to_string(end_cycle) +
                     ", before the window opens; choose FROM below " + std::to_string(end_cycle));
  }
  if (fst_) {
    convert_to_fst(vcd_temp_base_ + ".vcd", fst_temp_, path_);
    std::remove((vcd_temp_base_ + ".vcd").c_str());
  }
  const double view_from_ps = std::min(double(window_.from_cycle) * period_ps, end_ps);
  const double view_to_ps =
      window_.open_ended ? end_ps : std::min(end_ps, double(window_.to_cycle) * period_ps);
  write_gtkw(view_from_ps, view_to_ps);
}

void VcdTrace::write_gtkw(double from_ps, double to_ps) const {
  std::ofstream g(gtkw_temp_);
  g << "[*] GTKWave save file written by cimsim: the clock, then a group per layer and per macro\n";
  g << "[dumpfile] \"" << fs::absolute(path_).string() << "\"\n";
  // Open on the traced window: GTKWave 3.3 at zoom z shows about 0.005 * 2^-z time units per
  // pixel (measured on its default window); fit the window into ~600 pixels.
  const double span = std::max(1.0, to_ps - from_ps) / (600.0 * 0.005);
  g << "[timestart] " << std::llround(from_ps) << "\n";
  g << "*" << std::fixed << -std::log2(span)
    << " -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n";
  g << "[sst_expanded] 1\n";
  g << "[signals_width] 300\n";
  // GTKWave trace flags: 0x28 binary, 0x424 signed decimal, 0x800200 / 0x1000200 group begin / end.
  std::string group;
  for (const TraceSink::Entry& e : sink_->entries()) {
    if (e.group != group) {
      if (!group.empty()) g << "@1000200\n-" << group << "\n";
      group = e.group;
      g << "@800200\n-" << group << "\n";
    }
    switch (e.kind) {
      case TraceSink::Kind::kBit:
        g << "@28\nSystemC." << e.name << "\n";
        break;
      case TraceSink::Kind::kInteger:
        g << "@424\nSystemC." << e.name << "[31:0]\n";
        break;
      case TraceSink::Kind::kReal:
        g << "@24\nSystemC." << e.name << "\n";
        break;
    }
  }
  if (!group.empty()) g << "@1000200\n-" << group << "\n";
  g.close();
  if (g.fail()) throw InputError(gtkw_path() + ": cannot write the GTKWave save file");
}

}  // namespace cimsim
