#include "cli_common.h"

#include <fstream>

#include "core/error.h"
#include "io/npy.h"

namespace cimsim::cli {

std::pair<int64_t, int64_t> parse_trace_window(const std::string& trace, const std::string& text) {
  if (text.empty()) return {0, -1};
  if (trace.empty()) throw InputError("--trace-window needs --trace FILE.vcd");
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

void write_matrix_npy(const std::string& path, const Eigen::MatrixXd& m) {
  std::vector<double> values(std::size_t(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) values[std::size_t(r * m.cols() + c)] = m(r, c);
  npy::write(path, {m.rows(), m.cols()}, values, "<f8");
}

void write_json(const std::string& path, const nlohmann::json& doc) {
  std::ofstream out(path);
  out << doc.dump(2) << "\n";
  out.close();  // the last flush can fail too (disk full)
  if (out.fail()) throw InputError(path + ": cannot write (check the directory is writable and has space)");
}

}  // namespace cimsim::cli
