// Typed, line-aware reading of one YAML mapping, in the spirit of Ramulator 2's declared params:
// each key is read where it is used with its range, and finish() rejects every key nobody read
// (with a "did you mean" hint), so a misspelled key never falls back to a silent default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace cimsim {

// Where the values came from: the file, plus any --set overrides (their origin replaces the
// file line in messages, since the value was not in the file).
struct ConfigSource {
  std::string file;
  std::map<std::string, std::string> overrides;  // dotted path -> "--set path=value"

  std::string locate(const std::string& path, const YAML::Node& node) const;
};

class YamlSection {
 public:
  // `header` is the node of the key that holds this mapping (for messages about missing keys).
  YamlSection(YAML::Node node, std::string path, std::shared_ptr<const ConfigSource> source,
              YAML::Node header = YAML::Node());

  // Declares every key this section may hold, so that a missing required key can be traced to a
  // misspelling of it (reported as the unknown key it is, at its own line).
  void declare(std::initializer_list<const char*> keys);
  void declare(const std::vector<std::string>& keys);
  bool has(const std::string& key) const;
  const std::string& path() const { return path_; }
  YAML::Node node() const { return node_; }

  // Required integer / real in [lo, hi].
  int integer(const std::string& key, int lo, int hi);
  double real(const std::string& key, double lo, double hi);
  // Optional forms: the default is documented next to every key in docs/config.md.
  int integer_or(const std::string& key, int lo, int hi, int fallback);
  double real_or(const std::string& key, double lo, double hi, double fallback);
  bool boolean_or(const std::string& key, bool fallback);
  // An optional integer in [lo, hi] that may also be written as `word` (e.g. none, unlimited);
  // absent or `word` gives 0.
  int integer_or_word(const std::string& key, const std::string& word, int lo, int hi);
  std::string text(const std::string& key);
  std::string choice(const std::string& key, const std::vector<std::string>& choices);
  std::string choice_or(const std::string& key, const std::vector<std::string>& choices,
                        const std::string& fallback);
  std::vector<double> real_list_or(const std::string& key);

  // A nested mapping; required unless `optional` (then an empty mapping when absent).
  YamlSection child(const std::string& key, bool optional = false);
  // The raw node of a key (marks it as read).
  YAML::Node raw(const std::string& key);

  // Throws InputError "<file>:<line>: <path.key>: <problem>; <fix>".
  [[noreturn]] void fail(const std::string& key, const std::string& problem, const std::string& fix) const;
  // Rejects keys that were not read.
  void finish() const;

  std::string where(const std::string& key) const;
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  YAML::Node value(const std::string& key);
  YAML::Node node_;
  YAML::Node header_;
  std::string path_;
  std::shared_ptr<const ConfigSource> source_;
  std::set<std::string> read_;
  std::set<std::string> declared_;
};

// Parses YAML text; a syntax error is one InputError "<source>:<line>:<column>: YAML syntax error".
YAML::Node load_yaml_text(const std::string& yaml_text, const std::string& source_name);

// Whether `text` is a plain decimal integer of at most 9 digits, no leading zero (yaml-cpp would
// read 010 as octal 8 and 0x8 as 8), with an optional sign when `sign` is allowed.
bool plain_decimal(const std::string& text, bool sign);

// Edit distance, for "did you mean" hints.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace cimsim
