// One error type for bad user input (config, .npy, data): the message already names the file,
// the line where known, and what to change. Callers print it once and exit non-zero.
#pragma once

#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

namespace cimsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// A file system error (an output directory that cannot be created, a read-only file system) as one
// message naming its path and the fix.
inline std::string filesystem_error_message(const std::filesystem::filesystem_error& e) {
  return e.path1().string() + ": " + e.code().message() +
         "; check the path, and that its file system is writable and has space (" + e.what() + ")";
}

// The programs' one error exit: returns body()'s exit code; an InputError prints "error: <what>"
// and gives 2; a file system error (an output directory that cannot be created, a read-only file
// system) names its path and gives 2 too; any other exception prints "error: <what>" and gives 1.
template <typename Body>
int exit_code_of(Body&& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "error: " << filesystem_error_message(e) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cimsim
