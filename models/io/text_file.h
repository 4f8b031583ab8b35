// Reading a whole text file (configs, manifests, calibration files, flow records).
#pragma once

#include <string>

namespace cimsim {

// The largest text file read_text_file reads.
inline constexpr unsigned long long kMaxTextFileBytes = 64ull << 20;

// The file's contents; InputError "<path>: <problem_and_fix>" if it cannot be opened, is not a
// regular file (a FIFO, device or directory) or exceeds kMaxTextFileBytes.
std::string read_text_file(const std::string& path, const std::string& problem_and_fix);

}  // namespace cimsim
