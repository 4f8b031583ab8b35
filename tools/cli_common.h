// Shared pieces of the cimsim subcommands: global flags, --set/--seed handling, atomic JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "bundle/model_bundle.h"
#include "config/hw_config.h"
#include "data/dataset.h"
#include "mvm_run.h"

namespace cimsim::cli {

// The version written into every result (stats JSON) and into the sweep's point hashes.
inline constexpr const char* kCimsimVersion = "0.1.0";

struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
};

// Registers `mvm`; the returned function runs it if it was chosen (returns the exit code).
// Warnings for a layer that is almost surely misconfigured: more than 5% of its conversions clip
// (an interval that does not fit: calibrate), or more than 0.1% of its accumulator register updates
// saturate (accumulator_bits too narrow).
void warn_if_misconfigured(const LayerReport& layer, const HwConfig& hw);

// Warnings for device values that are legal but beyond measured devices (program_sigma > 0.2 of
// g_max, program_lognormal_sigma > 0.5, drift_nu > 0.2): almost surely a unit mistake.
void warn_if_implausible_device(const HwConfig& hw);

// Warnings for keys that only networks use (chip.duplicate, chip.dataflow, buffer.*), for one layer
// (cimsim mvm), which ignores them.
void warn_if_network_only_keys(const HwConfig& hw);

// CLI::Range for a real option that also refuses nan and infinities (which pass CLI::Range).
CLI::Validator finite_range(double lo, double hi);

std::function<int()> add_mvm_command(CLI::App& app);
// Registers `run` (a model bundle over a data set).
std::function<int()> add_run_command(CLI::App& app);
// cimsim import: an ONNX model to a quantized bundle (cmd_import.cpp).
std::function<int()> add_import_command(CLI::App& app);

// Registers `calibrate` (ADC intervals from the partial sums of a run).
std::function<int()> add_calibrate_command(CLI::App& app);

// Registers `flow` (the whole two-stage flow, docs/flow.md) and its internal `flow-report`.
std::function<int()> add_flow_command(CLI::App& app);
std::function<int()> add_flow_report_command(CLI::App& app);

// Registers `sweep` (a design-space sweep, docs/sweep.md) and `sweep-merge` (joins its shards).
std::function<int()> add_sweep_command(CLI::App& app);
std::function<int()> add_sweep_merge_command(CLI::App& app);

// --data: "fashion-mnist" (Debian's package), or NAME:DIR with NAME fashion-mnist, mnist, cifar10,
// cifar100; split "test" or "train"; limit < 0: all images.
data::Dataset load_data(const std::string& spec, const std::string& split_name, int64_t limit);

// "FROM:TO" in cycles, FROM <= TO.
// --trace-window FROM:TO in cycles, 0 <= FROM <= TO; {0, -1} (the whole run) when `window` is
// empty. A window without --trace is an error.
std::pair<int64_t, int64_t> parse_trace_window(const std::string& trace, const std::string& window);

// --trace-adcs: "all" or comma-separated ADC indices of a macro (each below hw.macro.adcs(), no
// repeats); {{0}, false} when empty. Without --trace it is an error.
std::pair<std::vector<int>, bool> parse_trace_adcs(const std::string& trace, const std::string& adcs,
                                                   const HwConfig& hw);

// Writes a float64 matrix as a C-order .npy (rows x cols).
void write_matrix_npy(const std::string& path, const Eigen::MatrixXd& m);

// Writes a JSON document to `path` (a staged OutputFiles temporary); InputError on failure.
void write_json(const std::string& path, const nlohmann::json& doc);
// Writes a JSON document to `path` atomically on its own (staged, then renamed into place).
void write_json_file(const std::string& path, const nlohmann::json& doc);

}  // namespace cimsim::cli
