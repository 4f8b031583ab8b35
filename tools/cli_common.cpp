#include "cli_common.h"

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

void write_json(const std::string& path, const nlohmann::json& doc) {
  std::ofstream out(path);
  out << doc.dump(2) << "\n";
  out.close();  // the last flush can fail too (disk full)
  if (out.fail()) throw InputError(path + ": cannot write (check the directory is writable and has space)");
}

}  // namespace cimsim::cli
