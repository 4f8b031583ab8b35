#include "vcd_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "layer_engine.h"

namespace cimsim {
namespace fs = std::filesystem;

std::string resolve_trace_path(const std::string& requested) {
  fs::path p(requested);
  if (!p.has_parent_path()) p = fs::path("traces") / p;
  if (p.extension() != ".vcd") p += ".vcd";
  return p.string();
}

VcdTrace::VcdTrace(const std::string& requested_path, OutputFiles& outputs)
    : path_(resolve_trace_path(requested_path)) {
  const std::string vcd_temp = outputs.stage(path_);
  vcd_temp_base_ = vcd_temp.substr(0, vcd_temp.size() - 4);
  gtkw_temp_ = outputs.stage(gtkw_path());
  file_ = sc_core::sc_create_vcd_trace_file(vcd_temp_base_.c_str());
  if (!file_) throw InputError(path_ + ": cannot create the VCD file");
  file_->set_time_unit(1, sc_core::SC_PS);
}

VcdTrace::~VcdTrace() {
  if (file_) sc_core::sc_close_vcd_trace_file(file_);
}

std::string VcdTrace::gtkw_path() const { return fs::path(path_).replace_extension(".gtkw").string(); }

void VcdTrace::close(const std::vector<const LayerEngine*>& engines, const TraceWindow& window) {
  const double period_ps = window.period.to_seconds() * 1e12;
  const double end_ps = sc_core::sc_time_stamp().to_seconds() * 1e12;
  const double view_from_ps = std::min(double(window.from_cycle) * period_ps, end_ps);
  const double view_to_ps =
      window.open_ended ? end_ps : std::min(end_ps, double(window.to_cycle) * period_ps);
  sc_core::sc_close_vcd_trace_file(file_);
  file_ = nullptr;

  std::ofstream g(gtkw_temp_);
  g << "[*] GTKWave save file written by cimsim: one group per macro\n";
  g << "[dumpfile] \"" << fs::absolute(path_).string() << "\"\n";
  // Open on the traced window: GTKWave 3.3 at zoom z shows about 0.005 * 2^-z time units per
  // pixel (measured on its default window); fit the window into ~600 pixels.
  const double span = std::max(1.0, view_to_ps - view_from_ps) / (600.0 * 0.005);
  g << "[timestart] " << std::llround(view_from_ps) << "\n";
  g << "*" << std::fixed << -std::log2(span)
    << " -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n";
  g << "[sst_expanded] 1\n";
  g << "[signals_width] 260\n";
  for (const LayerEngine* engine : engines) {
    const auto& mapping = engine->mapping();
    const std::size_t cols = mapping.col_tiles.size();
    for (int m = 0; m < mapping.macros(); ++m) {
      const std::string macro =
          "macro_r" + std::to_string(std::size_t(m) / cols) + "_c" + std::to_string(std::size_t(m) % cols);
      const std::string scope = "SystemC." + std::string(engine->name()) + "." + macro + ".";
      const std::string label = engines.size() > 1 ? std::string(engine->basename()) + " " + macro : macro;
      g << "@800200\n-" << label << "\n";
      g << "@24\n" << scope << "row_group[31:0]\n" << scope << "phase[31:0]\n";
      g << "@28\n" << scope << "adc_busy\n";
      g << "@24\n" << scope << "adc0_bitline[31:0]\n" << scope << "adc0_code[31:0]\n";
      g << "@1000200\n-" << label << "\n";
    }
  }
  g.close();
  if (g.fail()) throw InputError(gtkw_path() + ": cannot write the GTKWave save file");
}

}  // namespace cimsim
