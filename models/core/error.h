// One error type for bad user input (config, .npy, data): the message already names the file,
// the line where known, and what to change. Callers print it once and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace cimsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace cimsim
