#include "io/text_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cimsim {
namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 if it is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) n = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) n = 3, lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
  else if (lead >= 0xF0 && lead <= 0xF4) n = 4, lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

// Text inputs are UTF-8 without NUL bytes (a NUL means a binary file; non-UTF-8 bytes could not
// be written back into the JSON outputs).
void check_text(const std::string& text, const std::string& path) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0')
      throw InputError(path + ":" + std::to_string(line) +
                       ": holds a NUL byte, so it is not a text file; give the YAML or JSON file itself");
    const std::size_t n = utf8_length(text, i);
    if (n == 0)
      throw InputError(path + ":" + std::to_string(line) +
                       ": holds a byte sequence that is not UTF-8; save the file as UTF-8");
    if (text[i] == '\n') ++line;
    i += n;
  }
}

}  // namespace

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
  std::string contents = text.str();
  check_text(contents, path);
  return contents;
}

}  // namespace cimsim
