// A design-space sweep file (docs/sweep.md): the base hardware preset, model bundle and data, the
// parameters to vary by their dotted config paths (product or zip), the device seeds to repeat over
// and an optional calibration at every point; expanded into points and checked whole before any
// point runs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cimsim::cli {

// The special parameter that varies the model bundle instead of a hardware key.
inline constexpr const char* kModelParam = "model";

struct SweepParam {
  std::string path;                 // dotted hardware config path, or "model"
  std::vector<std::string> values;  // YAML text as `--set path=value` takes it (model: a directory)
  std::string where;                // FILE:LINE of its key, for messages
};

struct SweepCalibration {
  bool enabled = false;
  std::string method = "mse";
  double percentile = 99.99;
  bool zero_level = false;  // cimsim calibrate --zero-level
  std::string split = "train";
  int64_t limit = 1000;
};

struct SweepPoint {
  int index = 0;
  std::vector<std::string> values;  // one per parameter, as written
  uint64_t seed = 1;
  std::vector<std::string> overrides;  // "path=value" for `cimsim run --set`
  std::string model;                   // bundle directory of this point
  bool calibrate = false;              // calibration on and this point's ADC is not ideal
  std::string hash;                    // of everything the point's result depends on
};

struct SweepSpec {
  std::string file, name, hw, model, data, split;
  int64_t limit = -1;  // -1: the whole split
  int batch = 64;
  std::string combine = "product";
  std::vector<SweepParam> params;
  std::vector<uint64_t> seeds;
  SweepCalibration calibration;
  std::vector<SweepPoint> points;  // parameters in the order written (first slowest), seeds innermost
  std::string hash;                // of the points' hashes: equal on every machine for the same sweep
};

// Reads and checks a sweep file: every key, every parameter path (against the base hardware
// config), every value (each point's config is loaded and its bundle fitted) and the data.
// InputError naming the file, the line and the fix.
SweepSpec load_sweep(const std::string& path);

// The resolved sweep as written to DIR/sweep.json (what `cimsim sweep-merge` and the results read).
nlohmann::json sweep_json(const SweepSpec& spec);

// "I/N" with 1 <= I <= N; the points of shard I are those whose index % N == I - 1.
struct Shard {
  int index = 1, count = 1;
  bool holds(int point) const { return point % count == index - 1; }
};
Shard parse_shard(const std::string& text);

}  // namespace cimsim::cli
