// Typed JSON documents (the statistics, sweep results and flow report; docs/stats.md). A record
// names each field once, in a list that drives writing, reading and the description of the schema
// (the generated Python classes, docs checks):
//
//   struct ErrorFigures {
//     static constexpr const char* kRecord = "ErrorFigures";
//     double mean = 0;
//     Nullable<double> sqnr_db;
//     template <class V> void fields(V& v) { v("mean", mean); v("sqnr_db", sqnr_db); }
//   };
//
// Field types: bool, integers, double, std::string, nlohmann::json (free-form), another record,
// std::vector and std::map<std::string, T> of these, Nullable<T> (written as null when empty),
// std::optional<T> (left out when empty), and any type with nlohmann to_json/from_json (described
// as free-form). Reading requires every other field, rejects unknown keys, and takes integers only
// from JSON integers; a SchemaError names the path of the bad value (e.g. layers[2].cim.error.std).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cimsim {

template <class T>
struct Nullable {
  using value_type = T;
  std::optional<T> value;
};

class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace record {

template <class T, class = void>
struct is_record : std::false_type {};
template <class T>
struct is_record<T, std::void_t<decltype(T::kRecord)>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_map : std::false_type {};
template <class T>
struct is_map<std::map<std::string, T>> : std::true_type {};
template <class T>
struct is_nullable : std::false_type {};
template <class T>
struct is_nullable<Nullable<T>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
nlohmann::json write(const T& value);

struct Writer {
  nlohmann::json& out;
  template <class F>
  void operator()(const char* key, const F& field) {
    if constexpr (is_optional<F>::value) {
      if (field) out[key] = write(*field);
    } else {
      out[key] = write(field);
    }
  }
};

template <class T>
nlohmann::json write(const T& value) {
  if constexpr (is_record<T>::value) {
    nlohmann::json out = nlohmann::json::object();
    Writer writer{out};
    const_cast<T&>(value).fields(writer);  // the writer only reads the fields
    return out;
  } else if constexpr (is_vector<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(write(item));
    return out;
  } else if constexpr (is_map<T>::value) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value) out[key] = write(item);
    return out;
  } else if constexpr (is_nullable<T>::value) {
    return value.value ? write(*value.value) : nlohmann::json(nullptr);
  } else {
    return nlohmann::json(value);
  }
}

[[noreturn]] inline void fail(const std::string& path, const std::string& problem) {
  throw SchemaError((path.empty() ? std::string("the document") : path) + ": " + problem);
}

inline std::string key_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

template <class T>
void read(const nlohmann::json& j, T& out, const std::string& path);

struct Reader {
  const nlohmann::json& in;
  const std::string& path;
  std::set<std::string> known;
  template <class F>
  void operator()(const char* key, F& field) {
    known.insert(key);
    const auto it = in.find(key);
    if constexpr (is_optional<F>::value) {
      if (it == in.end()) {
        field.reset();
        return;
      }
      field.emplace();
      read(*it, *field, key_path(path, key));
    } else {
      if (it == in.end()) fail(key_path(path, key), "missing");
      read(*it, field, key_path(path, key));
    }
  }
};

template <class T>
void read(const nlohmann::json& j, T& out, const std::string& path) {
  if constexpr (is_record<T>::value) {
    if (!j.is_object()) fail(path, "expected an object");
    Reader reader{j, path, {}};
    out.fields(reader);
    for (const auto& [key, unused] : j.items())
      if (!reader.known.count(key)) fail(key_path(path, key), "unknown field");
  } else if constexpr (is_vector<T>::value) {
    if (!j.is_array()) fail(path, "expected a list");
    out.assign(j.size(), typename T::value_type{});
    for (std::size_t i = 0; i < j.size(); ++i) read(j[i], out[i], path + "[" + std::to_string(i) + "]");
  } else if constexpr (is_map<T>::value) {
    if (!j.is_object()) fail(path, "expected an object");
    out.clear();
    for (const auto& [key, item] : j.items()) read(item, out[key], key_path(path, key));
  } else if constexpr (is_nullable<T>::value) {
    out.value.reset();
    if (!j.is_null()) read(j, out.value.emplace(), path);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) fail(path, "expected true or false");
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) fail(path, "expected an integer");
    const bool fits = j.is_number_unsigned()
                          ? j.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                          : std::is_signed_v<T> &&
                                j.get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                                j.get<int64_t>() <= int64_t(std::numeric_limits<T>::max());
    if (!fits) fail(path, j.dump() + " is out of range");
    out = j.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) fail(path, "expected a number");
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) fail(path, "expected a string");
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    out = j;
  } else {
    try {
      out = j.get<T>();
    } catch (const std::exception& e) {
      fail(path, e.what());
    }
  }
}

// The description of records: each one's name and fields, a field's kind written as bool, int,
// float, str, json, a record's name, or list[K], map[K], nullable[K], optional[K] of a kind K.
struct FieldKind {
  std::string key, kind;
};
using Schema = std::vector<std::pair<std::string, std::vector<FieldKind>>>;  // records, each after its parts

template <class T>
std::string kind_of(Schema& schema);

struct Describer {
  Schema& schema;
  std::vector<FieldKind>& fields;
  template <class F>
  void operator()(const char* key, F&) {
    fields.push_back({key, kind_of<F>(schema)});
  }
};

template <class T>
std::string kind_of(Schema& schema) {
  if constexpr (is_record<T>::value) {
    const std::string name = T::kRecord;
    for (const auto& [known, unused] : schema)
      if (known == name) return name;
    std::vector<FieldKind> fields;
    Describer describer{schema, fields};
    T().fields(describer);
    schema.emplace_back(name, std::move(fields));
    return name;
  } else if constexpr (is_vector<T>::value) {
    return "list[" + kind_of<typename T::value_type>(schema) + "]";
  } else if constexpr (is_map<T>::value) {
    return "map[" + kind_of<typename T::mapped_type>(schema) + "]";
  } else if constexpr (is_nullable<T>::value) {
    return "nullable[" + kind_of<typename T::value_type>(schema) + "]";
  } else if constexpr (is_optional<T>::value) {
    return "optional[" + kind_of<typename T::value_type>(schema) + "]";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "bool";
  } else if constexpr (std::is_integral_v<T>) {
    return "int";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "float";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "str";
  } else {
    return "json";
  }
}

struct NameLister {
  std::vector<std::string> names;
  template <class F>
  void operator()(const char* key, F&) {
    names.push_back(key);
  }
};

}  // namespace record

// The field names of a record, in its list's order.
template <class T>
std::vector<std::string> field_names() {
  record::NameLister lister;
  T().fields(lister);
  return lister.names;
}

// The JSON of a record.
template <class T>
nlohmann::json to_json_record(const T& value) {
  static_assert(record::is_record<T>::value, "not a record");
  return record::write(value);
}

// A record from JSON; throws SchemaError naming the path of a missing, unknown or mistyped field.
template <class T>
T from_json_record(const nlohmann::json& j) {
  static_assert(record::is_record<T>::value, "not a record");
  T out;
  record::read(j, out, "");
  return out;
}

}  // namespace cimsim
