// `cimsim mvm`: one integer matrix-vector layer on the simulated macros.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "cli_common.h"
#include "config/hw_config.h"
#include "core/error.h"
#include "io/npy.h"
#include "io/output_files.h"
#include "mvm_run.h"
#include "stats/stats_records.h"
#include "vcd_trace.h"

namespace cimsim::cli {
namespace {

struct MvmArgs {
  std::string hw, weights, inputs, out, stats, trace, trace_window, trace_adcs, layer = "mvm";
  std::vector<std::string> overrides;
  uint64_t seed = 1;
  int batch = 4096;
};

template <typename Matrix>
Matrix to_int_matrix(const npy::Array& a, const std::string& path) {
  Matrix m(a.shape[0], a.shape[1]);
  for (int64_t r = 0; r < a.shape[0]; ++r) {
    for (int64_t c = 0; c < a.shape[1]; ++c) {
      const double v = a.values[std::size_t(r * a.shape[1] + c)];
      if (std::fabs(v) > double(std::numeric_limits<int32_t>::max())) {
        throw InputError(path + ": value at [" + std::to_string(r) + ", " + std::to_string(c) +
                         "] does not fit a 32-bit integer; it cannot be a quantized weight or input");
      }
      m(r, c) = int32_t(v);
    }
  }
  return m;
}

std::string percent(int64_t part, int64_t whole) {
  return whole ? fmt::format("{:.2f}%", 100.0 * double(part) / double(whole)) : "0%";
}

int run(const MvmArgs& args) {
  const auto wall_start = std::chrono::steady_clock::now();
  const HwConfig hw = load_hw_config(args.hw, args.overrides);
  warn_if_implausible_device(hw);
  warn_if_network_only_keys(hw);
  const auto weights =
      to_int_matrix<Eigen::MatrixXi>(npy::read_int_matrix(args.weights, "weights"), args.weights);
  const auto inputs = to_int_matrix<IntMatrix>(npy::read_int_matrix(args.inputs, "inputs"), args.inputs);
  validate_mvm_operands(hw, weights, inputs, args.weights, args.inputs);

  // Every result file is staged first and committed only when the whole run has succeeded.
  OutputFiles outputs;
  const std::string out_temp = outputs.stage(args.out);
  const std::string stats_temp = args.stats.empty() ? std::string() : outputs.stage(args.stats);
  MvmOptions options;
  options.outputs = &outputs;
  options.seed = args.seed;
  options.batch = args.batch;
  options.layer_name = args.layer;
  options.trace_path = args.trace;
  std::tie(options.trace_from, options.trace_to) = parse_trace_window(args.trace, args.trace_window);
  std::tie(options.trace_adcs, options.trace_all_adcs) = parse_trace_adcs(args.trace, args.trace_adcs, hw);
  spdlog::info("{}: {} x {} weights, {} input vectors on '{}'", args.layer, weights.rows(), weights.cols(),
               inputs.rows(), hw.name);

  Eigen::MatrixXd result;
  const LayerReport report = run_mvm(hw, weights, inputs, result, options);
  warn_if_misconfigured(report, hw);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  write_matrix_npy(out_temp, result);

  if (!args.stats.empty()) {
    MvmStats doc;
    doc.cimsim_version = kCimsimVersion;
    doc.seed = args.seed;
    doc.inputs = {args.weights, args.inputs, args.hw};
    doc.config = hw;
    doc.layers = {report.figures()};
    doc.wall_seconds = wall_s;
    write_json(stats_temp, to_json_record(doc));
  }
  outputs.commit();

  const std::string wrote = fmt::format("wrote {}{}{}", args.out, args.stats.empty() ? "" : ", " + args.stats,
                                        args.trace.empty() ? "" : ", " + resolve_trace_path(args.trace));
  if (!spdlog::should_log(spdlog::level::info)) {  // --quiet: the result line only
    fmt::print("{}\n", wrote);
    return 0;
  }
  const double sqnr = report.stats.error.sqnr_db();
  fmt::print("layer {}: K={} N={} on {} macro(s) ({} row tiles x {} col tiles, {} row groups)\n", report.name,
             report.inputs, report.outputs, report.macros, report.row_tiles, report.col_tiles,
             report.row_groups);
  fmt::print("  cycles/MVM {}  latency/MVM {:.1f} ns @ {} MHz  total {} cycles for {} vectors\n",
             report.cycles_per_mvm, report.latency_per_mvm_s() * 1e9, hw.timing.clock_mhz,
             report.total_cycles, report.vectors);
  fmt::print("  conversions {}  clipped low {}  high {}  ADC SQNR {}\n", report.stats.adc.conversions,
             percent(report.stats.adc.clipped_low, report.stats.adc.conversions),
             percent(report.stats.adc.clipped_high, report.stats.adc.conversions),
             std::isfinite(sqnr) ? fmt::format("{:.2f} dB", sqnr) : std::string("exact"));
  fmt::print(
      "  energy/MVM {:.2f} pJ (dac {:.1f}, array {:.1f}, adc {:.1f}, shift-add {:.1f}, leakage {:.1f})\n",
      report.energy.total_pj() / double(report.vectors), report.energy.dac_pj / double(report.vectors),
      report.energy.array_pj / double(report.vectors), report.energy.adc_pj / double(report.vectors),
      report.energy.shift_add_pj / double(report.vectors), report.energy.leakage_pj / double(report.vectors));
  fmt::print("  {}  ({:.2f} s wall)\n", wrote, wall_s);
  return 0;
}

}  // namespace

std::function<int()> add_mvm_command(CLI::App& app) {
  auto args = std::make_shared<MvmArgs>();
  CLI::App* cmd = app.add_subcommand("mvm", "run one integer matrix-vector layer Y = X.W on the macros");
  cmd->fallthrough();  // -v / -q may follow the subcommand
  cmd->add_option("--hw", args->hw, "hardware config YAML (configs/hw/)")->required();
  cmd->add_option("--weights", args->weights, "W.npy: signed integer matrix K x N")->required();
  cmd->add_option("--inputs", args->inputs, "X.npy: unsigned integer matrix B x K")->required();
  cmd->add_option("--out", args->out, "Y.npy to write: B x N float64 in integer MAC units")->required();
  cmd->add_option("--stats", args->stats, "statistics JSON to write");
  cmd->add_option("--trace", args->trace, "VCD file to write (a bare name goes under traces/)");
  cmd->add_option("--trace-window", args->trace_window, "FROM:TO cycles to record (default: the whole run)");
  cmd->add_option("--trace-adcs", args->trace_adcs,
                  "ADCs of each macro to trace: all, or indices such as 0,3 (default: 0)");
  cmd->add_option("--set", args->overrides, "override a config key: dotted.key=value (repeatable)");
  cmd->add_option("--seed", args->seed, "seed of every random draw (device and noise), 0..2^64-1")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", args->batch, "vectors per lock-step transaction")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--layer", args->layer, "layer name (selects adc.layers.<name>)");
  return [cmd, args]() { return cmd->parsed() ? run(*args) : 0; };
}

}  // namespace cimsim::cli
