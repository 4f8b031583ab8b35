#include "sweep_spec.h"

#include <spdlog/fmt/fmt.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "adc/adc_calibration.h"
#include "child_process.h"
#include "cli_common.h"
#include "config/hw_config.h"
#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"
#include "network_runner.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxPoints = 100000;

std::string line_of(const std::string& file, const YAML::Node& node) {
  return node && node.Mark().line >= 0 ? file + ":" + std::to_string(node.Mark().line + 1) : file;
}

// A path relative to the sweep file's directory.
std::string resolve(const std::string& sweep_file, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p.string() : (fs::path(sweep_file).parent_path() / p).lexically_normal().string();
}

// Every leaf path of the resolved hardware config ("macro.adc_bits", ...).
void leaf_paths(const nlohmann::json& j, const std::string& prefix, std::vector<std::string>& out) {
  if (!j.is_object() || j.empty()) {
    out.push_back(prefix);
    return;
  }
  for (const auto& [k, v] : j.items()) leaf_paths(v, prefix.empty() ? k : prefix + "." + k, out);
}

bool config_has(const nlohmann::json& config, const std::string& path) {
  const nlohmann::json* cur = &config;
  for (std::size_t begin = 0;;) {
    const std::size_t dot = path.find('.', begin);
    const std::string key = path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    if (!cur->is_object() || !cur->contains(key)) return false;
    cur = &(*cur)[key];
    if (dot == std::string::npos) return true;
    begin = dot + 1;
  }
}

// The YAML text of a value as `--set path=value` parses it.
std::string value_text(const YAML::Node& n) {
  if (n.IsScalar() && n.Tag() != "!") return n.Scalar();  // plain: as written
  YAML::Emitter e;
  if (n.IsScalar()) {  // quoted in the file: stays a quoted string
    e << YAML::DoubleQuoted << n.Scalar();
    return e.c_str();
  }
  e << YAML::Flow << n;
  return e.c_str();
}

// {from: A, to: B, step: C}: A, A + C, ... up to B; integers when all three are.
std::vector<std::string> range_values(YamlSection& r) {
  r.declare({"from", "to", "step"});
  auto is_integer = [&r](const std::string& key) {
    int64_t v = 0;
    return !r.has(key) || YAML::convert<int64_t>::decode(r.node()[key], v);
  };
  const bool integers = is_integer("from") && is_integer("to") && is_integer("step");
  const double from = r.real("from", -1e15, 1e15);
  const double to = r.real("to", -1e15, 1e15);
  const double step = r.real_or("step", 1e-12, 1e15, 1.0);
  r.finish();
  if (to < from) r.fail("to", "is below from", "write from <= to");
  const double count = std::floor((to - from) / step + 1e-9) + 1;
  if (count > double(kMaxPoints)) r.fail("step", "gives more than 100000 values", "use a larger step");
  std::vector<std::string> values;
  for (int64_t i = 0; i < int64_t(count); ++i) {
    double v = from + double(i) * step;
    if (std::abs(v) < 1e-9 * step) v = 0;  // -0.3 + 3 x 0.1 is 5.6e-17, not 0
    values.push_back(integers ? std::to_string(int64_t(std::llround(v))) : fmt::format("{:.12g}", v));
  }
  return values;
}

void read_params(YamlSection& top, const std::string& file, const nlohmann::json& base_config, SweepSpec& s) {
  YamlSection vary = top.child("vary", true);
  const std::vector<std::string> paths = [&] {
    std::vector<std::string> out;
    leaf_paths(base_config, "", out);
    return out;
  }();
  for (const auto& kv : vary.node()) {
    const std::string path = kv.first.Scalar();
    const YAML::Node node = vary.raw(path);
    SweepParam p;
    p.path = path;
    p.where = line_of(file, kv.first);
    if (path != kModelParam && !config_has(base_config, path) &&
        !(path.rfind("adc.layers.", 0) == 0 && path.find('.', 11) == std::string::npos)) {
      std::string best;
      std::size_t best_distance = 4;
      for (const std::string& known : paths) {
        const std::size_t d = edit_distance(path, known);
        if (d < best_distance) best_distance = d, best = known;
      }
      throw InputError(line_of(file, kv.first) + ": vary." + path + ": not a key of the hardware config " +
                       s.hw + (best.empty() ? "" : "; did you mean '" + best + "'?") +
                       " (use a dotted path of docs/config.md, or model)");
    }
    if (node.IsMap()) {
      YamlSection r(node, "vary." + path, std::make_shared<ConfigSource>(ConfigSource{file, {}}));
      p.values = range_values(r);
    } else if (node.IsSequence() && node.size() > 0) {
      for (const YAML::Node& v : node) {
        if (v.IsNull()) throw InputError(line_of(file, v) + ": vary." + path + ": empty value in the list");
        if (path == kModelParam && !v.IsScalar())
          throw InputError(line_of(file, v) + ": vary.model: expected a bundle directory");
        p.values.push_back(path == kModelParam ? resolve(file, v.Scalar()) : value_text(v));
      }
    } else {
      throw InputError(line_of(file, kv.first) + ": vary." + path +
                       ": expected a non-empty list of values or a range {from: A, to: B, step: C}");
    }
    s.params.push_back(p);
  }
}

void read_seeds(YamlSection& top, SweepSpec& s) {
  const YAML::Node n = top.raw("seeds");
  if (n.IsNull()) {
    s.seeds = {1};
  } else if (n.IsMap()) {
    YamlSection r = top.child("seeds");
    r.declare({"first", "count"});
    const int first = r.integer_or("first", 0, 1000000000, 1);
    const int count = r.integer("count", 1, 10000);
    r.finish();
    for (int i = 0; i < count; ++i) s.seeds.push_back(uint64_t(first) + uint64_t(i));
  } else if (n.IsSequence() && n.size() > 0) {
    for (const YAML::Node& v : n) {
      uint64_t seed = 0;
      if (!v.IsScalar() || !YAML::convert<uint64_t>::decode(v, seed))
        throw InputError(top.where("seeds") + ": seeds: '" + value_text(v) +
                         "' is not a seed; write integers >= 0");
      if (std::find(s.seeds.begin(), s.seeds.end(), seed) != s.seeds.end())
        throw InputError(top.where("seeds") + ": seeds: " + std::to_string(seed) + " appears twice");
      s.seeds.push_back(seed);
    }
  } else {
    top.fail("seeds", "expected a list of seeds or {first: F, count: N}", "write e.g. seeds: [1, 2, 3]");
  }
}

// The value combinations: the product (first parameter slowest) or the zip of the lists.
std::vector<std::vector<std::string>> combinations(const SweepSpec& s, YamlSection& top) {
  std::vector<std::vector<std::string>> out{{}};
  if (s.combine == "zip" && !s.params.empty()) {
    out.clear();
    for (const SweepParam& p : s.params) {
      if (p.values.size() != s.params[0].values.size())
        top.fail("combine",
                 "zip needs lists of one length, but vary." + p.path + " has " +
                     std::to_string(p.values.size()) + " values and vary." + s.params[0].path + " has " +
                     std::to_string(s.params[0].values.size()),
                 "give every parameter as many values, or use combine: product");
    }
    if (s.params[0].values.size() * s.seeds.size() > kMaxPoints)
      top.fail("vary", "gives more than 100000 points", "split the sweep into several files");
    for (std::size_t i = 0; i < s.params[0].values.size(); ++i) {
      std::vector<std::string> row;
      for (const SweepParam& p : s.params) row.push_back(p.values[i]);
      if (std::find(out.begin(), out.end(), row) != out.end())
        top.fail("vary", "zip gives the combination at position " + std::to_string(i) + " twice",
                 "give each combination once");
      out.push_back(row);
    }
    return out;
  }
  if (s.seeds.size() > kMaxPoints) top.fail("seeds", "gives more than 100000 points", "use fewer seeds");
  for (const SweepParam& p : s.params) {
    for (auto v = p.values.begin(); v != p.values.end(); ++v)
      if (std::find(p.values.begin(), v, *v) != v)
        throw InputError(p.where + ": vary." + p.path + ": '" + *v +
                         "' appears twice; give each value once (seeds repeat points)");
    if (double(out.size()) * double(p.values.size()) * double(s.seeds.size()) > double(kMaxPoints))
      top.fail("vary", "gives more than 100000 points", "split the sweep into several files");
    std::vector<std::vector<std::string>> next;
    for (const auto& row : out)
      for (const std::string& v : p.values) {
        next.push_back(row);
        next.back().push_back(v);
      }
    out = std::move(next);
  }
  return out;
}

void read_calibration(YamlSection& top, SweepSpec& s) {
  if (!top.has("calibration")) return;
  YamlSection c = top.child("calibration");
  c.declare({"method", "percentile", "zero_level", "split", "limit"});
  s.calibration.enabled = true;
  s.calibration.method = c.choice_or("method", calibration_method_names(), "mse");
  s.calibration.percentile = c.real_or("percentile", 50.0, 100.0, 99.99);
  s.calibration.zero_level = c.boolean_or("zero_level", false);
  s.calibration.split = c.choice_or("split", {"test", "train"}, "train");
  s.calibration.limit = c.integer_or("limit", 1, 1 << 30, 1000);
  c.finish();
}

// Every adc.layers.NAME parameter names a CIM layer of the point's bundle.
void check_layer_params(const SweepSpec& s, const ModelBundle& bundle, const std::string& model) {
  for (const SweepParam& param : s.params) {
    if (param.path.rfind("adc.layers.", 0) != 0) continue;
    const std::string layer = param.path.substr(11);
    if (bundle.is_cim_layer(layer)) continue;
    throw InputError(param.where + ": vary." + param.path + ": '" + layer + "' is not a CIM layer of " +
                     model + "; its CIM layers are " + bundle.cim_layer_names());
  }
}

// What a point's result depends on but its seed (docs/sweep.md, "Resuming").
std::string point_key(const SweepSpec& s, const SweepPoint& p, const std::string& hw_text,
                      const std::string& bundle_hash) {
  std::string key = std::string("cimsim-sweep-point-1\n") + kCimsimVersion + "\n" + hw_text + "\n";
  for (const std::string& o : p.overrides) key += o + "\n";
  key += bundle_hash + "\n" + s.data + "\n" + s.split + "\n" + std::to_string(s.limit) + "\n" +
         std::to_string(s.batch) + "\n";
  if (p.calibrate)
    key += s.calibration.method + "\n" +
           (s.calibration.method == "percentile" ? fmt::format("{}", s.calibration.percentile) + "\n" : "") +
           s.calibration.split + "\n" + std::to_string(s.calibration.limit) + "\n" +
           (s.calibration.zero_level ? "zero_level\n" : "");
  return key;
}

// The points of one row of values (one per seed), each config loaded and fitted to its bundle;
// `bundles` caches the bundles by directory with their content hash.
void add_points(SweepSpec& s, const std::vector<std::string>& row, const std::string& hw_text,
                const std::string& vary_where,
                std::map<std::string, std::pair<ModelBundle, std::string>>& bundles) {
  SweepPoint p;
  p.model = s.model;
  std::string described;
  for (std::size_t i = 0; i < s.params.size(); ++i) {
    described += (described.empty() ? "" : ", ") + s.params[i].path + "=" + row[i];
    if (s.params[i].path == kModelParam)
      p.model = row[i];
    else
      p.overrides.push_back(s.params[i].path + "=" + row[i]);
  }
  p.values = row;
  HwConfig hw;
  try {
    hw = load_hw_config(s.hw, p.overrides);
    auto it = bundles.find(p.model);
    if (it == bundles.end()) {
      ModelBundle bundle = load_model_bundle(p.model);  // checks every file before it is hashed
      const std::string hash = bundle_hash(bundle);
      it = bundles.emplace(p.model, std::make_pair(std::move(bundle), hash)).first;
    }
    check_layer_params(s, it->second.first, p.model);  // at the vary line, before the hardware's own check
    check_bundle_fits(hw, it->second.first);
  } catch (const InputError& e) {
    // The line of the parameter whose value the message names, else the vary section's.
    const std::string message = e.what();
    std::string where = vary_where;
    for (std::size_t i = 0; i < s.params.size(); ++i)
      if (message.find("--set " + s.params[i].path + "=") != std::string::npos) where = s.params[i].where;
    throw InputError(where + ": the point " + (described.empty() ? "(no parameters)" : described) +
                     " is not valid: " + message);
  }
  p.calibrate = s.calibration.enabled && !hw.adc.ideal;
  const std::string key = point_key(s, p, hw_text, bundles.at(p.model).second);
  for (uint64_t seed : s.seeds) {
    SweepPoint q = p;
    q.index = int(s.points.size());
    q.seed = seed;
    q.hash = hash_of(key + std::to_string(seed));
    s.points.push_back(q);
  }
}

}  // namespace

SweepSpec load_sweep(const std::string& path) {
  const std::string text = read_text_file(path, "cannot read the sweep file; check the path");
  const YAML::Node root = load_yaml_text(text, path);
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  YamlSection top(root, "", source);
  top.declare(
      {"name", "hw", "model", "data", "split", "limit", "batch", "vary", "combine", "seeds", "calibration"});
  SweepSpec s;
  s.file = path;
  s.name = top.has("name") ? top.text("name") : fs::path(path).stem().string();
  s.hw = resolve(path, top.text("hw"));
  const std::string hw_text = read_text_file(
      s.hw, "cannot read the sweep's hardware config (" + top.where("hw") + "); check the path");
  const HwConfig base = load_hw_config(s.hw);
  const bool model_varies = top.has("vary") && top.node()["vary"].IsMap() && top.node()["vary"][kModelParam];
  s.model = model_varies && !top.has("model") ? std::string() : resolve(path, top.text("model"));
  s.data = top.has("data") ? top.text("data") : "fashion-mnist";
  if (const auto colon = s.data.find(':'); colon != std::string::npos) {  // NAME:DIR, DIR relative to the file
    std::string files = s.data.substr(colon + 1), resolved;  // npy:IMAGES.npy,LABELS.npy: each file
    for (std::size_t from = 0; from <= files.size();) {
      const std::size_t comma = std::min(files.find(',', from), files.size());
      resolved += (from ? "," : "") + resolve(path, files.substr(from, comma - from));
      from = comma + 1;
    }
    s.data = s.data.substr(0, colon + 1) + resolved;
  }
  s.split = top.choice_or("split", {"test", "train"}, "test");
  s.limit = top.integer_or_word("limit", "all", 1, 1 << 30);
  if (s.limit == 0) s.limit = -1;
  s.batch = top.integer_or("batch", 1, 1 << 16, 64);
  s.combine = top.choice_or("combine", {"product", "zip"}, "product");
  read_params(top, path, base.to_json(), s);
  read_seeds(top, s);
  read_calibration(top, s);
  const auto rows = combinations(s, top);
  top.finish();

  // The data (the first image of each split used) before anything runs.
  try {
    load_data(s.data, s.split, 1);
    if (s.calibration.enabled) load_data(s.data, s.calibration.split, 1);
  } catch (const InputError& e) {
    throw InputError(top.where("data") + ": data: " + e.what());
  }
  // Every point's configuration, loaded and fitted to its bundle.
  std::map<std::string, std::pair<ModelBundle, std::string>> bundles;  // dir -> bundle, content hash
  const YAML::Node vary_node = top.node()["vary"];
  const std::string vary_where = line_of(path, vary_node ? vary_node : top.node());
  for (const auto& row : rows) add_points(s, row, hw_text, vary_where, bundles);
  std::map<std::string, int> seen;  // two points with one hash would be one run (bundles of equal content)
  for (const SweepPoint& p : s.points) {
    const auto [it, fresh] = seen.emplace(p.hash, p.index);
    if (!fresh)
      throw InputError(vary_where + ": points " + std::to_string(it->second) + " and " +
                       std::to_string(p.index) + " are the same run (the bundles " +
                       s.points[std::size_t(it->second)].model + " and " + p.model +
                       " hold the same files); give each bundle once");
  }
  std::string all;
  for (const SweepPoint& p : s.points) all += p.hash;
  s.hash = hash_of(all);
  return s;
}

nlohmann::json sweep_json(const SweepSpec& s) {
  nlohmann::json params = nlohmann::json::array();
  for (const SweepParam& p : s.params) params.push_back({{"path", p.path}, {"values", p.values}});
  nlohmann::json points = nlohmann::json::array();
  for (const SweepPoint& p : s.points)
    points.push_back({{"point", p.index},
                      {"values", p.values},
                      {"seed", p.seed},
                      {"model", p.model},
                      {"overrides", p.overrides},
                      {"calibrate", p.calibrate},
                      {"hash", p.hash}});
  nlohmann::json calibration = nullptr;
  if (s.calibration.enabled)
    calibration = {{"method", s.calibration.method},
                   {"percentile", s.calibration.percentile},
                   {"zero_level", s.calibration.zero_level},
                   {"split", s.calibration.split},
                   {"limit", s.calibration.limit}};
  return {{"format", "cimsim-sweep"},
          {"version", 1},
          {"name", s.name},
          {"hash", s.hash},
          {"hw", s.hw},
          {"model", s.model},
          {"data", s.data},
          {"split", s.split},
          {"limit", s.limit},
          {"batch", s.batch},
          {"combine", s.combine},
          {"params", params},
          {"seeds", s.seeds},
          {"calibration", calibration},
          {"points", points}};
}

Shard parse_shard(const std::string& text) {
  Shard s;
  if (text.empty()) return s;
  const auto slash = text.find('/');
  try {
    std::size_t a = 0, b = 0;
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    s.index = std::stoi(text.substr(0, slash), &a);
    s.count = std::stoi(text.substr(slash + 1), &b);
    if (a != slash || b != text.size() - slash - 1 || s.count < 1 || s.index < 1 || s.index > s.count)
      throw std::invalid_argument("range");
  } catch (const std::logic_error&) {
    throw InputError("--shard " + text + ": expected I/N with 1 <= I <= N, e.g. --shard 2/4");
  }
  return s;
}

}  // namespace cimsim::cli
