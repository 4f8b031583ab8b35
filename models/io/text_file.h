// Reading a whole text file (configs, manifests, calibration files, flow records).
#pragma once

#include <string>

namespace cimsim {

// The file's contents; InputError "<path>: <problem_and_fix>" if it cannot be opened.
std::string read_text_file(const std::string& path, const std::string& problem_and_fix);

}  // namespace cimsim
