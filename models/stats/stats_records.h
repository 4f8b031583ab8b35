// The statistics documents of `cimsim mvm` and `cimsim run` (--stats, --out DIR/stats.json) as
// typed records (io/json_record.h): every field named once here, written by the simulator and the
// CLI, read back by the sweep, the flow report, the trainer's --hw-stats and, through the Python
// classes generated from these lists (build/cimsim_stats.py), the plot scripts. docs/stats.md
// says what each field means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "io/json_record.h"
#include "stats/area.h"
#include "stats/energy.h"

namespace cimsim {

struct ShapeFigures {
  static constexpr const char* kRecord = "ShapeFigures";
  int inputs = 0, outputs = 0;
  template <class V>
  void fields(V& v) {
    v("inputs", inputs);
    v("outputs", outputs);
  }
};

struct MappingFigures {
  static constexpr const char* kRecord = "MappingFigures";
  int macros = 0, row_tiles = 0, col_tiles = 0, row_groups = 0;
  double utilization = 0;
  int copies = 1;  // of the weights (chip.duplicate); macros counts every copy's
  template <class V>
  void fields(V& v) {
    v("macros", macros);
    v("row_tiles", row_tiles);
    v("col_tiles", col_tiles);
    v("row_groups", row_groups);
    v("utilization", utilization);
    v("copies", copies);
  }
};

struct IntervalFigures {
  static constexpr const char* kRecord = "IntervalFigures";
  double lo = 0, hi = 0;
  bool full_range = false;
  template <class V>
  void fields(V& v) {
    v("lo", lo);
    v("hi", hi);
    v("full_range", full_range);
  }
};

struct ErrorFigures {
  static constexpr const char* kRecord = "ErrorFigures";
  double mean = 0, std = 0;
  Nullable<double> sqnr_db;  // null: no error, or no signal
  bool exact = false;
  template <class V>
  void fields(V& v) {
    v("mean", mean);
    v("std", std);
    v("sqnr_db", sqnr_db);
    v("exact", exact);
  }
};

struct HistogramFigures {
  static constexpr const char* kRecord = "HistogramFigures";
  double first_edge = 0, bin_width = 1;
  std::vector<int64_t> counts;
  int64_t underflow = 0, overflow = 0;
  template <class V>
  void fields(V& v) {
    v("first_edge", first_edge);
    v("bin_width", bin_width);
    v("counts", counts);
    v("underflow", underflow);
    v("overflow", overflow);
  }
};

// The programmed conductances of a layer's cells written to one target level (device/level_errors.h).
struct DeviceLevelFigures {
  static constexpr const char* kRecord = "DeviceLevelFigures";
  int level = 0;
  int64_t cells = 0;
  double mean = 0, std = 0;  // of g - level, in levels
  template <class V>
  void fields(V& v) {
    v("level", level);
    v("cells", cells);
    v("mean", mean);
    v("std", std);
  }
};

// One CIM layer: `cimsim mvm`'s layers[] and `cimsim run`'s layers[].cim.
struct CimLayerStats {
  static constexpr const char* kRecord = "CimLayerStats";
  std::string name;
  ShapeFigures shape;
  MappingFigures mapping;
  int64_t mvms = 0, transactions = 0, cycles_per_mvm = 0, total_cycles = 0;
  double latency_per_mvm_ns = 0, total_time_us = 0;
  IntervalFigures adc_interval;
  int64_t conversions = 0, clipped_low = 0, clipped_high = 0;
  double clip_rate_low = 0, clip_rate_high = 0;
  ErrorFigures error;
  HistogramFigures partial_sum_histogram;
  EnergyEvents energy_events;
  EnergyFigures energy_pj;
  double energy_per_mvm_pj = 0;
  std::optional<AreaFigures> area_um2;  // the layer's macros, with an `area` section
  // With macro.accumulator_bits: register updates the bound clamped (shift-add and adder tree).
  std::optional<int64_t> accumulator_saturations;
  // With programming variation, stuck-at faults or drift: the cells' error per target level, and the
  // ADC output against the partial sum over the programmed conductances (read and converter noise,
  // quantization and clipping: the error that is not from programming).
  std::optional<std::vector<DeviceLevelFigures>> device_levels;
  std::optional<ErrorFigures> residual_error;
  // With read noise: the converter's input against the same partial sum before read noise (the read
  // noise as drawn, current-dependent included; stage cim's --hw-stats injects it).
  std::optional<ErrorFigures> read_error;
  template <class V>
  void fields(V& v) {
    v("name", name);
    v("shape", shape);
    v("mapping", mapping);
    v("mvms", mvms);
    v("transactions", transactions);
    v("cycles_per_mvm", cycles_per_mvm);
    v("total_cycles", total_cycles);
    v("latency_per_mvm_ns", latency_per_mvm_ns);
    v("total_time_us", total_time_us);
    v("adc_interval", adc_interval);
    v("conversions", conversions);
    v("clipped_low", clipped_low);
    v("clipped_high", clipped_high);
    v("clip_rate_low", clip_rate_low);
    v("clip_rate_high", clip_rate_high);
    v("error", error);
    v("partial_sum_histogram", partial_sum_histogram);
    v("energy_events", energy_events);
    v("energy_pj", energy_pj);
    v("energy_per_mvm_pj", energy_per_mvm_pj);
    v("area_um2", area_um2);
    v("accumulator_saturations", accumulator_saturations);
    v("device_levels", device_levels);
    v("residual_error", residual_error);
    v("read_error", read_error);
  }
};

struct MvmInputs {
  static constexpr const char* kRecord = "MvmInputs";
  std::string weights, inputs, hw;
  template <class V>
  void fields(V& v) {
    v("weights", weights);
    v("inputs", inputs);
    v("hw", hw);
  }
};

// `cimsim mvm --stats`.
struct MvmStats {
  static constexpr const char* kRecord = "MvmStats";
  std::string cimsim_version, command = "mvm";
  uint64_t seed = 1;
  MvmInputs inputs;
  HwConfig config;
  std::vector<CimLayerStats> layers;
  double wall_seconds = 0;
  template <class V>
  void fields(V& v) {
    v("cimsim_version", cimsim_version);
    v("command", command);
    v("seed", seed);
    v("inputs", inputs);
    v("config", config);
    v("layers", layers);
    v("wall_seconds", wall_seconds);
  }
};

struct NetworkLayerStats {
  static constexpr const char* kRecord = "NetworkLayerStats";
  std::string name, type;
  int64_t cycles_per_image = 0, digital_ops_per_image = 0, digital_cycles_per_image = 0;
  int64_t buffer_bytes_per_image = 0, buffer_cycles_per_image = 0;
  double digital_energy_pj = 0, buffer_energy_pj = 0;  // all images
  double energy_per_image_pj = 0;  // the layer's macros (cim.energy_pj.total), digital ops and buffer traffic
  std::optional<CimLayerStats> cim;  // conv2d and linear layers
  template <class V>
  void fields(V& v) {
    v("name", name);
    v("type", type);
    v("cycles_per_image", cycles_per_image);
    v("digital_ops_per_image", digital_ops_per_image);
    v("digital_cycles_per_image", digital_cycles_per_image);
    v("buffer_bytes_per_image", buffer_bytes_per_image);
    v("buffer_cycles_per_image", buffer_cycles_per_image);
    v("digital_energy_pj", digital_energy_pj);
    v("buffer_energy_pj", buffer_energy_pj);
    v("energy_per_image_pj", energy_per_image_pj);
    v("cim", cim);
  }
};

// The chip's area (with an `area` section): chip.macros macros (or, when unlimited, the macros
// the network maps onto) and the digital unit.
struct ChipAreaStats {
  static constexpr const char* kRecord = "ChipAreaStats";
  AreaFigures macro_um2;  // one macro
  int64_t macros = 0;
  double cim_mm2 = 0, digital_mm2 = 0, buffer_mm2 = 0, chip_mm2 = 0;
  double tops_per_mm2 = 0;
  template <class V>
  void fields(V& v) {
    v("macro_um2", macro_um2);
    v("macros", macros);
    v("cim_mm2", cim_mm2);
    v("digital_mm2", digital_mm2);
    v("buffer_mm2", buffer_mm2);
    v("chip_mm2", chip_mm2);
    v("tops_per_mm2", tops_per_mm2);
  }
};

struct RunInputs {
  static constexpr const char* kRecord = "RunInputs";
  std::string hw, model, data, split;
  template <class V>
  void fields(V& v) {
    v("hw", hw);
    v("model", model);
    v("data", data);
    v("split", split);
  }
};

// `cimsim run --stats` and --out DIR/stats.json.
struct RunStats {
  static constexpr const char* kRecord = "RunStats";
  std::string cimsim_version, command = "run";
  uint64_t seed = 1;
  RunInputs inputs;
  HwConfig config;
  std::string model;
  int64_t images = 0, correct = 0;
  double accuracy = 0;
  bool shape_only = false;  // random weights (arch:NAME or --shape-only): accuracy is not meaningful
  int64_t cycles_per_image = 0, latency_cycles = 0;
  std::string dataflow = "layer_by_layer", bottleneck_layer;
  double latency_per_image_us = 0, images_per_second = 0, energy_per_image_pj = 0;
  double static_energy_per_image_pj = 0, dynamic_energy_per_image_pj = 0;
  EnergyFigures energy_pj;
  double digital_energy_pj = 0, digital_static_pj = 0;
  double buffer_energy_pj = 0;  // activation buffer traffic, all images (dynamic)
  int64_t buffer_capacity_bytes = 0;
  int64_t macs_per_image = 0;
  double tops_per_watt = 0;
  double tops = 0;                    // 2 x macs_per_image x images_per_second / 10^12
  std::optional<ChipAreaStats> area;  // with an `area` section
  std::vector<NetworkLayerStats> layers;
  double wall_seconds = 0;
  template <class V>
  void fields(V& v) {
    v("cimsim_version", cimsim_version);
    v("command", command);
    v("seed", seed);
    v("inputs", inputs);
    v("config", config);
    v("model", model);
    v("images", images);
    v("correct", correct);
    v("accuracy", accuracy);
    v("shape_only", shape_only);
    v("cycles_per_image", cycles_per_image);
    v("latency_cycles", latency_cycles);
    v("dataflow", dataflow);
    v("bottleneck_layer", bottleneck_layer);
    v("latency_per_image_us", latency_per_image_us);
    v("images_per_second", images_per_second);
    v("energy_per_image_pj", energy_per_image_pj);
    v("static_energy_per_image_pj", static_energy_per_image_pj);
    v("dynamic_energy_per_image_pj", dynamic_energy_per_image_pj);
    v("energy_pj", energy_pj);
    v("digital_energy_pj", digital_energy_pj);
    v("digital_static_pj", digital_static_pj);
    v("buffer_energy_pj", buffer_energy_pj);
    v("buffer_capacity_bytes", buffer_capacity_bytes);
    v("macs_per_image", macs_per_image);
    v("tops_per_watt", tops_per_watt);
    v("tops", tops);
    v("area", area);
    v("layers", layers);
    v("wall_seconds", wall_seconds);
  }
};

// Reads a statistics file of `cimsim run`; InputError naming `what` (e.g. "--hw-stats F") and the
// bad field when it is not one.
RunStats load_run_stats(const std::string& path, const std::string& what);

}  // namespace cimsim
