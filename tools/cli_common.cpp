#include "cli_common.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
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

void warn_if_misconfigured(const LayerReport& layer, const HwConfig& hw) {
  const auto& adc = layer.stats.adc;
  const double clipped = adc.conversions ? double(adc.clipped_low + adc.clipped_high) / double(adc.conversions) : 0;
  if (clipped > 0.05)
    spdlog::warn("layer {}: {:.1f}% of its ADC conversions clip (interval [{}, {}]): the interval does not fit "
                 "this model on this hardware (a bundle's learned intervals on other hardware?); run cimsim "
                 "calibrate and pass --calib",
                 layer.name, 100.0 * clipped, layer.interval.lo, layer.interval.hi);
  const int64_t updates = layer.stats.events.shift_add_ops;
  const double saturated = updates ? double(layer.stats.saturations) / double(updates) : 0;
  if (saturated > 0.001)
    spdlog::warn("layer {}: {:.2f}% of its accumulator updates saturate ({} of {}) at macro.accumulator_bits {}: "
                 "the accumulator is too narrow for this layer; raise macro.accumulator_bits (or set it to none)",
                 layer.name, 100.0 * saturated, layer.stats.saturations, updates, hw.macro.accumulator_bits);
}

void warn_if_network_only_keys(const HwConfig& hw) {
  if (!hw.chip.duplicate.empty() || hw.chip.duplicate_auto || hw.chip.dataflow == Dataflow::kPipelined)
    spdlog::warn(
        "{}: chip.duplicate and chip.dataflow apply to networks (cimsim run); cimsim mvm runs its one "
        "layer on one copy, MVMs back to back",
        hw.source);
  if (hw.buffer.bytes_per_cycle > 0 || hw.buffer.pj_per_byte > 0)
    spdlog::warn("{}: buffer.* applies to networks (cimsim run: activations between layers); cimsim mvm has "
                 "no activation buffer and ignores it",
                 hw.source);
}

void warn_if_implausible_device(const HwConfig& hw) {
  const DeviceConfig& d = hw.device;
  const auto warn = [&](const char* key, double value, double limit, const char* typical) {
    if (value > limit)
      spdlog::warn("{}: device.{} {} is beyond measured devices ({}); check the unit and the value", hw.source, key,
                   value, typical);
  };
  warn("program_sigma", d.program_sigma, 0.2, "a few percent of g_max: 0.05 is 5%");
  warn("program_lognormal_sigma", d.program_lognormal_sigma, 0.5, "a std of ln G of about 0.05 to 0.2");
  warn("drift_nu", d.drift_nu, 0.2, "phase-change memory drifts with nu of about 0.005 to 0.1");
  warn("wire_resistance", d.wire_resistance, 0.01,
       "a bit-line segment of a few ohms against a cell level of 10 kOhm to 1 MOhm: 1e-6 to 1e-3");
}

CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::logic_error&) {
          return "'" + text + "' is not a number";
        }
        if (used != text.size() || !std::isfinite(v) || v < lo || v > hi)
          return "'" + text + "' is not a finite number in [" + fmt::format("{}, {}", lo, hi) + "]";
        return "";
      },
      fmt::format("FLOAT in [{} - {}]", lo, hi));
}

void write_matrix_npy(const std::string& path, const Eigen::MatrixXd& m) {
  std::vector<double> values(std::size_t(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) values[std::size_t(r * m.cols() + c)] = m(r, c);
  npy::write(path, {m.rows(), m.cols()}, values, "<f8");
}

void write_json(const std::string& path, const nlohmann::json& doc) {
  std::ofstream out(path);
  // File names are bytes: one that is not UTF-8 is written with U+FFFD in its place.
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  out.close();  // the last flush can fail too (disk full)
  if (out.fail())
    throw InputError(output_name(path) + ": cannot write it (check the directory is writable and has space)");
}

void write_json_file(const std::string& path, const nlohmann::json& doc) {
  OutputFiles files;
  write_json(files.stage(path), doc);
  files.commit();
}

}  // namespace cimsim::cli
