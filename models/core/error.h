// One error type for bad user input (config, .npy, data): the message already names the file,
// the line where known, and what to change. Callers print it once and exit non-zero.
#pragma once

#include <iostream>
#include <stdexcept>
#include <string>

namespace cimsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// The programs' one error exit: returns body()'s exit code; an InputError prints "error: <what>"
// and gives 2, any other exception prints the same and gives 1.
template <typename Body>
int exit_code_of(Body&& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cimsim
