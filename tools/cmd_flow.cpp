// `cimsim flow EXPERIMENT.yaml --out DIR`: the whole two-stage flow of docs/flow.md, step by step,
// each step a child process (`cimsim train`, `cimsim run`, `cimsim calibrate`) whose outputs are
// complete before its record DIR/<step>/step.json (with the hash of everything it depends on) is
// written; a rerun skips the steps whose record matches and redoes the rest.
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adc/calibration_file.h"
#include "child_process.h"
#include "cli_common.h"
#include "config/yaml_section.h"
#include "core/error.h"
#include "io/output_files.h"
#include "io/text_file.h"
#include "result_records.h"
#include "stats/stats_records.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;

struct FlowArgs {
  std::string experiment, out, stop_after;
};

// The experiment's flow section (docs/flow.md).
struct FlowConfig {
  std::string hw;     // resolved path
  std::string model;  // resolved path of a bundle to start from (an import), or "" (train fp32 first)
  std::string method = "mse";
  double percentile = 99.99;
  bool zero_level = false;  // calibration.zero_level: cimsim calibrate --zero-level
  int64_t calibration_images = 1000, stats_images = 1000, final_images = -1;
  uint64_t seed = 1;
};

// A YAML node in a canonical text (key order as written; comments and layout do not matter).
std::string canonical(const YAML::Node& node) {
  if (!node) return "~";
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

FlowConfig read_flow(const YAML::Node& root, const std::string& path) {
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  YamlSection top(root, "", source);
  YamlSection s = top.child("flow");
  s.declare({"hw", "model", "calibration", "stats_images", "final_images", "seed"});
  FlowConfig f;
  // A relative path is relative to the experiment file's directory.
  auto resolved = [&](const fs::path& p) {
    return p.is_absolute() ? p.string() : (fs::path(path).parent_path() / p).lexically_normal().string();
  };
  const fs::path hw = s.text("hw");
  f.hw = resolved(hw);
  if (!fs::exists(f.hw))
    s.fail("hw", "'" + hw.string() + "' does not exist", "give a hardware YAML (configs/hw/)");
  if (s.has("model")) {
    const fs::path model = s.text("model");
    f.model = resolved(model);
    if (!fs::exists(fs::path(f.model) / "model.yaml"))
      s.fail("model", "'" + model.string() + "' is not a model bundle (no model.yaml)",
             "give the directory cimsim import wrote, or leave model out to train from fp32");
  }
  YamlSection c = s.child("calibration", true);
  c.declare({"method", "percentile", "zero_level", "images"});
  f.method = c.choice_or("method", calibration_method_names(), "mse");
  f.percentile = c.real_or("percentile", 50.0, 100.0, 99.99);
  f.zero_level = c.boolean_or("zero_level", false);
  f.calibration_images = c.integer_or("images", 1, 1 << 30, 1000);
  c.finish();
  f.stats_images = s.integer_or("stats_images", 1, 1 << 30, 1000);
  f.final_images = s.integer_or("final_images", 1, 1 << 30, -1);  // -1: the whole test set
  f.seed = uint64_t(s.integer_or("seed", 0, 1000000000, 1));
  s.finish();
  return f;
}

// The experiment's data set as cimsim run's --data SPEC for `split` (docs/training.md, data).
std::string data_spec(const YAML::Node& root, const std::string& split) {
  const YAML::Node d = root["data"];
  auto text = [&](const char* key) {
    return d && d[key] && d[key].IsScalar() ? d[key].Scalar() : std::string();
  };
  const std::string set = text("set").empty() ? "fashion-mnist" : text("set");
  if (set == "npy") {
    if (text(split.c_str()).empty())
      throw InputError("data." + split + ": an npy experiment names each split's files; write " + split +
                       ": IMAGES.npy,LABELS.npy");
    return "npy:" + text(split.c_str());
  }
  return text("path").empty() ? set : set + ":" + text("path");
}

class Flow {
 public:
  Flow(std::string dir, std::string stop_after) : dir_(std::move(dir)), stop_after_(std::move(stop_after)) {}

  // Runs `step` unless its record says it is complete with the same hash and none of the steps
  // whose outputs it reads (`inputs`) ran in this invocation. Returns false when the
  // flow must stop after it (--stop-after).
  bool step(const std::string& name, const std::string& hash, const std::vector<std::string>& inputs,
            const std::vector<std::string>& args, const std::vector<std::string>& outputs) {
    const fs::path step_dir = fs::path(dir_) / name;
    const fs::path record = step_dir / "step.json";
    bool current = false;
    if (fs::exists(record)) {
      try {
        const nlohmann::json r =
            nlohmann::json::parse(read_text_file(record.string(), "cannot read the step record"));
        current = r.value("hash", "") == hash;
      } catch (const nlohmann::json::exception&) {
        current = false;
      }
      for (const std::string& o : outputs) current = current && fs::exists(o);
    }
    // A step whose input steps ran in this invocation reads rewritten files: it runs too.
    for (const std::string& input : inputs)
      current = current && std::find(ran_.begin(), ran_.end(), input) == ran_.end();
    if (current) {
      spdlog::info("flow: {} is complete and current ({}), skipped", name, hash);
      skipped_.push_back(name);
    } else {
      spdlog::info("flow: {} ...", name);
      const auto t0 = std::chrono::steady_clock::now();
      fs::remove_all(step_dir);
      fs::create_directories(step_dir);
      const std::string log = (step_dir / "log.txt").string();
      if (const std::string error = run_self(args, log); !error.empty())
        throw InputError("flow step " + name + " failed (" + log + "): " + error);
      for (const std::string& o : outputs)
        if (!fs::exists(o)) throw std::runtime_error("flow step " + name + " did not write " + o);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      write_json_file(record.string(), {{"step", name}, {"hash", hash}, {"seconds", seconds}});
      spdlog::info("flow: {} done in {:.1f} s", name, seconds);
      ran_.push_back(name);
    }
    return name != stop_after_;
  }

  std::string path(const std::string& step, const std::string& file) const {
    return (fs::path(dir_) / step / file).string();
  }
  const std::vector<std::string>& ran() const { return ran_; }
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  std::string dir_, stop_after_;
  std::vector<std::string> ran_, skipped_;
};

int flow(const FlowArgs& args) {
  const std::string text = read_text_file(args.experiment, "cannot read the experiment file; check the path");
  const YAML::Node root = load_yaml_text(text, args.experiment);
  const FlowConfig f = read_flow(root, args.experiment);
  if (!f.model.empty() && args.stop_after == "fp32")
    throw InputError("--stop-after fp32: " + args.experiment +
                     " starts from a bundle (flow.model), so there is no fp32 step; stop after qat or later");
  const std::string hw_text = read_text_file(f.hw, "cannot read the hardware config; check the path");
  static const std::vector<std::string> kSteps{"fp32", "qat", "calibrate", "stats", "cim", "final", "report"};
  if (!args.stop_after.empty() && std::find(kSteps.begin(), kSteps.end(), args.stop_after) == kSteps.end())
    throw InputError("--stop-after " + args.stop_after +
                     ": not a step; choose fp32, qat, calibrate, stats, cim, final or report");
  // What each step depends on: the experiment's common sections, its own section, and its inputs' hashes.
  std::string common;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key != "flow" && key != "fp32" && key != "qat" && key != "cim")
      common += key + "=" + canonical(kv.second) + ";";
  }
  const std::string hw_hash = hash_of(hw_text);
  // With flow.model the network is that bundle (an import): no fp32 step, stage 1 starts from it.
  const std::string h_fp32 = f.model.empty() ? hash_of("fp32|" + common + canonical(root["fp32"]))
                                             : hash_of("model|" + common + bundle_hash(load_model_bundle(f.model)));
  const std::string h_qat = hash_of("qat|" + h_fp32 + canonical(root["qat"]));
  const std::string seed = std::to_string(f.seed);
  const std::string h_calib =
      hash_of("calibrate|" + h_qat + hw_hash + f.method + std::to_string(f.percentile) +
              std::to_string(f.calibration_images) + seed + (f.zero_level ? "|zero_level" : ""));
  const std::string h_stats = hash_of("stats|" + h_calib + hw_hash + std::to_string(f.stats_images) + seed);
  const std::string h_cim = hash_of("cim|" + h_qat + h_stats + h_calib + hw_hash + canonical(root["cim"]));
  const std::string h_final = hash_of("final|" + h_cim + hw_hash + std::to_string(f.final_images) + seed);
  const std::string h_report = hash_of("report|" + h_final);

  Flow flow(args.out, args.stop_after);
  const std::string& e = args.experiment;
  std::vector<std::string> final_limit;
  if (f.final_images > 0) final_limit = {"--limit", std::to_string(f.final_images)};
  if (f.model.empty() && !flow.step("fp32", h_fp32, {}, {"train", "--config", e, "--out", flow.path("fp32", "run")},
                                    {flow.path("fp32", "run/fp32.ckpt")}))
    return 0;
  if (!flow.step("qat", h_qat, {"fp32"},
                 {"train", "--config", e, "--out", flow.path("qat", "run"), "--stage", "qat", "--from",
                  f.model.empty() ? flow.path("fp32", "run") : f.model, "--hw", f.hw},
                 {flow.path("qat", "run/bundle/model.yaml")}))
    return 0;
  const std::string qat_bundle = flow.path("qat", "run/bundle");
  std::vector<std::string> calibrate_args{
      "calibrate", "-q", "--hw", f.hw, "--model", qat_bundle, "--data", data_spec(root, "train"), "--limit",
      std::to_string(f.calibration_images), "--method", f.method, "--percentile", std::to_string(f.percentile),
      "--seed", seed, "--out", flow.path("calibrate", "calib.yaml")};
  if (f.zero_level) calibrate_args.push_back("--zero-level");
  if (!flow.step("calibrate", h_calib, {"qat"}, calibrate_args, {flow.path("calibrate", "calib.yaml")})) return 0;
  if (!flow.step("stats", h_stats, {"qat", "calibrate"},
                 {"run", "-q", "--hw", f.hw, "--model", qat_bundle, "--data", data_spec(root, "train"), "--split",
                  "train", "--limit",
                  std::to_string(f.stats_images), "--seed", seed, "--calib",
                  flow.path("calibrate", "calib.yaml"), "--stats", flow.path("stats", "stats.json")},
                 {flow.path("stats", "stats.json")}))
    return 0;
  if (!flow.step("cim", h_cim, {"qat", "stats", "calibrate"},
                 {"train", "--config", e, "--out", flow.path("cim", "run"), "--stage", "cim", "--from",
                  flow.path("qat", "run"), "--hw", f.hw, "--hw-stats", flow.path("stats", "stats.json"),
                  "--calib", flow.path("calibrate", "calib.yaml")},
                 {flow.path("cim", "run/cim-bundle/model.yaml")}))
    return 0;
  std::vector<std::string> final_args{"run",     "-q",
                                      "--data",  data_spec(root, "test"),
                                      "--hw",    f.hw,
                                      "--model", flow.path("cim", "run/cim-bundle"),
                                      "--seed",  seed,
                                      "--out",   flow.path("final", "run")};
  final_args.insert(final_args.end(), final_limit.begin(), final_limit.end());
  if (!flow.step("final", h_final, {"cim"}, final_args, {flow.path("final", "run/stats.json")})) return 0;
  // The report (markdown, JSON, PNG): `cimsim flow-report DIR`, a step like the others.
  flow.step("report", h_report, {"fp32", "qat", "calibrate", "cim", "final"}, {"flow-report", args.out},
            {flow.path("report", "report.md"), flow.path("report", "report.json"),
             flow.path("report", "report.png")});
  spdlog::info("flow: ran {} step(s), skipped {}; report in {}", flow.ran().size(), flow.skipped().size(),
               flow.path("report", "report.md"));
  return 0;
}

// The test accuracy of the epoch `stage` ended with, from a trainer's run directory (-1 if absent): its
// last epoch's, or, when the stage chose by held-out accuracy (select: best left <stage>-last.ckpt),
// the epoch of the highest holdout_acc, the first of equals (docs/training.md).
double stage_test_accuracy(const std::string& run_dir, const std::string& stage) {
  std::ifstream in(run_dir + "/metrics.csv");
  const bool best = fs::exists(run_dir + "/" + stage + "-last.ckpt");
  double acc = -1, best_holdout = -1;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cols.push_back(c);
    if (cols.size() < 5 || cols[1] != stage) continue;
    if (!best) {
      acc = std::stod(cols[4]);
    } else if (cols.size() >= 8 && !cols[7].empty() && std::stod(cols[7]) > best_holdout) {
      best_holdout = std::stod(cols[7]);
      acc = std::stod(cols[4]);
    }
  }
  return acc;
}

int flow_report(const std::string& dir) {
  Flow flow(dir, "");
  const std::string stats_path = flow.path("final", "run/stats.json");
  const RunStats final_stats = load_run_stats(stats_path, stats_path + " (rerun the flow)");
  const CalibrationFile calib = load_calibration(flow.path("calibrate", "calib.yaml"));
  FlowReport report;
  report.model = final_stats.model;
  report.hw = final_stats.inputs.hw;
  FlowFinal& r = report.final;
  r.accuracy = final_stats.accuracy;
  r.correct = final_stats.correct;
  r.images = final_stats.images;
  r.cycles_per_image = final_stats.cycles_per_image;
  r.latency_per_image_us = final_stats.latency_per_image_us;
  r.energy_per_image_pj = final_stats.energy_per_image_pj;
  r.energy_pj = final_stats.energy_pj;
  r.tops_per_watt = final_stats.tops_per_watt;
  TrainerAccuracy& t = report.trainer_test_accuracy;
  t.fp32 = stage_test_accuracy(flow.path("fp32", "run"), "fp32");
  t.qat = stage_test_accuracy(flow.path("qat", "run"), "qat");
  t.cim = stage_test_accuracy(flow.path("cim", "run"), "cim");
  report.calibration.method = calibration_method_name(calib.method);
  for (const LayerCalibration& l : calib.layers) report.calibration.layers[l.name] = {l.lo, l.hi};

  OutputFiles files;
  const std::string json_temp = files.stage(flow.path("report", "report.json"));
  const std::string md_temp = files.stage(flow.path("report", "report.md"));
  const std::string png_temp = files.stage(flow.path("report", "report.png"));
  write_json(json_temp, to_json_record(report));
  std::ofstream md(md_temp);
  md << "# cimsim flow report: " << report.model << " on " << report.hw
     << "\n\n| quantity | value |\n|---|---|\n";
  md << fmt::format("| top-1 accuracy (cimsim run, {} images) | {:.2f}% ({}/{}) |\n", r.images,
                    100 * r.accuracy, r.correct, r.images);
  md << fmt::format("| cycles per image | {} |\n", r.cycles_per_image);
  md << fmt::format("| latency per image | {:.2f} us |\n", r.latency_per_image_us);
  md << fmt::format("| energy per image | {:.1f} nJ |\n", 1e-3 * r.energy_per_image_pj);
  md << fmt::format("| TOPS/W | {:.3f} |\n", r.tops_per_watt);
  md << fmt::format("\nTrainer test accuracy at the end of each stage: fp32 {}, qat {:.2f}%, cim {:.2f}%.\n",
                    t.fp32 < 0 ? std::string("none (started from a bundle, flow.model)")
                               : fmt::format("{:.2f}%", 100 * t.fp32),
                    100 * t.qat, 100 * t.cim);
  md << "\nCalibrated ADC intervals (" << report.calibration.method
     << "), where stage 2 started:\n\n| layer | lo | hi |\n|---|---|---|\n";
  for (const auto& [name, iv] : report.calibration.layers)
    md << fmt::format("| {} | {:.4f} | {:.4f} |\n", name, iv.lo, iv.hi);
  md << "\n![accuracy and energy](report.png)\n";
  md.close();
  run_plot_script("flow_report.py", {json_temp, png_temp}, "flow report");
  if (!fs::exists(png_temp)) throw InputError("flow report: the plot script wrote no " + png_temp);
  files.commit();
  return 0;
}

}  // namespace

std::function<int()> add_flow_report_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("flow-report", "the report of a cimsim flow directory (its last step)");
  cmd->group("");  // internal: run by cimsim flow
  cmd->add_option("dir", *dir, "flow directory")->required();
  return [cmd, dir]() { return cmd->parsed() ? flow_report(*dir) : 0; };
}

std::function<int()> add_flow_command(CLI::App& app) {
  auto args = std::make_shared<FlowArgs>();
  CLI::App* cmd =
      app.add_subcommand("flow", "fp32, QAT, statistics, calibration, stage 2, final simulation, report");
  cmd->fallthrough();
  cmd->add_option("experiment", args->experiment, "experiment YAML with a flow section (docs/flow.md)")
      ->required();
  cmd->add_option("--out", args->out, "flow directory (a rerun continues it)")->required();
  cmd->add_option("--stop-after", args->stop_after,
                  "stop after this step, as an interruption would (for testing)");
  return [cmd, args]() { return cmd->parsed() ? flow(*args) : 0; };
}

}  // namespace cimsim::cli
