#include "report_handler.h"

#include <spdlog/spdlog.h>

#include <systemc>

namespace cimsim {
namespace {

bool g_strict = false;

void handle(const sc_core::sc_report& report, const sc_core::sc_actions&) {
  const std::string text = std::string(report.get_msg_type()) + ": " + report.get_msg();
  switch (report.get_severity()) {
    case sc_core::SC_INFO:
      spdlog::debug("systemc: {}", text);
      return;
    case sc_core::SC_WARNING:
      if (g_strict) throw SystemCError("SystemC warning " + text);
      spdlog::warn("systemc: {}", text);
      return;
    default:
      throw SystemCError("SystemC error " + text);
  }
}

}  // namespace

void install_report_handler(bool strict) {
  g_strict = strict;
  sc_core::sc_report_handler::set_handler(handle);
}

}  // namespace cimsim
