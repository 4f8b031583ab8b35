#include "cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace cimsim::cli {

std::pair<int64_t, int64_t> parse_cycle_window(const std::string& text) {
  const auto colon = text.find(':');
  auto bad = [&text]() {
    return InputError("--trace-window " + text +
                      ": expected FROM:TO in cycles with 0 <= FROM <= TO, e.g. 0:200");
  };
  if (colon == std::string::npos) throw bad();
  try {
    std::size_t used_from = 0, used_to = 0;
    const std::string from_text = text.substr(0, colon), to_text = text.substr(colon + 1);
    const long long from = std::stoll(from_text, &used_from);
    const long long to = std::stoll(to_text, &used_to);
    if (used_from != from_text.size() || used_to != to_text.size() || from < 0 || to < from) throw bad();
    return {from, to};
  } catch (const std::logic_error&) {
    throw bad();
  }
}

void ensure_parent_directory(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (ec) throw InputError(path + ": cannot create its directory (" + ec.message() + ")");
}

void write_json_atomic(const std::string& path, const nlohmann::json& doc) {
  ensure_parent_directory(path);
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp);
    out << doc.dump(2) << "\n";
    out.close();  // the last flush can fail too (disk full)
    if (out.fail()) {
      std::remove(temp.c_str());
      throw InputError(path + ": cannot write (check the directory exists and is writable)");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw InputError(path + ": cannot move the finished file into place");
  }
}

}  // namespace cimsim::cli
