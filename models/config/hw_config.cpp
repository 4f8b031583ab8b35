#include "config/hw_config.h"

#include <yaml-cpp/yaml.h>

#include <memory>
#include <vector>

#include "config/hw_config_fields.h"
#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"

namespace cimsim {
namespace {

// Points map[key] at `value` without writing through the node it held (which an alias may share).
void rebind(YAML::Node& map, const std::string& key, const YAML::Node& value) {
  map.remove(key);
  map[key] = value;
}

// How often `node` occurs in the tree: more than once when YAML aliases (*name) share it. Each
// shared node is descended once, so a recursive alias terminates.
int occurrences(const YAML::Node& root, const YAML::Node& node) {
  int count = 0;
  std::vector<YAML::Node> seen;
  std::vector<YAML::Node> todo{root};
  while (!todo.empty()) {
    const YAML::Node n = todo.back();
    todo.pop_back();
    if (n.is(node)) ++count;
    if (!n.IsMap() && !n.IsSequence()) continue;
    bool visited = false;
    for (const YAML::Node& s : seen) visited = visited || s.is(n);
    if (visited) continue;
    seen.push_back(n);
    if (n.IsMap()) {
      for (const auto& kv : n) todo.push_back(kv.second);
    } else {
      for (const auto& item : n) todo.push_back(item);
    }
  }
  return count;
}

// Applies "a.b.c=value" to the tree, creating mappings on the way; records the origin.
void apply_override(YAML::Node& root, const std::string& text, ConfigSource& source) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set " + text + ": expected key=value with a dotted key, e.g. macro.adc_bits=6");
  }
  const std::string path = text.substr(0, eq);
  const std::string value_text = text.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception& e) {
    throw InputError("--set " + text + ": the value is not valid YAML (" + e.msg + ")");
  }
  if (value_text.empty()) throw InputError("--set " + text + ": empty value; write key=value");
  std::vector<std::string> keys;
  for (std::size_t begin = 0;;) {
    const std::size_t dot = path.find('.', begin);
    keys.push_back(path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin));
    if (keys.back().empty()) throw InputError("--set " + text + ": empty key in '" + path + "'");
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  YAML::Node cur;
  cur.reset(root);
  std::string walked;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + keys[i];
    if (!cur[keys[i]]) cur[keys[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node next = cur[keys[i]];
    if (!next.IsMap()) {
      throw InputError("--set " + text + ": '" + walked + "' holds a value, not a mapping; set '" + walked +
                       "' itself");
    }
    if (occurrences(root, next) > 1) {
      throw InputError("--set " + text + ": '" + walked + "' is a YAML alias (*name) shared with another key" +
                       " of " + source.file + ", and changing it would change both; override '" + walked +
                       "' as a whole mapping (--set " + walked + "={...}), or write it out in the file");
    }
    cur.reset(next);
  }
  rebind(cur, keys.back(), value);
  source.overrides[path] = "--set " + text;
}

HwConfig parse_tree(YAML::Node root, std::shared_ptr<ConfigSource> source,
                    const std::vector<std::string>& overrides) {
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    throw InputError(source->file + ": the hardware config must be a YAML mapping (key: value)");
  for (const auto& o : overrides) apply_override(root, o, *source);
  HwConfig hw;
  hw.source = source->file;
  YamlSection top(root, "", source);
  read_hw_fields(top, hw);
  return hw;
}

}  // namespace

AdcInterval read_adc_interval(YamlSection& section, const std::string& key) {
  AdcInterval iv;
  const YAML::Node n = section.raw(key);
  if (n.IsScalar() && n.Scalar() == "full") return iv;
  if (!n.IsMap())
    section.fail(key, "expected 'full' or a mapping {lo: L, hi: H}", "write full or {lo: -8, hi: 8}");
  YamlSection bounds = section.child(key);  // rejects duplicate and unknown keys
  bounds.declare({"lo", "hi"});
  iv.full = false;
  iv.lo = bounds.real("lo", -1e15, 1e15);
  iv.hi = bounds.real("hi", -1e15, 1e15);
  if (!(iv.lo < iv.hi)) bounds.fail("hi", "must be above lo", "swap or widen the bounds (MAC units)");
  bounds.finish();
  return iv;
}

HwConfig parse_hw_config(const std::string& yaml_text, const std::string& source_name,
                         const std::vector<std::string>& overrides) {
  auto source = std::make_shared<ConfigSource>();
  source->file = source_name;
  return parse_tree(load_yaml_text(yaml_text, source_name), source, overrides);
}

HwConfig load_hw_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_hw_config(
      read_text_file(path, "cannot open the hardware config; check the path (presets are in configs/hw/)"),
      path, overrides);
}

AdcInterval HwConfig::full_interval() const {
  AdcInterval iv;
  iv.full = true;
  iv.hi = macro.max_partial_sum();
  iv.lo = macro.subtraction == Subtraction::kAnalog ? -iv.hi : 0.0;
  return iv;
}

AdcInterval HwConfig::interval_for(const std::string& layer) const {
  auto it = adc.layers.find(layer);
  const AdcInterval& chosen = it != adc.layers.end() ? it->second : adc.interval;
  return chosen.full ? full_interval() : chosen;
}

nlohmann::json HwConfig::to_json() const { return hw_config_json(*this); }

void to_json(nlohmann::json& j, const HwConfig& hw) { j = hw.to_json(); }

void from_json(const nlohmann::json& j, HwConfig& hw) {
  if (!j.is_object()) throw InputError("expected the resolved config (a JSON object)");
  hw = parse_hw_config(j.dump(1), "the resolved config");
}

}  // namespace cimsim
