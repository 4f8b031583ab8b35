#include "io/text_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cimsim {

std::string read_text_file(const std::string& path, const std::string& problem_and_fix) {
  // Text inputs (configs, manifests, experiments, calibrations) are regular files of bounded size:
  // a FIFO would block, /dev/zero would be read until memory runs out.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw InputError(path + ": not a regular file (a directory, device or FIFO); " + problem_and_fix);
  if (!ec && std::filesystem::is_regular_file(status) && std::filesystem::file_size(path, ec) > kMaxTextFileBytes)
    throw InputError(path + ": larger than 64 MiB, too large for a configuration file; " + problem_and_fix);
  std::ifstream in(path);
  if (!in) throw InputError(path + ": " + problem_and_fix);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cimsim
