// The kinds of key a config section holds (Int, Real, ...: what reading needs, with range and
// default) and the three visitors of a field list: YamlReader reads a section with them,
// JsonWriter writes it, KeyLister names its keys. A field list calls v(key, field, kind) per key
// and v.section(...) per subsection (hw_config_fields.cpp). Internal to models/config.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/hw_config.h"
#include "config/yaml_section.h"

namespace cimsim::config_fields {

// A choice's words and the values they stand for.
template <class E>
using Names = std::vector<std::pair<const char*, E>>;
template <class E>
std::vector<std::string> words_of(const Names<E>& names) {
  std::vector<std::string> words;
  for (const auto& [word, value] : names) words.push_back(word);
  return words;
}
template <class E>
E value_of(const Names<E>& names, const std::string& word) {
  for (const auto& [w, value] : names)
    if (word == w) return value;
  return names.front().second;  // not reached: the word was checked against the list
}
template <class E>
const char* word_of(const Names<E>& names, E value) {
  for (const auto& [word, v] : names)
    if (v == value) return word;
  return names.front().first;  // not reached: every value has a word
}

// ---- the kinds of key: each with what reading needs (range, default) -----------------------

struct Int {  // an integer in [lo, hi]; required unless it has a fallback
  int lo, hi;
  std::optional<int> fallback = std::nullopt;
};
struct Real {  // a finite number in [lo, hi]; required unless it has a fallback
  double lo, hi;
  std::optional<double> fallback = std::nullopt;
};
struct Bool {  // true or false, optional
  bool fallback;
};
struct IntOrWord {  // an optional integer in [lo, hi], or `word` (absent or `word`: 0)
  const char* word;
  int lo, hi;
};
template <class E>
struct ChoiceOr {  // an optional choice among words
  const Names<E>& names;
  E fallback;
};
struct Copies {  // an optional mapping of layer names to copies (1..4096), or `auto` (sets *automatic)
  bool* automatic;
};
struct BitsTable {};  // an optional mapping of ADC resolutions (1..16) to numbers in 0..1e9
struct Text {};       // a required non-empty string
struct Reals {};      // an optional list of finite numbers
struct Interval {};   // an optional ADC interval: full or {lo, hi}
struct Intervals {};  // an optional mapping of names to ADC intervals
// A required choice among words: Names<E> above.

// ---- the visitors -----------------------------------------------------------------------------

// The keys of one section, and of its subsections as "section.key".
struct KeyLister {
  std::string prefix;
  std::vector<std::string> keys;
  bool recurse = true;

  template <class Field, class Kind>
  void operator()(const char* key, Field&, const Kind&) {
    keys.push_back(prefix + key);
  }
  template <class Visit, class Check>
  void section(const char* key, bool, Visit&& visit, Check&&) {
    keys.push_back(prefix + key);
    if (!recurse) return;
    KeyLister inner{prefix + key + ".", {}, false};
    visit(inner);
    keys.insert(keys.end(), inner.keys.begin(), inner.keys.end());
  }
  template <class Visit, class Check>
  void section_if_given(const char* key, bool&, Visit&& visit, Check&& check) {
    section(key, true, visit, check);
  }
};

template <class Visit>
std::vector<std::string> own_keys(Visit&& visit) {
  KeyLister lister{"", {}, false};
  visit(lister);
  return lister.keys;
}

struct YamlReader {
  YamlSection& s;

  void operator()(const char* key, int& field, const Int& k) {
    field = k.fallback ? s.integer_or(key, k.lo, k.hi, *k.fallback) : s.integer(key, k.lo, k.hi);
  }
  void operator()(const char* key, double& field, const Real& k) {
    field = k.fallback ? s.real_or(key, k.lo, k.hi, *k.fallback) : s.real(key, k.lo, k.hi);
  }
  void operator()(const char* key, bool& field, const Bool& k) { field = s.boolean_or(key, k.fallback); }
  void operator()(const char* key, int& field, const IntOrWord& k) {
    field = s.integer_or_word(key, k.word, k.lo, k.hi);
  }
  void operator()(const char* key, std::string& field, const Text&) { field = s.text(key); }
  void operator()(const char* key, std::vector<double>& field, const Reals&) { field = s.real_list_or(key); }
  template <class E>
  void operator()(const char* key, E& field, const Names<E>& names) {
    field = value_of(names, s.choice(key, words_of(names)));
  }
  template <class E>
  void operator()(const char* key, E& field, const ChoiceOr<E>& k) {
    field = value_of(k.names, s.choice_or(key, words_of(k.names), word_of(k.names, k.fallback)));
  }
  void operator()(const char* key, std::map<std::string, int>& field, const Copies& k) {
    const YAML::Node n = s.raw(key);
    *k.automatic = n && n.IsScalar() && n.Scalar() == "auto";
    if (*k.automatic) return;
    each_entry(key, [&](YamlSection& layers, const std::string& layer) {
      field[layer] = layers.integer(layer, 1, 4096);
    });
  }
  void operator()(const char* key, std::map<int, double>& field, const BitsTable&) {
    each_entry(key, [&](YamlSection& table, const std::string& bits) {
      const int b = bits.size() <= 2 && plain_decimal(bits, false) ? std::stoi(bits) : 0;
      if (b < 1 || b > 16) table.fail(bits, "is not an ADC resolution", "use adc_bits values 1..16 as keys");
      field[b] = table.real(bits, 0.0, 1e9);
    });
  }
  void operator()(const char* key, AdcInterval& field, const Interval&) {
    if (s.has(key))
      field = read_adc_interval(s, key);
    else
      s.raw(key);  // absent: the full range
  }
  void operator()(const char* key, std::map<std::string, AdcInterval>& field, const Intervals&) {
    each_entry(key, [&](YamlSection& layers, const std::string& layer) {
      field[layer] = read_adc_interval(layers, layer);
    });
  }
  // An optional mapping under `key`: read(mapping, entry key) for each of its entries.
  template <class Read>
  void each_entry(const char* key, Read&& read) {
    if (!s.has(key)) {
      s.raw(key);
      return;
    }
    YamlSection mapping = s.child(key);
    for (const auto& kv : mapping.node()) read(mapping, kv.first.Scalar());
  }
  template <class Visit, class Check>
  void section(const char* key, bool optional, Visit&& visit, Check&& check) {
    YamlSection child = s.child(key, optional);
    child.declare(own_keys(visit));
    YamlReader inner{child};
    visit(inner);
    check(child);
    child.finish();  // after reading, so unknown keys are reported where they are
  }
  // A section whose keys are required when it is there; `given` says whether it is.
  template <class Visit, class Check>
  void section_if_given(const char* key, bool& given, Visit&& visit, Check&& check) {
    given = s.has(key);
    if (given)
      section(key, false, visit, check);
    else
      s.raw(key);
  }
};

struct JsonWriter {
  nlohmann::json& out;

  static nlohmann::json interval_json(const AdcInterval& iv) {
    return iv.full ? nlohmann::json("full") : nlohmann::json{{"lo", iv.lo}, {"hi", iv.hi}};
  }
  template <class Field, class Kind>  // numbers, booleans, text and lists as they are
  void operator()(const char* key, const Field& field, const Kind&) {
    out[key] = field;
  }
  template <class E>
  void operator()(const char* key, const E& field, const Names<E>& names) {
    out[key] = word_of(names, field);
  }
  template <class E>
  void operator()(const char* key, const E& field, const ChoiceOr<E>& k) {
    out[key] = word_of(k.names, field);
  }
  void operator()(const char* key, const std::map<std::string, int>& field, const Copies& k) {
    if (*k.automatic) {
      out[key] = "auto";
      return;
    }
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& [layer, copies] : field) layers[layer] = copies;
    out[key] = layers;
  }
  void operator()(const char* key, const std::map<int, double>& field, const BitsTable&) {
    nlohmann::json table = nlohmann::json::object();
    for (const auto& [bits, value] : field) table[std::to_string(bits)] = value;
    out[key] = table;
  }
  void operator()(const char* key, const int& field, const IntOrWord& k) {
    out[key] = field == 0 ? nlohmann::json(k.word) : nlohmann::json(field);
  }
  void operator()(const char* key, const AdcInterval& field, const Interval&) {
    out[key] = interval_json(field);
  }
  void operator()(const char* key, const std::map<std::string, AdcInterval>& field, const Intervals&) {
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& [layer, iv] : field) layers[layer] = interval_json(iv);
    out[key] = layers;
  }
  template <class Visit, class Check>
  void section(const char* key, bool, Visit&& visit, Check&&) {
    nlohmann::json inner = nlohmann::json::object();
    JsonWriter writer{inner};
    visit(writer);
    out[key] = inner;
  }
  template <class Visit, class Check>
  void section_if_given(const char* key, const bool& given, Visit&& visit, Check&& check) {
    if (given) section(key, false, visit, check);
  }
};

}  // namespace cimsim::config_fields
