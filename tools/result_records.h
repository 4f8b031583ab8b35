// The documents the CLI builds from statistics files, as typed records (io/json_record.h): a
// sweep's results.json (docs/sweep.md) and a flow's report.json (docs/flow.md). Read by the plot
// scripts through the Python classes generated from these lists (build/cimsim_stats.py).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "io/json_record.h"
#include "stats/energy.h"

namespace cimsim::cli {

// A sweep point's figures per image (energies) or over the run; the columns of results.csv.
struct SweepMetrics {
  static constexpr const char* kRecord = "SweepMetrics";
  double accuracy = 0, correct = 0, images = 0, energy_per_image_pj = 0;
  double energy_dac_pj = 0, energy_array_pj = 0, energy_adc_pj = 0, energy_shift_add_pj = 0,
         energy_leakage_pj = 0, energy_digital_pj = 0, energy_digital_leakage_pj = 0, energy_buffer_pj = 0;
  double static_energy_pj = 0, dynamic_energy_pj = 0;
  double cycles_per_image = 0, latency_per_image_us = 0, images_per_second = 0, tops_per_watt = 0;
  double clip_rate_low = 0, clip_rate_high = 0;  // over every conversion of the run
  double tops = 0;
  std::optional<double> chip_mm2, tops_per_mm2;  // with an `area` section
  double adc_pj_per_conversion = 0;              // energy of one conversion (energy.adc_model)
  std::optional<double> adc_um2;                 // one ADC, with an `area` section
  template <class V>
  void fields(V& v) {
    v("accuracy", accuracy);
    v("correct", correct);
    v("images", images);
    v("energy_per_image_pj", energy_per_image_pj);
    v("energy_dac_pj", energy_dac_pj);
    v("energy_array_pj", energy_array_pj);
    v("energy_adc_pj", energy_adc_pj);
    v("energy_shift_add_pj", energy_shift_add_pj);
    v("energy_leakage_pj", energy_leakage_pj);
    v("energy_digital_pj", energy_digital_pj);
    v("energy_digital_leakage_pj", energy_digital_leakage_pj);
    v("energy_buffer_pj", energy_buffer_pj);
    v("static_energy_pj", static_energy_pj);
    v("dynamic_energy_pj", dynamic_energy_pj);
    v("cycles_per_image", cycles_per_image);
    v("latency_per_image_us", latency_per_image_us);
    v("images_per_second", images_per_second);
    v("tops_per_watt", tops_per_watt);
    v("clip_rate_low", clip_rate_low);
    v("clip_rate_high", clip_rate_high);
    v("tops", tops);
    v("chip_mm2", chip_mm2);
    v("tops_per_mm2", tops_per_mm2);
    v("adc_pj_per_conversion", adc_pj_per_conversion);
    v("adc_um2", adc_um2);
  }
};

// A CIM layer of a sweep point: its ADC interval, clip rates, cycles per image (its stage time)
// and energy per image (its macros, digital operations and buffer traffic).
struct SweepLayerFigures {
  static constexpr const char* kRecord = "SweepLayerFigures";
  std::string name;
  double lo = 0, hi = 0, clip_rate_low = 0, clip_rate_high = 0;
  double cycles_per_image = 0, energy_per_image_pj = 0;
  template <class V>
  void fields(V& v) {
    v("name", name);
    v("lo", lo);
    v("hi", hi);
    v("clip_rate_low", clip_rate_low);
    v("clip_rate_high", clip_rate_high);
    v("cycles_per_image", cycles_per_image);
    v("energy_per_image_pj", energy_per_image_pj);
  }
};

// One point of results.json; metrics, layers and config only when it succeeded.
struct SweepRow {
  static constexpr const char* kRecord = "SweepRow";
  int point = 0;
  std::vector<std::string> values;
  uint64_t seed = 1;
  std::string model, status, error;
  std::optional<SweepMetrics> metrics;
  std::optional<std::vector<SweepLayerFigures>> layers;
  std::optional<HwConfig> config;
  template <class V>
  void fields(V& v) {
    v("point", point);
    v("values", values);
    v("seed", seed);
    v("model", model);
    v("status", status);
    v("error", error);
    v("metrics", metrics);
    v("layers", layers);
    v("config", config);
  }
};

// One combination of parameter values over its seeds; the figures only when a seed succeeded.
struct SweepGroupSummary {
  static constexpr const char* kRecord = "SweepGroupSummary";
  std::vector<std::string> values;
  uint64_t seeds_ok = 0;
  int failed = 0;
  std::optional<double> accuracy_mean, accuracy_std, accuracy_min, accuracy_max, energy_per_image_pj_mean,
      latency_per_image_us_mean, tops_per_watt_mean, static_energy_pj_mean, dynamic_energy_pj_mean,
      images_per_second_mean, chip_mm2_mean, tops_per_mm2_mean;  // chip_mm2, tops_per_mm2: with `area`
  template <class V>
  void fields(V& v) {
    v("values", values);
    v("seeds_ok", seeds_ok);
    v("failed", failed);
    v("accuracy_mean", accuracy_mean);
    v("accuracy_std", accuracy_std);
    v("accuracy_min", accuracy_min);
    v("accuracy_max", accuracy_max);
    v("energy_per_image_pj_mean", energy_per_image_pj_mean);
    v("latency_per_image_us_mean", latency_per_image_us_mean);
    v("tops_per_watt_mean", tops_per_watt_mean);
    v("static_energy_pj_mean", static_energy_pj_mean);
    v("dynamic_energy_pj_mean", dynamic_energy_pj_mean);
    v("images_per_second_mean", images_per_second_mean);
    v("chip_mm2_mean", chip_mm2_mean);
    v("tops_per_mm2_mean", tops_per_mm2_mean);
  }
};

// A sweep's results.json.
struct SweepResults {
  static constexpr const char* kRecord = "SweepResults";
  std::string format = "cimsim-sweep-results";
  int version = 1;
  std::string name, sweep_hash;
  std::vector<std::string> params;
  uint64_t points_in_sweep = 0;
  bool complete = false;
  int failed = 0;
  std::vector<SweepRow> points;
  std::vector<SweepGroupSummary> summary;
  std::optional<std::string> shard;  // "I/N" for one shard's results
  template <class V>
  void fields(V& v) {
    v("format", format);
    v("version", version);
    v("name", name);
    v("sweep_hash", sweep_hash);
    v("params", params);
    v("points_in_sweep", points_in_sweep);
    v("complete", complete);
    v("failed", failed);
    v("points", points);
    v("summary", summary);
    v("shard", shard);
  }
};

// The flow report's figures of the final `cimsim run`.
struct FlowFinal {
  static constexpr const char* kRecord = "FlowFinal";
  double accuracy = 0;
  int64_t correct = 0, images = 0, cycles_per_image = 0;
  double latency_per_image_us = 0, energy_per_image_pj = 0;
  EnergyFigures energy_pj;
  double tops_per_watt = 0;
  template <class V>
  void fields(V& v) {
    v("accuracy", accuracy);
    v("correct", correct);
    v("images", images);
    v("cycles_per_image", cycles_per_image);
    v("latency_per_image_us", latency_per_image_us);
    v("energy_per_image_pj", energy_per_image_pj);
    v("energy_pj", energy_pj);
    v("tops_per_watt", tops_per_watt);
  }
};

// The trainer's last test accuracy of each stage (-1: the stage logged none).
struct TrainerAccuracy {
  static constexpr const char* kRecord = "TrainerAccuracy";
  double fp32 = -1, qat = -1, cim = -1;
  template <class V>
  void fields(V& v) {
    v("fp32", fp32);
    v("qat", qat);
    v("cim", cim);
  }
};

struct IntervalBounds {
  static constexpr const char* kRecord = "IntervalBounds";
  double lo = 0, hi = 0;
  template <class V>
  void fields(V& v) {
    v("lo", lo);
    v("hi", hi);
  }
};

struct FlowCalibration {
  static constexpr const char* kRecord = "FlowCalibration";
  std::string method;
  std::map<std::string, IntervalBounds> layers;
  template <class V>
  void fields(V& v) {
    v("method", method);
    v("layers", layers);
  }
};

// A flow's report/report.json.
struct FlowReport {
  static constexpr const char* kRecord = "FlowReport";
  std::string model, hw;
  FlowFinal final;
  TrainerAccuracy trainer_test_accuracy;
  FlowCalibration calibration;
  template <class V>
  void fields(V& v) {
    v("model", model);
    v("hw", hw);
    v("final", final);
    v("trainer_test_accuracy", trainer_test_accuracy);
    v("calibration", calibration);
  }
};

}  // namespace cimsim::cli
