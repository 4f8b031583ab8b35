#include "py_logging.h"

#include <pybind11/pybind11.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace cimsim::python {
namespace {

namespace py = pybind11;

// Python logging levels of spdlog's.
int python_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 10;
    case spdlog::level::info:
      return 20;
    case spdlog::level::warn:
      return 30;
    case spdlog::level::err:
      return 40;
    default:
      return 50;
  }
}

py::object& python_logger() {
  // Never destroyed: Python may be finalising when the last C++ static goes.
  static py::object* logger = new py::object(py::module_::import("logging").attr("getLogger")("cimsim"));
  return *logger;
}

// No mutex of its own: every line takes the GIL, which serialises them (a sink mutex held while
// waiting for the GIL could deadlock against a thread holding the GIL and logging).
class PythonSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string text(msg.payload.data(), msg.payload.size());
    py::gil_scoped_acquire gil;
    python_logger().attr("log")(python_level(msg.level), text);
  }
  void flush_() override {}
};

}  // namespace

void route_logs_to_python() {
  python_logger();
  auto logger = std::make_shared<spdlog::logger>("cimsim", std::make_shared<PythonSink>());
  spdlog::set_default_logger(logger);
  follow_python_log_level();
}

void follow_python_log_level() {
  const int level = python_logger().attr("getEffectiveLevel")().cast<int>();
  spdlog::set_level(level <= 10   ? spdlog::level::debug
                    : level <= 20 ? spdlog::level::info
                    : level <= 30 ? spdlog::level::warn
                    : level <= 40 ? spdlog::level::err
                                  : spdlog::level::critical);
}

}  // namespace cimsim::python
