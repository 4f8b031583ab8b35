#include "mvm_run.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "adc/layer_interval.h"
#include "core/error.h"
#include "vcd_trace.h"

namespace cimsim {
namespace {

// Feeds one matrix through one layer engine, then ends the simulation: nothing after the last
// transaction (such as a trace window that opens later) may move simulated time on.
class MvmDriver : public sc_core::sc_module {
 public:
  MvmDriver(sc_core::sc_module_name name, LayerEngine& engine, const InputMatrix& inputs,
            Eigen::MatrixXd& outputs, int batch)
      : sc_core::sc_module(name), engine_(engine), inputs_(inputs), outputs_(outputs), batch_(batch) {
    SC_HAS_PROCESS(MvmDriver);
    SC_THREAD(run);
  }

 private:
  void run() {
    engine_.process(inputs_, outputs_, batch_);
    sc_core::sc_stop();
  }
  LayerEngine& engine_;
  const InputMatrix& inputs_;
  Eigen::MatrixXd& outputs_;
  int batch_;
};

ErrorFigures error_figures(const ErrorAccumulator& e) {
  ErrorFigures f;
  f.mean = e.mean();
  f.std = e.stddev();
  if (const double sqnr = e.sqnr_db(); std::isfinite(sqnr)) f.sqnr_db.value = sqnr;
  f.exact = e.sum_sq == 0;
  return f;
}

}  // namespace

void validate_mvm_operands(const HwConfig& hw, const Eigen::MatrixXi& weights, const IntMatrixRef& inputs,
                           const std::string& weights_name, const std::string& inputs_name) {
  const int wmax = (1 << (hw.macro.weight_bits - 1)) - 1;
  const int xmax = (1 << hw.macro.input_bits) - 1;
  if (weights.rows() == 0 || weights.cols() == 0)
    throw InputError(weights_name + ": the weight matrix is empty");
  if (inputs.rows() == 0) throw InputError(inputs_name + ": the input matrix has no vectors");
  if (inputs.cols() != weights.rows()) {
    std::ostringstream s;
    s << inputs_name << ": inputs have " << inputs.cols() << " columns but " << weights_name << " has "
      << weights.rows() << " rows (K); X must be B x K for W of K x N";
    throw InputError(s.str());
  }
  for (Eigen::Index n = 0; n < weights.cols(); ++n) {
    for (Eigen::Index k = 0; k < weights.rows(); ++k) {
      if (std::abs(weights(k, n)) > wmax) {
        std::ostringstream s;
        s << weights_name << ": weight [" << k << ", " << n << "] = " << weights(k, n) << " is outside [-"
          << wmax << ", " << wmax << "] for macro.weight_bits = " << hw.macro.weight_bits
          << "; quantize the weights or raise weight_bits";
        throw InputError(s.str());
      }
    }
  }
  for (Eigen::Index b = 0; b < inputs.rows(); ++b) {
    for (Eigen::Index k = 0; k < inputs.cols(); ++k) {
      if (inputs(b, k) < 0 || inputs(b, k) > xmax) {
        std::ostringstream s;
        s << inputs_name << ": input [" << b << ", " << k << "] = " << inputs(b, k) << " is outside [0, "
          << xmax << "] for macro.input_bits = " << hw.macro.input_bits
          << "; quantize the inputs or raise input_bits";
        throw InputError(s.str());
      }
    }
  }
}

CimLayerStats LayerReport::figures() const {
  const int64_t conversions = stats.adc.conversions;
  auto rate = [conversions](int64_t n) { return conversions ? double(n) / double(conversions) : 0.0; };
  CimLayerStats f;
  f.name = name;
  f.shape = {inputs, outputs};
  f.mapping = {macros, row_tiles, col_tiles, row_groups, utilization, copies};
  f.mvms = vectors;
  f.transactions = transactions;
  f.cycles_per_mvm = cycles_per_mvm;
  f.total_cycles = total_cycles;
  f.latency_per_mvm_ns = latency_per_mvm_s() * 1e9;
  f.total_time_us = total_time_s() * 1e6;
  f.adc_interval = {interval.lo, interval.hi, interval.full};
  f.conversions = conversions;
  f.clipped_low = stats.adc.clipped_low;
  f.clipped_high = stats.adc.clipped_high;
  f.clip_rate_low = rate(stats.adc.clipped_low);
  f.clip_rate_high = rate(stats.adc.clipped_high);
  f.error = error_figures(stats.error);
  f.partial_sum_histogram = stats.histogram.figures();
  f.energy_events = stats.events;
  f.energy_pj = energy_figures(energy);
  f.energy_per_mvm_pj = vectors ? energy.total_pj() / double(vectors) : 0.0;
  f.area_um2 = area;
  if (saturating) f.accumulator_saturations = stats.saturations;
  if (!level_errors.empty()) f.device_levels = level_errors.figures();
  if (stats.residual.count > 0) f.residual_error = error_figures(stats.residual);
  if (stats.read.count > 0) f.read_error = error_figures(stats.read);
  return f;
}

LayerReport report_layer(const LayerEngine& engine, const HwConfig& hw, const std::string& name,
                         int64_t vectors, std::optional<double> leakage_seconds) {
  const LayerMapping& mapping = engine.mapping();
  LayerReport r;
  r.name = name;
  r.saturating = hw.macro.accumulator_bits > 0;
  r.inputs = mapping.inputs;
  r.outputs = mapping.outputs;
  r.macros = engine.macros();  // every copy's
  r.copies = engine.copies();
  r.row_tiles = int(mapping.row_tiles.size());
  r.col_tiles = int(mapping.col_tiles.size());
  r.row_groups = int(mapping.groups.size());
  r.utilization = utilization(mapping, hw.macro);
  r.vectors = vectors;
  r.transactions = engine.transactions();
  r.cycles_per_mvm = engine.cycles_per_mvm();
  r.total_cycles = r.cycles_per_mvm * r.vectors;
  r.clock_mhz = hw.timing.clock_mhz;
  r.interval = engine.interval();
  r.stats = engine.merged_stats();
  r.level_errors = engine.level_errors();
  r.energy = energy_of(r.stats.events, hw, r.macros, leakage_seconds.value_or(r.total_time_s()));
  if (hw.area.given) r.area = times(macro_area(hw), r.macros);
  return r;
}

LayerReport run_mvm(const HwConfig& hw, const Eigen::MatrixXi& weights, const IntMatrixRef& inputs,
                    Eigen::MatrixXd& outputs, const MvmOptions& options) {
  const int batch = std::max(1, std::min<int>(options.batch, int(inputs.rows())));
  const TraceWindow window =
      TraceWindow::for_run(hw, options.trace_path, options.trace_from, options.trace_to, options.trace_adcs,
                           options.trace_all_adcs);

  const auto t0 = std::chrono::steady_clock::now();
  LayerMapping mapping = map_layer(int(weights.rows()), int(weights.cols()),
                                   plain_row_groups(int(weights.rows()), hw.macro.rows_per_cycle), hw.macro);
  check_macros_fit(mapping.macros(), hw.chip.macros,
                   options.layer_name + ": " + std::to_string(mapping.macros()), hw.source);
  LayerEngine engine("layer", hw, weights, std::move(mapping), layer_interval(hw, options.layer_name),
                     options.seed, 0, window);
  const InputMatrix input_matrix = to_input_matrix(inputs);
  MvmDriver driver("driver", engine, input_matrix, outputs, batch);

  OutputFiles own_outputs;
  OutputFiles& files = options.outputs ? *options.outputs : own_outputs;
  std::unique_ptr<VcdTrace> trace;
  if (window.enabled) {
    trace = std::make_unique<VcdTrace>(options.trace_path, files, window);
    engine.trace(trace->sink());
  }
  const auto t1 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  if (trace) {
    trace->close();
    if (!options.outputs) own_outputs.commit();
  }
  const auto t2 = std::chrono::steady_clock::now();
  spdlog::debug("{}: programmed and elaborated in {:.3f} s, simulated in {:.3f} s", options.layer_name,
                std::chrono::duration<double>(t1 - t0).count(),
                std::chrono::duration<double>(t2 - t1).count());

  return report_layer(engine, hw, options.layer_name, inputs.rows(), std::nullopt);
}

}  // namespace cimsim
