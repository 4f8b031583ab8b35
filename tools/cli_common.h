// Shared pieces of the cimsim subcommands: global flags, --set/--seed handling, atomic JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace cimsim::cli {

struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
};

// Registers `mvm`; the returned function runs it if it was chosen (returns the exit code).
std::function<int()> add_mvm_command(CLI::App& app);

// "FROM:TO" in cycles, FROM <= TO.
std::pair<int64_t, int64_t> parse_cycle_window(const std::string& text);

// Creates the directory a result file goes into; InputError when it cannot.
void ensure_parent_directory(const std::string& path);

// Writes JSON to path atomically (temp file + rename); InputError on failure.
void write_json_atomic(const std::string& path, const nlohmann::json& doc);

}  // namespace cimsim::cli
