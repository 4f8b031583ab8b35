#include "config/yaml_section.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>
#include <yaml-cpp/eventhandler.h>

#include "core/error.h"

namespace cimsim {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool plain_decimal(const std::string& text, bool sign) {
  const std::size_t digits_from = (sign && !text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  bool decimal = text.size() > digits_from && text.size() - digits_from <= 9;
  for (std::size_t i = digits_from; decimal && i < text.size(); ++i)
    decimal = text[i] >= '0' && text[i] <= '9';
  return decimal && !(text.size() - digits_from > 1 && text[digits_from] == '0');
}

std::string ConfigSource::locate(const std::string& path, const YAML::Node& node) const {
  // An override of this path or of a parent mapping wins over the file position.
  for (std::string p = path;; p = p.substr(0, p.rfind('.'))) {
    auto it = overrides.find(p);
    if (it != overrides.end()) return it->second;
    if (p.find('.') == std::string::npos) break;
  }
  if (node && node.Mark().line >= 0) return file + ":" + std::to_string(node.Mark().line + 1);
  // A key that is not in the file but an override created (`--set foo.bar=1` makes `foo`).
  const std::string below = path + ".";
  auto created = overrides.lower_bound(below);
  if (created != overrides.end() && created->first.compare(0, below.size(), below) == 0) return created->second;
  return file;
}

YamlSection::YamlSection(YAML::Node node, std::string path, std::shared_ptr<const ConfigSource> source,
                         YAML::Node header)
    : node_(std::move(node)), header_(std::move(header)), path_(std::move(path)), source_(std::move(source)) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    throw InputError(source_->locate(path_, node_) + ": " + (path_.empty() ? "the document" : path_) +
                     ": expected a mapping of keys to values");
  }
  if (!node_ || !node_.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      throw InputError(source_->locate(key_path(key), kv.first) + ": " + key_path(key) +
                       ": duplicate key; keep only one '" + key + ":'");
    }
  }
}

void YamlSection::declare(std::initializer_list<const char*> keys) {
  for (const char* k : keys) declared_.insert(k);
}

void YamlSection::declare(const std::vector<std::string>& keys) {
  declared_.insert(keys.begin(), keys.end());
}

bool YamlSection::has(const std::string& key) const { return node_ && node_.IsMap() && node_[key]; }

std::string YamlSection::where(const std::string& key) const {
  if (has(key)) return source_->locate(key_path(key), node_[key]);
  // A missing key: point at the line of the section's own key (or the mapping's first line).
  return source_->locate(key_path(key), header_.IsNull() ? node_ : header_);
}

void YamlSection::fail(const std::string& key, const std::string& problem, const std::string& fix) const {
  throw InputError(where(key) + ": " + key_path(key) + ": " + problem + "; " + fix);
}

YAML::Node YamlSection::value(const std::string& key) {
  read_.insert(key);
  if (!has(key) && node_ && node_.IsMap()) {
    // A required key is missing: a near-miss spelling of it is the likelier mistake to report.
    for (const auto& kv : node_) {
      const std::string other = kv.first.Scalar();
      if (other != key && !declared_.count(other) && !read_.count(other) && edit_distance(other, key) <= 2) {
        throw InputError(source_->locate(key_path(other), kv.first) + ": " + key_path(other) +
                         ": unknown key; did you mean '" + key + "'?");
      }
    }
  }
  if (!has(key)) {
    fail(key, "missing required key",
         path_.empty() ? "add '" + key + ":' at the top level" : "add '" + key + ":' under '" + path_ + ":'");
  }
  return node_[key];
}

YAML::Node YamlSection::raw(const std::string& key) {
  read_.insert(key);
  return has(key) ? node_[key] : YAML::Node();
}

namespace {
// A number or boolean must be written plainly: yaml-cpp tags plain scalars "?" and quoted ones "!".
bool plain_scalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

std::string scalar_text(const YAML::Node& n) {
  if (n.IsNull()) return "(empty)";
  if (n.IsScalar() && n.Tag() == "!") return "\"" + n.Scalar() + "\" (quoted text)";
  return n.IsScalar() ? n.Scalar() : std::string("a list or mapping");
}

template <typename T>
std::string range_text(T lo, T hi) {
  std::ostringstream s;
  s << lo << ".." << hi;
  return s.str();
}
}  // namespace

int YamlSection::integer(const std::string& key, int lo, int hi) {
  const YAML::Node n = value(key);
  const std::string text = plain_scalar(n) ? n.Scalar() : std::string();
  if (!plain_decimal(text, true)) {
    fail(key, "'" + scalar_text(n) + "' is not an integer",
         "write an integer in " + range_text(lo, hi) + " (plain decimal digits)");
  }
  const long long v = std::stoll(text);
  if (v < lo || v > hi) {
    fail(key, std::to_string(v) + " is out of range", "use an integer in " + range_text(lo, hi));
  }
  return static_cast<int>(v);
}

double YamlSection::real(const std::string& key, double lo, double hi) {
  const YAML::Node n = value(key);
  double v = 0;
  if (!plain_scalar(n) || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
    fail(key, "'" + scalar_text(n) + "' is not a finite number", "write a number in " + range_text(lo, hi));
  }
  if (v < lo || v > hi) {
    std::ostringstream s;
    s << v << " is out of range";
    fail(key, s.str(), "use a number in " + range_text(lo, hi));
  }
  return v;
}

int YamlSection::integer_or(const std::string& key, int lo, int hi, int fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  return integer(key, lo, hi);
}

double YamlSection::real_or(const std::string& key, double lo, double hi, double fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  return real(key, lo, hi);
}

int YamlSection::integer_or_word(const std::string& key, const std::string& word, int lo, int hi) {
  const YAML::Node n = raw(key);
  if (!has(key) || (n.IsScalar() && n.Scalar() == word)) return 0;
  return integer(key, lo, hi);
}

bool YamlSection::boolean_or(const std::string& key, bool fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  const YAML::Node n = value(key);
  bool v = false;
  if (!plain_scalar(n) || !YAML::convert<bool>::decode(n, v)) {
    fail(key, "'" + scalar_text(n) + "' is not a boolean", "write true or false");
  }
  return v;
}

std::string YamlSection::text(const std::string& key) {
  const YAML::Node n = value(key);
  if (!n.IsScalar() || n.Scalar().empty())
    fail(key, "expected a single non-empty value", "write a plain string");
  return n.Scalar();
}

std::string YamlSection::choice(const std::string& key, const std::vector<std::string>& choices) {
  const std::string v = text(key);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : " or ") + c;
    fail(key, "'" + v + "' is not a known value", "use " + list);
  }
  return v;
}

std::string YamlSection::choice_or(const std::string& key, const std::vector<std::string>& choices,
                                   const std::string& fallback) {
  if (!has(key)) {
    read_.insert(key);
    return fallback;
  }
  return choice(key, choices);
}

std::vector<double> YamlSection::real_list_or(const std::string& key) {
  std::vector<double> out;
  if (!has(key)) {
    read_.insert(key);
    return out;
  }
  const YAML::Node n = value(key);
  if (!n.IsSequence()) fail(key, "expected a list of numbers", "write [a, b, ...] or []");
  for (std::size_t i = 0; i < n.size(); ++i) {
    double v = 0;
    if (!n[i].IsScalar() || !YAML::convert<double>::decode(n[i], v) || !std::isfinite(v)) {
      fail(key, "entry " + std::to_string(i) + " ('" + scalar_text(n[i]) + "') is not a finite number",
           "write only numbers in the list");
    }
    out.push_back(v);
  }
  return out;
}

YamlSection YamlSection::child(const std::string& key, bool optional) {
  if (optional && !has(key)) {
    read_.insert(key);
    return YamlSection(YAML::Node(YAML::NodeType::Map), key_path(key), source_);
  }
  YAML::Node n = value(key);
  if (!n.IsMap())
    fail(key, "expected a mapping of keys to values", "indent the keys of '" + key + "' under it");
  YAML::Node header;
  for (const auto& kv : node_) {
    if (kv.first.Scalar() == key) header = kv.first;
  }
  return YamlSection(n, key_path(key), source_, header);
}

void YamlSection::finish() const {
  if (!node_ || !node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (read_.count(key) || declared_.count(key)) continue;
    std::set<std::string> known_keys = read_;
    known_keys.insert(declared_.begin(), declared_.end());
    std::string best;
    std::size_t best_distance = 4;
    for (const auto& known : known_keys) {
      const std::size_t d = edit_distance(key, known);
      if (d < best_distance) {
        best_distance = d;
        best = known;
      }
    }
    std::string known_list;
    for (const auto& k : known_keys) known_list += (known_list.empty() ? "" : ", ") + k;
    const std::string where_text = source_->locate(key_path(key), kv.first);
    throw InputError(where_text + ": " + key_path(key) + ": unknown key; " +
                     (best.empty() ? "" : "did you mean '" + best + "'? ") +
                     "known keys here: " + known_list);
  }
}

namespace {

// Where each of the first two documents of a YAML text starts (its first node), by parsing events.
// YAML::LoadAll is not used: yaml-cpp 0.7 loops forever on a text starting with a stray ',' (each
// document it reads is an empty one at the same place; found by tests/fuzz).
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> starts;
  bool in_document = false;
  void node(const YAML::Mark& mark) {
    if (in_document) starts.push_back(mark);
    in_document = false;
  }
  void OnDocumentStart(const YAML::Mark&) override { in_document = true; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}
};

}  // namespace

YAML::Node load_yaml_text(const std::string& yaml_text, const std::string& source_name) {
  try {
    std::istringstream in(yaml_text);
    YAML::Parser parser(in);
    DocumentStarts docs;
    for (int i = 0; i < 2 && parser.HandleNextDocument(docs); ++i) {
    }
    if (docs.starts.size() > 1 && docs.starts[1].pos == docs.starts[0].pos) {
      const YAML::Mark& m = docs.starts[0];
      const std::string what = m.pos >= 0 && static_cast<size_t>(m.pos) < yaml_text.size()
                                   ? std::string("'") + yaml_text[static_cast<size_t>(m.pos)] + "'"
                                   : std::string("text");
      throw InputError(source_name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                       ": YAML syntax error: unexpected " + what + " where a value was expected" +
                       "; fix the syntax at that position");
    }
    if (docs.starts.size() > 1) {
      throw InputError(source_name + ":" + std::to_string(docs.starts[1].line + 1) +
                       ": a second YAML document (after '---'); cimsim reads one document per file: " +
                       "remove the '---' and what follows, or merge it into the first");
    }
    return docs.starts.empty() ? YAML::Node() : YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw InputError(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg +
                     "; fix the syntax at that position");
  }
}

}  // namespace cimsim
