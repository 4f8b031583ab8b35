// Running one matrix-vector layer (`cimsim mvm`): validates the operands, maps the layer, builds
// and simulates the SystemC model, and reports outputs, cycles, energy and conversion statistics.
// A SystemC simulation is elaborated once per process, so run_mvm runs at most once per process
// (or once per SimulationSession, simulation_session.h).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "io/output_files.h"
#include "layer_engine.h"
#include "stats/conversion_stats.h"
#include "stats/stats_records.h"

namespace cimsim {

struct MvmOptions {
  uint64_t seed = 1;
  int batch = 4096;                // vectors per lock-step transaction
  std::string layer_name = "mvm";  // selects adc.layers.<name> if present
  std::string trace_path;          // empty: no trace
  OutputFiles* outputs = nullptr;  // where the trace is staged; null: run_mvm commits it itself
  int64_t trace_from = 0;
  int64_t trace_to = -1;           // -1: to the end of the run
  std::vector<int> trace_adcs{0};  // the ADCs of each macro whose signals are traced
  bool trace_all_adcs = false;     // or every one
};

struct LayerReport {
  std::string name;
  int inputs = 0, outputs = 0;
  int macros = 0, row_tiles = 0, col_tiles = 0, row_groups = 0;
  int copies = 1;          // of the weights (chip.duplicate); macros counts every copy's
  double utilization = 0;  // share of the macros' cells holding weights
  int64_t vectors = 0;
  int64_t transactions = 0;
  int64_t cycles_per_mvm = 0;
  int64_t total_cycles = 0;  // vectors x cycles_per_mvm: one chip, MVMs back to back
  double clock_mhz = 0;
  AdcInterval interval;
  ConversionStats stats;
  EnergyBreakdown energy;
  std::optional<AreaFigures> area;  // its macros, with an `area` section
  bool saturating = false;           // macro.accumulator_bits is set (stats.saturations counts)
  DeviceLevelErrors level_errors;    // with programmed devices

  double latency_per_mvm_s() const { return double(cycles_per_mvm) / (clock_mhz * 1e6); }
  double total_time_s() const { return double(total_cycles) / (clock_mhz * 1e6); }
  CimLayerStats figures() const;  // as the stats files give it
};

// The report of a simulated layer: its mapping, `vectors` MVMs, conversion statistics and energy,
// with leakage of its macros over `leakage_seconds` of chip time (none: its own MVM time).
LayerReport report_layer(const LayerEngine& engine, const HwConfig& hw, const std::string& name,
                         int64_t vectors, std::optional<double> leakage_seconds);

// Throws InputError when W or X do not fit the hardware's bit widths or each other.
void validate_mvm_operands(const HwConfig& hw, const Eigen::MatrixXi& weights, const IntMatrixRef& inputs,
                           const std::string& weights_name, const std::string& inputs_name);

LayerReport run_mvm(const HwConfig& hw, const Eigen::MatrixXi& weights, const IntMatrixRef& inputs,
                    Eigen::MatrixXd& outputs, const MvmOptions& options);

}  // namespace cimsim
