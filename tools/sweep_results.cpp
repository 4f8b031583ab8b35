#include "sweep_results.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "child_process.h"
#include "cli_common.h"
#include "core/error.h"
#include "io/output_files.h"
#include "io/text_file.h"
#include "result_records.h"
#include "stats/area.h"
#include "stats/energy.h"
#include "stats/stats_records.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) { return fmt::format("{}", v); }

// One point's figures, from its stats.json.
struct PointFigures {
  SweepMetrics metrics;
  std::vector<SweepLayerFigures> layers;
  HwConfig config;
};

PointFigures figures_of(const RunStats& stats) {
  PointFigures f;
  const double images = std::max(1.0, double(stats.images));
  SweepMetrics& m = f.metrics;
  m.accuracy = stats.accuracy;
  m.correct = double(stats.correct);
  m.images = double(stats.images);
  m.energy_per_image_pj = stats.energy_per_image_pj;
  m.energy_dac_pj = stats.energy_pj.dac / images;
  m.energy_array_pj = stats.energy_pj.array / images;
  m.energy_adc_pj = stats.energy_pj.adc / images;
  m.energy_shift_add_pj = stats.energy_pj.shift_add / images;
  m.energy_leakage_pj = stats.energy_pj.leakage / images;
  m.energy_digital_pj = stats.digital_energy_pj / images;
  m.energy_digital_leakage_pj = stats.digital_static_pj / images;
  m.energy_buffer_pj = stats.buffer_energy_pj / images;
  m.static_energy_pj = stats.static_energy_per_image_pj;
  m.dynamic_energy_pj = stats.dynamic_energy_per_image_pj;
  m.cycles_per_image = double(stats.cycles_per_image);
  m.latency_per_image_us = stats.latency_per_image_us;
  m.images_per_second = stats.images_per_second;
  m.tops_per_watt = stats.tops_per_watt;
  m.tops = stats.tops;
  m.adc_pj_per_conversion = adc_pj_per_conversion(stats.config);
  if (stats.config.area.given) m.adc_um2 = adc_um2(stats.config);
  if (stats.area) {
    m.chip_mm2 = stats.area->chip_mm2;
    m.tops_per_mm2 = stats.area->tops_per_mm2;
  }
  double conversions = 0, low = 0, high = 0;
  for (const NetworkLayerStats& l : stats.layers) {
    if (!l.cim) continue;
    const CimLayerStats& c = *l.cim;
    conversions += double(c.conversions);
    low += double(c.clipped_low);
    high += double(c.clipped_high);
    f.layers.push_back({l.name, c.adc_interval.lo, c.adc_interval.hi, c.clip_rate_low, c.clip_rate_high,
                        double(l.cycles_per_image), l.energy_per_image_pj});
  }
  m.clip_rate_low = conversions > 0 ? low / conversions : 0.0;
  m.clip_rate_high = conversions > 0 ? high / conversions : 0.0;
  f.config = stats.config;
  return f;
}

PointFigures point_figures(const std::string& dir, int index) {
  const std::string path = point_dir(dir, index) + "/stats.json";
  return figures_of(load_run_stats(path, "sweep point " + std::to_string(index) + ": " + path));
}

// The numbers of a record (SweepMetrics, SweepLayerFigures), named, in its list's order: the
// columns of results.csv (an optional one empty when absent).
struct NumberColumns {
  std::vector<std::pair<std::string, std::optional<double>>> columns;
  void operator()(const char* key, const double& value) { columns.emplace_back(key, value); }
  void operator()(const char* key, const std::optional<double>& value) { columns.emplace_back(key, value); }
  template <class F>
  void operator()(const char*, const F&) {}
};

template <class R>
std::vector<std::pair<std::string, std::optional<double>>> number_columns(const R& record) {
  NumberColumns c;
  const_cast<R&>(record).fields(c);
  return c.columns;
}

struct Group {
  std::vector<std::string> values;
  std::vector<int> seeds_ok;
  int failed = 0;
  std::vector<SweepMetrics> metrics;  // of the ok points
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
      if (!fs::exists(point_dir(dir, index) + "/stats.json")) return nullptr;
      point_figures(dir, index);
    }
    return r;
  } catch (const std::exception&) {
    return nullptr;
  }
}

namespace {

// Every point's row of results.json, and the layer columns (layers in order of first appearance).
struct SweepPoints {
  std::vector<SweepRow> rows;
  std::vector<std::string> layer_names;
};

SweepPoints collect_points(const std::string& dir, const nlohmann::json& points,
                           const std::vector<int>& indices) {
  SweepPoints s;
  for (int index : indices) {
    const nlohmann::json& p = points.at(std::size_t(index));
    const nlohmann::json r = read_point_record(dir, index, p.at("hash").get<std::string>());
    if (r.is_null())
      throw std::runtime_error("sweep results: point " + std::to_string(index) + " has no record");
    SweepRow& row = s.rows.emplace_back();
    row.point = index;
    row.values = p.at("values").get<std::vector<std::string>>();
    row.seed = p.at("seed").get<uint64_t>();
    row.model = p.at("model").get<std::string>();
    row.status = r.at("status") == "ok" ? "ok" : "failed";
    row.error = r.value("error", "");
    if (row.status != "ok") continue;
    PointFigures f = point_figures(dir, index);
    for (const SweepLayerFigures& l : f.layers)
      if (std::find(s.layer_names.begin(), s.layer_names.end(), l.name) == s.layer_names.end())
        s.layer_names.push_back(l.name);
    row.metrics = f.metrics;
    row.layers = std::move(f.layers);
    row.config = std::move(f.config);
  }
  return s;
}

// The points grouped by their values, in order of first appearance.
std::vector<Group> group_points(const std::vector<SweepRow>& rows) {
  std::vector<Group> groups;
  for (const SweepRow& row : rows) {
    auto g =
        std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.values == row.values; });
    if (g == groups.end()) {
      groups.push_back(Group{row.values, {}, 0, {}});
      g = groups.end() - 1;
    }
    if (!row.metrics) {
      ++g->failed;
      continue;
    }
    g->seeds_ok.push_back(int(row.seed));
    g->metrics.push_back(*row.metrics);
  }
  return groups;
}

// results.csv, one row a point.
void write_results_csv(const std::string& path, const std::string& shown,
                       const std::vector<std::string>& params, const SweepPoints& s) {
  std::ofstream csv(path);
  csv << "point";
  for (const std::string& p : params) csv << "," << csv_field(p);
  csv << ",seed,status";
  for (const std::string& m : field_names<SweepMetrics>()) csv << "," << m;
  const auto layer_columns = number_columns(SweepLayerFigures{});
  for (const std::string& l : s.layer_names)
    for (const auto& [column, unused] : layer_columns) csv << "," << csv_field(l + "." + column);
  csv << ",error\n";
  for (const SweepRow& row : s.rows) {
    csv << row.point;
    for (const std::string& v : row.values) csv << "," << csv_field(v);
    csv << "," << row.seed << "," << row.status;
    if (row.metrics)
      for (const auto& [name, v] : number_columns(*row.metrics)) csv << "," << (v ? number(*v) : "");
    else
      for (std::size_t i = 0; i < field_names<SweepMetrics>().size(); ++i) csv << ",";
    for (const std::string& name : s.layer_names) {
      const SweepLayerFigures* layer = nullptr;
      if (row.layers)
        for (const SweepLayerFigures& l : *row.layers)
          if (l.name == name) layer = &l;
      for (const auto& [column, v] : number_columns(layer ? *layer : SweepLayerFigures{}))
        csv << "," << (layer && v ? number(*v) : "");
    }
    csv << "," << csv_field(row.error) << "\n";
  }
  csv.close();
  if (csv.fail()) throw InputError(shown + ": cannot write (check the disk)");
}

// The means of summary.csv after the accuracy's spread: each a metric's mean over the ok points,
// left empty when one of them lacks it (chip_mm2 without an `area` section).
struct SummaryMean {
  const char* column;
  std::optional<double> SweepGroupSummary::*out;
  std::function<std::optional<double>(const SweepMetrics&)> metric;
};
const std::vector<SummaryMean>& summary_means() {
  static const std::vector<SummaryMean> means{
      {"energy_per_image_pj_mean", &SweepGroupSummary::energy_per_image_pj_mean,
       [](const SweepMetrics& m) { return m.energy_per_image_pj; }},
      {"latency_per_image_us_mean", &SweepGroupSummary::latency_per_image_us_mean,
       [](const SweepMetrics& m) { return m.latency_per_image_us; }},
      {"tops_per_watt_mean", &SweepGroupSummary::tops_per_watt_mean,
       [](const SweepMetrics& m) { return m.tops_per_watt; }},
      {"static_energy_pj_mean", &SweepGroupSummary::static_energy_pj_mean,
       [](const SweepMetrics& m) { return m.static_energy_pj; }},
      {"dynamic_energy_pj_mean", &SweepGroupSummary::dynamic_energy_pj_mean,
       [](const SweepMetrics& m) { return m.dynamic_energy_pj; }},
      {"images_per_second_mean", &SweepGroupSummary::images_per_second_mean,
       [](const SweepMetrics& m) { return m.images_per_second; }},
      {"chip_mm2_mean", &SweepGroupSummary::chip_mm2_mean, [](const SweepMetrics& m) { return m.chip_mm2; }},
      {"tops_per_mm2_mean", &SweepGroupSummary::tops_per_mm2_mean,
       [](const SweepMetrics& m) { return m.tops_per_mm2; }},
  };
  return means;
}

// summary.csv, one row per combination of values over its seeds; returns results.json's summary.
std::vector<SweepGroupSummary> write_summary_csv(const std::string& path, const std::string& shown,
                                                 const std::vector<std::string>& params,
                                                 const std::vector<Group>& groups) {
  std::ofstream summary(path);
  for (const std::string& p : params) summary << csv_field(p) << ",";
  summary << "seeds_ok,failed,accuracy_mean,accuracy_std,accuracy_min,accuracy_max";
  for (const SummaryMean& m : summary_means()) summary << "," << m.column;
  summary << "\n";
  std::vector<SweepGroupSummary> rows;
  for (const Group& g : groups) {
    for (const std::string& v : g.values) summary << csv_field(v) << ",";
    SweepGroupSummary& s = rows.emplace_back();
    s.values = g.values;
    s.seeds_ok = g.seeds_ok.size();
    s.failed = g.failed;
    summary << s.seeds_ok << "," << s.failed;
    if (!g.metrics.empty()) {
      std::vector<double> accuracy;
      for (const SweepMetrics& m : g.metrics) accuracy.push_back(m.accuracy);
      s.accuracy_mean = mean(accuracy);
      s.accuracy_std = stddev(accuracy);
      s.accuracy_min = *std::min_element(accuracy.begin(), accuracy.end());
      s.accuracy_max = *std::max_element(accuracy.begin(), accuracy.end());
      for (const SummaryMean& column : summary_means()) {
        std::vector<double> values;
        for (const SweepMetrics& m : g.metrics)
          if (const std::optional<double> v = column.metric(m)) values.push_back(*v);
        if (values.size() == g.metrics.size()) s.*column.out = mean(values);
      }
    }
    for (const std::optional<double>* v : {&s.accuracy_mean, &s.accuracy_std, &s.accuracy_min, &s.accuracy_max})
      summary << "," << (*v ? number(**v) : "");
    for (const SummaryMean& column : summary_means())
      summary << "," << (s.*column.out ? number(*(s.*column.out)) : "");
    summary << "\n";
  }
  summary.close();
  if (summary.fail()) throw InputError(shown + ": cannot write (check the disk)");
  return rows;
}

}  // namespace

int write_sweep_results(const std::string& dir, const nlohmann::json& sweep, const std::vector<int>& indices,
                        const std::string& shard) {
  const nlohmann::json& points = sweep.at("points");
  SweepResults doc;
  for (const nlohmann::json& p : sweep.at("params")) doc.params.push_back(p.at("path").get<std::string>());
  SweepPoints collected = collect_points(dir, points, indices);

  OutputFiles files;
  std::vector<std::string> temp;  // staged kSweepResultFiles
  for (const char* f : kSweepResultFiles) temp.push_back(files.stage(dir + "/" + f));
  write_results_csv(temp[0], dir + "/results.csv", doc.params, collected);
  doc.summary = write_summary_csv(temp[1], dir + "/summary.csv", doc.params, group_points(collected.rows));
  doc.name = sweep.at("name").get<std::string>();
  doc.sweep_hash = sweep.at("hash").get<std::string>();
  doc.points_in_sweep = points.size();
  doc.complete = indices.size() == points.size();
  for (const SweepRow& row : collected.rows) doc.failed += row.metrics ? 0 : 1;
  doc.points = std::move(collected.rows);
  if (!shard.empty()) doc.shard = shard;
  write_json(temp[2], to_json_record(doc));

  // The plots, from results.json: NAME=PATH for each plot file.
  std::vector<std::string> plot_args{temp[2]};
  for (std::size_t i = kSweepTables; i < temp.size(); ++i)
    plot_args.push_back(std::string(kSweepResultFiles[i]) + "=" + temp[i]);
  run_plot_script("sweep_plot.py", plot_args, "sweep plots");
  for (std::size_t i = kSweepTables; i < temp.size(); ++i)
    if (!fs::exists(temp[i]))
      throw InputError(std::string("sweep plots: tools/sweep_plot.py wrote no ") + kSweepResultFiles[i]);
  files.commit();
  return doc.failed;
}

}  // namespace cimsim::cli
