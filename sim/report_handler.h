// Routes SystemC reports: info to the debug log; warnings and errors become exceptions when
// `strict` (tests, where any SystemC warning is a failure), else warnings are logged and errors thrown.
#pragma once

#include <stdexcept>
#include <string>

namespace cimsim {

class SystemCError : public std::runtime_error {
 public:
  explicit SystemCError(const std::string& what) : std::runtime_error(what) {}
};

void install_report_handler(bool strict);

}  // namespace cimsim
