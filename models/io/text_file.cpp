#include "io/text_file.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cimsim {

std::string read_text_file(const std::string& path, const std::string& problem_and_fix) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": " + problem_and_fix);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cimsim
