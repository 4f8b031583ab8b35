// The hardware config's keys, each named once (hw_config_fields.cpp): the one list reads the YAML,
// writes the resolved JSON and names every key for docs/config.md's check.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/hw_config.h"

namespace cimsim {

class YamlSection;

// Reads every section of the document `top` into `hw`, with each key's range and default and the
// checks across keys; rejects unknown keys (InputError naming file, line and fix).
void read_hw_fields(YamlSection& top, HwConfig& hw);
// The fully resolved configuration, every key with its value (docs/config.md).
nlohmann::json hw_config_json(const HwConfig& hw);
// Every key: the top level's ("name", "macro", ...) and each section's as "section.key".
std::vector<std::string> hw_config_keys();

}  // namespace cimsim
