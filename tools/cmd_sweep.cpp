// `cimsim sweep SWEEP.yaml --out DIR`: every point of a design-space sweep (tools/sweep_spec.h) as
// child processes (`cimsim calibrate` when the sweep calibrates, then `cimsim run`), N at a time;
// each point's record DIR/points/NNNNNN/point.json is written after its outputs, so a rerun runs only
// the points that are missing, failed or changed. `cimsim sweep-merge` joins shard directories.
#include <sched.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "child_process.h"
#include "cli_common.h"
#include "core/error.h"
#include "io/text_file.h"
#include "stats/stats_records.h"
#include "sweep_results.h"
#include "sweep_spec.h"

namespace cimsim::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SweepArgs {
  std::string file, out, shard;
  int jobs = 1;
  bool resume = false;
};

std::string duration_text(double seconds) {
  const int64_t s = int64_t(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s / 60) % 60);
}

std::string describe(const SweepSpec& spec, const SweepPoint& p) {
  std::string d;
  for (std::size_t i = 0; i < spec.params.size(); ++i)
    d += spec.params[i].path + "=" +
         (spec.params[i].path == kModelParam ? fs::path(p.values[i]).filename().string() : p.values[i]) + " ";
  return d + "seed=" + std::to_string(p.seed);
}

// The child commands of one point.
std::vector<std::string> calibrate_command(const SweepSpec& s, const SweepPoint& p, const std::string& dir) {
  std::vector<std::string> a{"calibrate",    "-q",
                             "--hw",         s.hw,
                             "--model",      p.model,
                             "--data",       s.data,
                             "--split",      s.calibration.split,
                             "--limit",      std::to_string(s.calibration.limit),
                             "--method",     s.calibration.method,
                             "--percentile", fmt::format("{}", s.calibration.percentile),
                             "--batch",      std::to_string(s.batch),
                             "--seed",       std::to_string(p.seed),
                             "--out",        dir + "/calib.yaml"};
  if (s.calibration.zero_level) a.push_back("--zero-level");
  for (const std::string& o : p.overrides) a.insert(a.end(), {"--set", o});
  return a;
}

std::vector<std::string> run_command(const SweepSpec& s, const SweepPoint& p, const std::string& dir) {
  std::vector<std::string> a{"run",     "-q",
                             "--hw",    s.hw,
                             "--model", p.model,
                             "--data",  s.data,
                             "--split", s.split,
                             "--batch", std::to_string(s.batch),
                             "--seed",  std::to_string(p.seed),
                             "--stats", dir + "/stats.json"};
  if (s.limit > 0) a.insert(a.end(), {"--limit", std::to_string(s.limit)});
  if (p.calibrate) a.insert(a.end(), {"--calib", dir + "/calib.yaml"});
  for (const std::string& o : p.overrides) a.insert(a.end(), {"--set", o});
  return a;
}

void write_record(const std::string& dir, const SweepPoint& p, const std::string& error, double seconds) {
  write_json_file(dir + "/point.json", {{"point", p.index},
                                        {"hash", p.hash},
                                        {"status", error.empty() ? "ok" : "failed"},
                                        {"error", error},
                                        {"seconds", seconds}});
}

// The points still to run, N at a time; each runs its calibration (if any) then its simulation.
class PointPool {
 public:
  PointPool(const SweepSpec& spec, std::string out, int jobs)
      : spec_(spec), out_(std::move(out)), jobs_(jobs) {
    // Each child gets its share of the cores unless the user chose the thread count.
    if (!std::getenv("OMP_NUM_THREADS")) {
      // The CPUs this process may run on (a Slurm or cgroup allocation), not the machine's.
      cpu_set_t allowed;
      const int cores = ::sched_getaffinity(0, sizeof allowed, &allowed) == 0
                            ? std::max(1, CPU_COUNT(&allowed))
                            : int(std::max(1u, std::thread::hardware_concurrency()));
      env_.emplace_back("OMP_NUM_THREADS", std::to_string(std::max(1, cores / jobs)));
    }
  }

  // Runs `todo`; returns the number that failed.
  int run(const std::vector<int>& todo) {
    const auto start = Clock::now();
    std::size_t next = 0, done = 0;
    int failed = 0;
    while (next < todo.size() || !running_.empty()) {
      while (next < todo.size() && int(running_.size()) < jobs_) start_point(todo[next++]);
      int status = 0;
      const pid_t pid = ::wait(&status);
      if (pid < 0) throw std::runtime_error("sweep: wait() failed");
      auto it = running_.find(pid);
      if (it == running_.end()) continue;
      Running r = it->second;
      running_.erase(it);
      const SweepPoint& p = spec_.points[std::size_t(r.point)];
      const std::string dir = point_dir(out_, r.point);
      std::string error = child_error(status, r.log);
      if (!error.empty()) error = r.step + ": " + error;
      if (error.empty() && r.step == "calibrate") {
        start_step(p, "run", run_command(spec_, p, dir), r.started);
        continue;
      }
      std::string result;  // the accuracy, from statistics that must be whole
      if (error.empty()) {
        try {
          const RunStats stats = load_run_stats(dir + "/stats.json", "the point's statistics");
          result = fmt::format("{:.2f}%", 100.0 * stats.accuracy);
        } catch (const std::exception&) {
          error = "run: exited 0 but its stats.json is missing or damaged";
        }
      }
      if (!error.empty()) result = error;
      const double seconds = std::chrono::duration<double>(Clock::now() - r.started).count();
      write_record(dir, p, error, seconds);
      while (next < todo.size() && int(running_.size()) < jobs_) start_point(todo[next++]);
      ++done;
      failed += error.empty() ? 0 : 1;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double left = elapsed / double(done) * double(todo.size() - done);
      spdlog::info(
          "sweep: {}/{} done{}, {} running, {} elapsed, about {} left | point {} ({}): {} in {:.1f} s", done,
          todo.size(), failed ? fmt::format(" ({} failed)", failed) : "", running_.size(),
          duration_text(elapsed), duration_text(left), r.point, describe(spec_, p), result, seconds);
    }
    return failed;
  }

 private:
  struct Running {
    int point;
    std::string step, log;
    Clock::time_point started;
  };

  void start_point(int index) {
    const SweepPoint& p = spec_.points[std::size_t(index)];
    const std::string dir = point_dir(out_, index);
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (p.calibrate)
      start_step(p, "calibrate", calibrate_command(spec_, p, dir), Clock::now());
    else
      start_step(p, "run", run_command(spec_, p, dir), Clock::now());
  }

  void start_step(const SweepPoint& p, const std::string& step, const std::vector<std::string>& args,
                  Clock::time_point started) {
    const std::string log = point_dir(out_, p.index) + "/" + step + ".log";
    running_[spawn_self(args, log, env_)] = Running{p.index, step, log, started};
  }

  const SweepSpec& spec_;
  std::string out_;
  int jobs_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::map<pid_t, Running> running_;
};

// Finished points whose records sit under another index (values or seeds were added to the sweep
// file, so the points were renumbered): moved to their new index, so that they do not run again.
void move_renumbered_points(const std::string& out, const SweepSpec& spec, const std::vector<int>& mine) {
  const fs::path points = fs::path(out) / "points";
  if (!fs::is_directory(points)) return;
  std::map<std::string, fs::path> by_hash;  // the directories holding ok records
  for (const auto& entry : fs::directory_iterator(points)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "point.json")) continue;
    try {
      const nlohmann::json r = nlohmann::json::parse(
          read_text_file((entry.path() / "point.json").string(), "cannot read the point record"));
      if (r.value("status", "") == "ok") by_hash[r.value("hash", "")] = entry.path();
    } catch (const std::exception&) {
      continue;  // a damaged record: its point runs again
    }
  }
  std::vector<std::pair<fs::path, int>> moves;  // staged directory, new index
  for (int index : mine) {
    const SweepPoint& p = spec.points[std::size_t(index)];
    const auto it = by_hash.find(p.hash);
    if (it == by_hash.end() || it->second == fs::path(point_dir(out, index))) continue;
    // Two passes (away to a staging name, then into place), so that a record can move into a
    // directory another record is leaving; a staged one left by an interruption is found again.
    const fs::path staged = points / ("moving-" + p.hash);
    if (it->second != staged) fs::rename(it->second, staged);
    moves.emplace_back(staged, index);
  }
  for (const auto& [staged, index] : moves) {
    const std::string to = point_dir(out, index);
    fs::remove_all(to);
    fs::rename(staged, to);
    nlohmann::json r =
        nlohmann::json::parse(read_text_file(to + "/point.json", "cannot read the point record"));
    r["point"] = index;
    write_json_file(to + "/point.json", r);
  }
  if (!moves.empty())
    spdlog::info("sweep: {} finished point(s) renumbered by the changed sweep file kept", moves.size());
}

int sweep(const SweepArgs& args) {
  if (args.out.empty()) throw InputError("--out: empty; give the sweep directory");
  const Shard shard = parse_shard(args.shard);
  if (args.resume && !fs::exists(fs::path(args.out) / "sweep.json"))
    throw InputError("--resume: " + args.out +
                     " holds no sweep (no sweep.json); run without --resume to start");
  const SweepSpec spec = load_sweep(args.file);
  if (fs::exists(args.out) && !fs::is_directory(args.out))
    throw InputError("--out " + args.out + ": a file, not a directory; give a directory for the sweep");
  std::vector<int> mine, todo;
  for (const SweepPoint& p : spec.points)
    if (shard.holds(p.index)) mine.push_back(p.index);
  // Results of an earlier run describe other points: removed before anything changes, so that an
  // interrupted run leaves none that look complete.
  for (const char* f : kSweepResultFiles) fs::remove(fs::path(args.out) / f);
  move_renumbered_points(args.out, spec, mine);
  for (int index : mine) {
    const nlohmann::json r = read_point_record(args.out, index, spec.points[std::size_t(index)].hash);
    if (r.is_null() || r.value("status", "") != "ok") todo.push_back(index);
  }
  const nlohmann::json doc = sweep_json(spec);
  write_json_file(args.out + "/sweep.json", doc);
  spdlog::info("sweep '{}': {} points{}, {} already done, running {} with {} job(s)", spec.name,
               spec.points.size(),
               args.shard.empty() ? "" : fmt::format(" ({} in shard {})", mine.size(), args.shard),
               mine.size() - todo.size(), todo.size(), args.jobs);
  PointPool pool(spec, args.out, args.jobs);
  pool.run(todo);
  const int failed = write_sweep_results(args.out, doc, mine, args.shard.empty() ? "" : args.shard);
  spdlog::info("sweep: results in {}/results.csv, summary.csv, results.json and accuracy/energy/pareto/adc_cost/area .png and .svg",
               args.out);
  if (failed > 0)
    throw std::runtime_error(
        fmt::format("sweep: {} of {} points failed (their errors are in {}/results.csv; "
                    "rerun the same command to retry them)",
                    failed, mine.size(), args.out));
  return 0;
}

// Joins shard directories of one sweep into `out`: every point from the first directory that has a
// current record of it.
int sweep_merge(const std::vector<std::string>& dirs, const std::string& out) {
  nlohmann::json doc;
  std::string first;
  if (out.empty() || (fs::exists(out) && !fs::is_directory(out)))
    throw InputError("--out '" + out + "': not a directory; give the directory for the merged sweep");
  for (const std::string& d : dirs) {
    const std::string file = d + "/sweep.json";
    nlohmann::json s;
    try {
      s = nlohmann::json::parse(
          read_text_file(file, "is not a sweep directory (no sweep.json); give the --out of cimsim sweep"));
      if (s.value("format", "") != "cimsim-sweep" || s.value("version", 0) != 1 || !s.contains("hash") ||
          !s.contains("points") || !s.contains("params"))
        throw InputError(file +
                         ": not a version 1 sweep file of cimsim sweep; give the --out of cimsim sweep");
    } catch (const nlohmann::json::exception& e) {
      throw InputError(file + ": damaged (" + e.what() + "); rerun `cimsim sweep` into " + d);
    }
    if (doc.is_null()) {
      doc = s;
      first = d;
    } else if (s.at("hash") != doc.at("hash")) {
      throw InputError(d + ": a different sweep than " + first + " (sweep hash " +
                       s.at("hash").get<std::string>() + " against " + doc.at("hash").get<std::string>() +
                       "); merge shards of one sweep file");
    }
  }
  std::vector<int> all, missing;
  std::map<int, std::string> source;
  for (const nlohmann::json& p : doc.at("points")) {
    const int index = p.at("point").get<int>();
    all.push_back(index);
    for (const std::string& d : dirs) {
      const nlohmann::json r = read_point_record(d, index, p.at("hash").get<std::string>());
      if (!r.is_null() && (!source.count(index) || r.value("status", "") == "ok")) source[index] = d;
      if (!r.is_null() && r.value("status", "") == "ok") break;
    }
    if (!source.count(index)) missing.push_back(index);
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 10; ++i)
      list += (i ? ", " : "") + std::to_string(missing[i]);
    throw InputError(
        fmt::format("sweep-merge: {} of {} points have no record in the given directories (points {}{}); "
                    "run the missing shards (or rerun them to finish) and merge again",
                    missing.size(), all.size(), list, missing.size() > 10 ? ", ..." : ""));
  }
  fs::create_directories(out);
  for (int index : all) {
    if (fs::equivalent(fs::path(source[index]), fs::path(out))) continue;
    const std::string to = point_dir(out, index);
    fs::remove_all(to);
    fs::create_directories(fs::path(to).parent_path());
    fs::copy(point_dir(source[index], index), to, fs::copy_options::recursive);
  }
  write_json_file(out + "/sweep.json", doc);
  const int failed = write_sweep_results(out, doc, all, "");
  spdlog::info("sweep-merge: {} points from {} directories into {}; {} failed", all.size(), dirs.size(), out,
               failed);
  return failed > 0 ? 1 : 0;
}

}  // namespace

std::function<int()> add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand("sweep", "run a design-space sweep (docs/sweep.md)");
  cmd->fallthrough();
  cmd->add_option("sweep", args->file, "sweep YAML (configs/sweeps/)")->required();
  cmd->add_option("--out", args->out, "sweep directory (a rerun runs only missing, failed or changed points)")
      ->required();
  cmd->add_option("--jobs", args->jobs, "points run at once (each gets cores / jobs threads)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--resume", args->resume, "continue the sweep in --out (which must exist)");
  cmd->add_option("--shard", args->shard, "I/N: run only the points with index % N == I - 1");
  return [cmd, args]() { return cmd->parsed() ? sweep(*args) : 0; };
}

std::function<int()> add_sweep_merge_command(CLI::App& app) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("sweep-merge", "join the shard directories of one sweep");
  cmd->fallthrough();
  cmd->add_option("dirs", *dirs, "the shards' --out directories")->required();
  cmd->add_option("--out", *out, "merged sweep directory")->required();
  return [cmd, dirs, out]() { return cmd->parsed() ? sweep_merge(*dirs, *out) : 0; };
}

}  // namespace cimsim::cli
