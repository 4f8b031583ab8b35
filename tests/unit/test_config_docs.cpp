// docs/config.md lists every key the hardware config has, and no other: the keys of each section's
// table against the config's one list of keys (hw_config_keys, which also drives reading and JSON).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/hw_config_fields.h"

namespace cimsim {
namespace {

// Section ("" for the top level) -> the keys in the first column of its table.
std::map<std::string, std::set<std::string>> documented_keys(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::set<std::string>> keys;
  std::string line, section;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      const std::string title = line.substr(3);
      in_section = title == "Top level" || title.find(' ') == std::string::npos;
      section = title == "Top level" ? "" : title;
      continue;
    }
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    const std::string key = line.substr(2, line.find(" |", 2) - 2);
    if (key == "key" || key.find("---") != std::string::npos) continue;
    keys[section].insert(key);
  }
  return keys;
}

TEST(ConfigDocs, EveryKeyIsDocumentedAndNoOther) {
  const auto documented = documented_keys(std::string(CIMSIM_SOURCE_DIR) + "/docs/config.md");
  ASSERT_FALSE(documented.empty());
  std::map<std::string, std::set<std::string>> actual;  // from the config's one list of keys
  for (const std::string& key : hw_config_keys()) {
    const auto dot = key.find('.');
    actual[dot == std::string::npos ? "" : key.substr(0, dot)].insert(key.substr(dot + 1));
  }
  for (const auto& [section, keys] : actual) {
    ASSERT_TRUE(documented.count(section)) << "docs/config.md has no section '" << section << "'";
    for (const std::string& k : keys)
      EXPECT_TRUE(documented.at(section).count(k)) << "docs/config.md does not list " << section << "." << k;
  }
  for (const auto& [section, keys] : documented) {
    ASSERT_TRUE(actual.count(section))
        << "docs/config.md documents a section '" << section << "' the config lacks";
    for (const std::string& k : keys)
      EXPECT_TRUE(actual.at(section).count(k))
          << "docs/config.md lists " << section << "." << k << ", no such key";
  }
}

}  // namespace
}  // namespace cimsim
