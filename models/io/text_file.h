// Reading a whole text file (configs, manifests, calibration files, flow records).
#pragma once

#include <string>

namespace cimsim {

// The largest text file read_text_file reads.
inline constexpr unsigned long long kMaxTextFileBytes = 64ull << 20;

// The file's contents; InputError "<path>: <problem_and_fix>" if it cannot be opened, is not a
// regular file (a FIFO, device or directory), exceeds kMaxTextFileBytes, holds a NUL byte or is not
// valid UTF-8 ("<path>:<line>: ..."). A UTF-8 byte-order mark is kept (YAML and JSON readers skip it).
std::string read_text_file(const std::string& path, const std::string& problem_and_fix);

}  // namespace cimsim
