// The results of a sweep directory (docs/sweep.md): results.csv (one row per point), summary.csv
// (mean and spread over the seeds of each parameter combination), results.json (the same plus the
// resolved configs) and the plots of tools/sweep_plot.py. Built only from DIR/sweep.json and the
// point records, so a merge of shards writes the same bytes as a single-machine run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cimsim::cli {

// The results files of a sweep directory, in the order they are written: the tables, then each
// plot as PNG and SVG.
inline constexpr const char* kSweepResultFiles[] = {
    "results.csv", "summary.csv",  "results.json", "accuracy.png", "accuracy.svg", "energy.png", "energy.svg",
    "pareto.png",  "pareto.svg",   "adc_cost.png", "adc_cost.svg", "area.png",     "area.svg"};
inline constexpr std::size_t kSweepTables = 3;  // the files before the plots

// DIR/points/NNNNNN: the directory of point `index`.
std::string point_dir(const std::string& dir, int index);

// The point's record (DIR/points/NNNNNN/point.json) if it exists, parses and has `hash`; else null.
nlohmann::json read_point_record(const std::string& dir, int index, const std::string& hash);

// Writes the results of the points `indices` of `sweep` (the parsed sweep.json) from the records
// under `dir` into `dir`; `shard` is "I/N" (empty for a whole sweep). Every listed point must have
// a record. Returns the number of failed points.
int write_sweep_results(const std::string& dir, const nlohmann::json& sweep, const std::vector<int>& indices,
                        const std::string& shard);

}  // namespace cimsim::cli
