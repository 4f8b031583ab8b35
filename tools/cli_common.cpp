#include "cli_common.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "data/cifar_reader.h"
#include "data/idx_reader.h"
#include "data/npy_images.h"
#include "io/npy.h"
#include "io/output_files.h"

namespace cimsim::cli {

// "fashion-mnist" (Debian's package), or NAME:DIR with NAME fashion-mnist, mnist, cifar10, cifar100.
namespace {

data::Dataset read_data(const std::string& spec, const std::string& split_name, int64_t limit);

}  // namespace

data::Dataset load_data(const std::string& spec, const std::string& split_name, int64_t limit) {
  data::Dataset d = read_data(spec, split_name, limit);
  if (d.count == 0)
    throw InputError("--data " + spec + ": " + d.name + " holds no images; give a data set with images");
  return d;
}

namespace {

data::Dataset read_data(const std::string& spec, const std::string& split_name, int64_t limit) {
  const data::Split split = split_name == "train" ? data::Split::kTrain : data::Split::kTest;
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const std::string dir = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
  if (name == "fashion-mnist")
    return data::load_fashion_mnist(dir.empty() ? data::kFashionMnistDir : dir, split, limit);
  if (dir.empty()) {
    throw InputError("--data " + spec + ": give the directory as " + name +
                     ":DIR (only fashion-mnist has a default)");
  }
  if (name == "npy") {
    const auto comma = dir.find(',');
    if (comma == std::string::npos)
      throw InputError("--data " + spec + ": give two files, npy:IMAGES.npy,LABELS.npy (--split is not used)");
    return data::load_npy_images(dir.substr(0, comma), dir.substr(comma + 1), limit);
  }
  if (name == "mnist") return data::load_mnist(dir, split, limit);
  if (name == "cifar10") return data::load_cifar10(dir, split, limit);
  if (name == "cifar100") return data::load_cifar100(dir, split, limit);
  throw InputError("--data " + spec + ": unknown data set '" + name +
                   "'; use fashion-mnist, fashion-mnist:DIR, mnist:DIR, cifar10:DIR, cifar100:DIR or "
                   "npy:IMAGES.npy,LABELS.npy");
}

}  // namespace

std::pair<std::vector<int>, bool> parse_trace_adcs(const std::string& trace, const std::string& text,
                                                   const HwConfig& hw) {
  if (text.empty()) return {{0}, false};
  if (trace.empty()) throw InputError("--trace-adcs needs --trace FILE.vcd");
  if (text == "all") return {{}, true};
  const int adcs = hw.macro.adcs();
  auto bad = [&](const std::string& why) {
    return InputError("--trace-adcs " + text + ": " + why + "; give 'all' or ADC indices from 0 to " +
                      std::to_string(adcs - 1) + " separated by commas (" + hw.source + ": " +
                      std::to_string(adcs) + " ADCs per macro), e.g. 0,1");
  };
  std::vector<int> list;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    std::size_t used = 0;
    int adc = -1;
    try {
      adc = std::stoi(item, &used);
    } catch (const std::logic_error&) {
      throw bad("'" + item + "' is not an ADC index");
    }
    if (used != item.size()) throw bad("'" + item + "' is not an ADC index");
    if (adc < 0 || adc >= adcs) throw bad("there is no ADC " + item);
    if (std::find(list.begin(), list.end(), adc) != list.end()) throw bad("ADC " + item + " is listed twice");
    list.push_back(adc);
    begin = end + 1;
  }
  return {list, false};
}

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

void write_json_file(const std::string& path, const nlohmann::json& doc) {
  OutputFiles files;
  write_json(files.stage(path), doc);
  files.commit();
}

}  // namespace cimsim::cli
