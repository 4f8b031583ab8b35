#include "sweep_results.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "child_process.h"
#include "cli_common.h"
#include "core/error.h"
#include "io/output_files.h"
#include "io/text_file.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;

// Energy components of `cimsim run`'s energy_pj, then the digital unit's.
const std::vector<std::string> kEnergyParts{"dac", "array", "adc", "shift_add", "leakage"};

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) { return fmt::format("{}", v); }

// One point's figures, from its stats.json, in the column order of results.csv.
struct PointFigures {
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::pair<std::string, std::vector<double>>> layers;  // name -> lo, hi, clip low, clip high
  nlohmann::json config;
};

PointFigures figures_of(const nlohmann::json& stats) {
  PointFigures f;
  const double images = std::max(1.0, stats.at("images").get<double>());
  auto& m = f.metrics;
  m.emplace_back("accuracy", stats.at("accuracy").get<double>());
  m.emplace_back("correct", stats.at("correct").get<double>());
  m.emplace_back("images", stats.at("images").get<double>());
  m.emplace_back("energy_per_image_pj", stats.at("energy_per_image_pj").get<double>());
  for (const std::string& part : kEnergyParts)
    m.emplace_back("energy_" + part + "_pj", stats.at("energy_pj").at(part).get<double>() / images);
  m.emplace_back("energy_digital_pj", stats.at("digital_energy_pj").get<double>() / images);
  m.emplace_back("cycles_per_image", stats.at("cycles_per_image").get<double>());
  m.emplace_back("latency_per_image_us", stats.at("latency_per_image_us").get<double>());
  m.emplace_back("images_per_second", stats.at("images_per_second").get<double>());
  m.emplace_back("tops_per_watt", stats.at("tops_per_watt").get<double>());
  double conversions = 0, low = 0, high = 0;
  for (const nlohmann::json& l : stats.at("layers")) {
    if (!l.contains("cim")) continue;
    const nlohmann::json& c = l["cim"];
    conversions += c.at("conversions").get<double>();
    low += c.at("clipped_low").get<double>();
    high += c.at("clipped_high").get<double>();
    const nlohmann::json& iv = c.at("adc_interval");
    f.layers.emplace_back(
        l.at("name").get<std::string>(),
        std::vector<double>{iv.at("lo").get<double>(), iv.at("hi").get<double>(),
                            c.at("clip_rate_low").get<double>(), c.at("clip_rate_high").get<double>()});
  }
  m.emplace_back("clip_rate_low", conversions > 0 ? low / conversions : 0.0);
  m.emplace_back("clip_rate_high", conversions > 0 ? high / conversions : 0.0);
  f.config = stats.at("config");
  return f;
}

const std::vector<std::string> kLayerColumns{"lo", "hi", "clip_rate_low", "clip_rate_high"};

struct Group {
  std::vector<std::string> values;
  std::vector<int> seeds_ok;
  int failed = 0;
  std::vector<double> accuracy, energy, latency, tops;
};

// Mean and sample standard deviation (n - 1; 0 for one value) of the deviations from the first
// value, so that equal values give exactly that value and 0.
double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0;
  for (double x : v) s += x - v[0];
  return v[0] + s / double(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  double s = 0, s2 = 0;
  for (double x : v) s += x - v[0], s2 += (x - v[0]) * (x - v[0]);
  const double n = double(v.size());
  return std::sqrt(std::max(0.0, (s2 - s * s / n) / (n - 1)));
}

}  // namespace

std::string point_dir(const std::string& dir, int index) {
  return (fs::path(dir) / "points" / fmt::format("{:06d}", index)).string();
}

nlohmann::json read_point_record(const std::string& dir, int index, const std::string& hash) {
  const fs::path record = fs::path(point_dir(dir, index)) / "point.json";
  if (!fs::exists(record)) return nullptr;
  try {
    nlohmann::json r = nlohmann::json::parse(read_text_file(record.string(), "cannot read the point record"));
    if (r.value("hash", "") != hash || !r.contains("status")) return nullptr;
    if (r["status"] == "ok") {  // its statistics must be whole: a damaged file reruns the point
      const std::string stats = point_dir(dir, index) + "/stats.json";
      if (!fs::exists(stats)) return nullptr;
      figures_of(nlohmann::json::parse(read_text_file(stats, "cannot read the point's statistics")));
    }
    return r;
  } catch (const std::exception&) {
    return nullptr;
  }
}

namespace {

// Every point's record and figures, and the metric and layer columns (layers in order of first
// appearance).
struct SweepPoints {
  std::vector<nlohmann::json> records;
  std::vector<PointFigures> figures;
  std::vector<std::string> metric_names, layer_names;
};

SweepPoints collect_points(const std::string& dir, const nlohmann::json& points,
                           const std::vector<int>& indices) {
  SweepPoints s;
  for (int index : indices) {
    const nlohmann::json& p = points.at(std::size_t(index));
    nlohmann::json r = read_point_record(dir, index, p.at("hash").get<std::string>());
    if (r.is_null())
      throw std::runtime_error("sweep results: point " + std::to_string(index) + " has no record");
    PointFigures f;
    if (r.at("status") == "ok") {
      const std::string stats_path = point_dir(dir, index) + "/stats.json";
      f = figures_of(nlohmann::json::parse(read_text_file(stats_path, "cannot read the point's statistics")));
      for (const auto& [name, v] : f.layers)
        if (std::find(s.layer_names.begin(), s.layer_names.end(), name) == s.layer_names.end())
          s.layer_names.push_back(name);
    }
    s.records.push_back(r);
    s.figures.push_back(std::move(f));
  }
  for (const auto& f : s.figures)
    if (!f.metrics.empty()) {
      for (const auto& [name, v] : f.metrics) s.metric_names.push_back(name);
      break;
    }
  return s;
}

// results.json's row of one point.
nlohmann::json point_row(int index, const nlohmann::json& p, const nlohmann::json& r, const PointFigures& f,
                         bool ok) {
  nlohmann::json row = {
      {"point", index},         {"values", p.at("values")},       {"seed", p.at("seed")},
      {"model", p.at("model")}, {"status", ok ? "ok" : "failed"}, {"error", r.value("error", "")}};
  if (ok) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [name, v] : f.metrics) metrics[name] = v;
    row["metrics"] = metrics;
    nlohmann::json lj = nlohmann::json::array();
    for (const auto& [name, v] : f.layers)
      lj.push_back(
          {{"name", name}, {"lo", v[0]}, {"hi", v[1]}, {"clip_rate_low", v[2]}, {"clip_rate_high", v[3]}});
    row["layers"] = lj;
    row["config"] = f.config;
  }
  return row;
}

// results.csv, one row a point; the rows of results.json; the points grouped by their values.
struct PointRows {
  nlohmann::json rows = nlohmann::json::array();
  std::vector<Group> groups;
  int failed = 0;
};

PointRows write_results_csv(const std::string& path, const std::string& shown,
                            const std::vector<std::string>& params, const nlohmann::json& points,
                            const std::vector<int>& indices, const SweepPoints& s) {
  std::ofstream csv(path);
  csv << "point";
  for (const std::string& p : params) csv << "," << csv_field(p);
  csv << ",seed,status";
  for (const std::string& m : s.metric_names) csv << "," << m;
  for (const std::string& l : s.layer_names)
    for (const std::string& c : kLayerColumns) csv << "," << csv_field(l + "." + c);
  csv << ",error\n";
  PointRows out;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const nlohmann::json& p = points.at(std::size_t(indices[i]));
    const nlohmann::json& r = s.records[i];
    const PointFigures& f = s.figures[i];
    const bool ok = r.at("status") == "ok";
    out.failed += ok ? 0 : 1;
    const std::vector<std::string> values = p.at("values").get<std::vector<std::string>>();
    csv << indices[i];
    for (const std::string& v : values) csv << "," << csv_field(v);
    csv << "," << p.at("seed").get<uint64_t>() << "," << (ok ? "ok" : "failed");
    std::map<std::string, double> by_name(f.metrics.begin(), f.metrics.end());
    for (const std::string& m : s.metric_names) csv << "," << (ok ? number(by_name.at(m)) : "");
    std::map<std::string, std::vector<double>> layers(f.layers.begin(), f.layers.end());
    for (const std::string& l : s.layer_names)
      for (std::size_t c = 0; c < kLayerColumns.size(); ++c)
        csv << "," << (layers.count(l) ? number(layers[l][c]) : "");
    csv << "," << csv_field(r.value("error", "")) << "\n";
    out.rows.push_back(point_row(indices[i], p, r, f, ok));

    auto g = std::find_if(out.groups.begin(), out.groups.end(),
                          [&](const Group& x) { return x.values == values; });
    if (g == out.groups.end()) {
      out.groups.push_back(Group{values, {}, 0, {}, {}, {}, {}});
      g = out.groups.end() - 1;
    }
    if (!ok) {
      ++g->failed;
      continue;
    }
    g->seeds_ok.push_back(int(p.at("seed").get<uint64_t>()));
    g->accuracy.push_back(by_name.at("accuracy"));
    g->energy.push_back(by_name.at("energy_per_image_pj"));
    g->latency.push_back(by_name.at("latency_per_image_us"));
    g->tops.push_back(by_name.at("tops_per_watt"));
  }
  csv.close();
  if (csv.fail()) throw InputError(shown + ": cannot write (check the disk)");
  return out;
}

// summary.csv, one row per combination of values over its seeds; returns results.json's summary.
nlohmann::json write_summary_csv(const std::string& path, const std::string& shown,
                                 const std::vector<std::string>& params, const std::vector<Group>& groups) {
  std::ofstream summary(path);
  for (const std::string& p : params) summary << csv_field(p) << ",";
  summary << "seeds_ok,failed,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,energy_per_image_pj_mean,"
             "latency_per_image_us_mean,tops_per_watt_mean\n";
  nlohmann::json summary_rows = nlohmann::json::array();
  for (const Group& g : groups) {
    for (const std::string& v : g.values) summary << csv_field(v) << ",";
    const bool any = !g.accuracy.empty();
    const double lo = any ? *std::min_element(g.accuracy.begin(), g.accuracy.end()) : 0.0;
    const double hi = any ? *std::max_element(g.accuracy.begin(), g.accuracy.end()) : 0.0;
    summary << g.seeds_ok.size() << "," << g.failed;
    if (any)
      summary << "," << number(mean(g.accuracy)) << "," << number(stddev(g.accuracy)) << "," << number(lo)
              << "," << number(hi) << "," << number(mean(g.energy)) << "," << number(mean(g.latency)) << ","
              << number(mean(g.tops)) << "\n";
    else
      summary << ",,,,,,,\n";
    nlohmann::json s = {{"values", g.values}, {"seeds_ok", g.seeds_ok.size()}, {"failed", g.failed}};
    if (any)
      s.update({{"accuracy_mean", mean(g.accuracy)},
                {"accuracy_std", stddev(g.accuracy)},
                {"accuracy_min", lo},
                {"accuracy_max", hi},
                {"energy_per_image_pj_mean", mean(g.energy)},
                {"latency_per_image_us_mean", mean(g.latency)},
                {"tops_per_watt_mean", mean(g.tops)}});
    summary_rows.push_back(s);
  }
  summary.close();
  if (summary.fail()) throw InputError(shown + ": cannot write (check the disk)");
  return summary_rows;
}

}  // namespace

int write_sweep_results(const std::string& dir, const nlohmann::json& sweep, const std::vector<int>& indices,
                        const std::string& shard) {
  const nlohmann::json& points = sweep.at("points");
  std::vector<std::string> param_paths;
  for (const nlohmann::json& p : sweep.at("params")) param_paths.push_back(p.at("path").get<std::string>());
  const SweepPoints collected = collect_points(dir, points, indices);

  OutputFiles files;
  std::vector<std::string> temp;  // staged kSweepResultFiles
  for (const char* f : kSweepResultFiles) temp.push_back(files.stage(dir + "/" + f));
  const PointRows rows =
      write_results_csv(temp[0], dir + "/results.csv", param_paths, points, indices, collected);
  const nlohmann::json summary = write_summary_csv(temp[1], dir + "/summary.csv", param_paths, rows.groups);
  nlohmann::json doc = {{"format", "cimsim-sweep-results"},
                        {"version", 1},
                        {"name", sweep.at("name")},
                        {"sweep_hash", sweep.at("hash")},
                        {"params", param_paths},
                        {"points_in_sweep", points.size()},
                        {"complete", indices.size() == points.size()},
                        {"failed", rows.failed},
                        {"points", rows.rows},
                        {"summary", summary}};
  if (!shard.empty()) doc["shard"] = shard;
  write_json(temp[2], doc);

  // The plots, from results.json.
  run_plot_script("sweep_plot.py", {temp[2], temp[3], temp[4], temp[5]}, "sweep plots");
  for (std::size_t i = 3; i < temp.size(); ++i)
    if (!fs::exists(temp[i]))
      throw InputError(std::string("sweep plots: tools/sweep_plot.py wrote no ") + kSweepResultFiles[i]);
  files.commit();
  return rows.failed;
}

}  // namespace cimsim::cli
