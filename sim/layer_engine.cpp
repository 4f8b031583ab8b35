#include "layer_engine.h"

#include <cmath>
#include <stdexcept>

#include "device/array_programming.h"

namespace cimsim {

LayerEngine::LayerEngine(sc_core::sc_module_name name, const HwConfig& hw, const Eigen::MatrixXi& weights,
                         LayerMapping mapping, const std::string& layer_name, uint64_t seed,
                         uint64_t layer_id, const TraceWindow& window)
    : sc_core::sc_module(name), hw_(hw), mapping_(std::move(mapping)), period_(window.period) {
  adc_ = std::make_unique<AdcTransfer>(hw.macro, hw.adc, hw.interval_for(layer_name));
  adc_->build_table(int(hw.full_interval().lo), int(hw.full_interval().hi));
  for (std::size_t r = 0; r < mapping_.row_tiles.size(); ++r)
    row_tile_digits_.push_back(std::make_unique<InputDigits>());
  for (int m = 0; m < mapping_.macros(); ++m) {
    auto state = std::make_unique<MacroState>();
    state->hw = &hw_;
    state->mapping = &mapping_;
    state->index = m;
    state->row_tile = &mapping_.row_tile_of(m);
    state->col_tile = &mapping_.col_tile_of(m);
    state->tile = program_tile(hw_, weights, mapping_, m, seed, layer_id);
    state->adc = adc_.get();
    state->digits = row_tile_digits_[std::size_t(m) / mapping_.col_tiles.size()].get();
    state->seed = seed;
    state->layer_id = layer_id;
    state->period = period_;
    state->window = window;
    const std::size_t cols = mapping_.col_tiles.size();
    const std::string macro_name =
        "macro_r" + std::to_string(std::size_t(m) / cols) + "_c" + std::to_string(std::size_t(m) % cols);
    macros_.push_back(std::make_unique<Macro>(macro_name.c_str(), std::move(state)));
    macros_.back()->adc_bank().set_deferred(!window.enabled);
  }
}

InputMatrix to_input_matrix(const IntMatrix& inputs) {
  // Transpose into column-major uint16 in 64 x 64 blocks (a plain strided cast thrashes the cache).
  constexpr Eigen::Index kBlock = 64;
  InputMatrix out(inputs.rows(), inputs.cols());
  for (Eigen::Index b0 = 0; b0 < inputs.rows(); b0 += kBlock) {
    const Eigen::Index rows = std::min(kBlock, inputs.rows() - b0);
    for (Eigen::Index k0 = 0; k0 < inputs.cols(); k0 += kBlock) {
      const Eigen::Index cols = std::min(kBlock, inputs.cols() - k0);
      out.block(b0, k0, rows, cols) = inputs.block(b0, k0, rows, cols).cast<uint16_t>();
    }
  }
  return out;
}

void LayerEngine::trace(sc_core::sc_trace_file* file) {
  for (auto& m : macros_) m->trace(file);
}

int LayerEngine::adder_tree_cycles() const {
  int cycles = 0;
  while ((std::size_t(1) << cycles) < mapping_.row_tiles.size()) ++cycles;
  return cycles;
}

void LayerEngine::combine(Eigen::MatrixXd& outputs, int64_t first, int batch) {
  const double saturation =
      hw_.macro.accumulator_bits > 0 ? std::ldexp(1.0, hw_.macro.accumulator_bits - 1) : 0;
  auto out = outputs.middleRows(first, batch);
  out.setZero();
  for (const auto& macro : macros_) {
    const ColTile& ct = *macro->state().col_tile;
    auto block = out.middleCols(ct.col_begin, ct.col_count);
    block += macro->state().partial;
    if (saturation > 0) block = block.array().max(-saturation).min(saturation - 1.0).matrix();
  }
  adder_ops_ += int64_t(mapping_.row_tiles.size() - 1) * mapping_.outputs * batch;
}

void LayerEngine::transaction(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int64_t first, int batch,
                              int64_t first_id, int64_t id_stride) {
  sc_core::sc_event_and_list all_done;
  for (auto& m : macros_) all_done &= m->done;
  job_ = MvmJob{&inputs, first, batch, next_serial_++, first_id, id_stride};
  const sc_core::sc_time begin = sc_core::sc_time_stamp();
  for (auto& m : macros_) m->start(job_);
  wait(all_done);
  wait(period_ * double(adder_tree_cycles()));
  // The macros' arithmetic, deferred by their ADC banks, in parallel across macros.
  const int count = int(macros_.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int m = 0; m < count; ++m) macros_[std::size_t(m)]->adc_bank().run_deferred();
  combine(outputs, first, batch);
  const int64_t cycles = int64_t(std::llround((sc_core::sc_time_stamp() - begin) / period_));
  if (cycles_per_mvm_ >= 0 && cycles != cycles_per_mvm_) {
    SC_REPORT_ERROR("cimsim/engine", "cycles per MVM changed between transactions");
  }
  cycles_per_mvm_ = cycles;
  ++transactions_;
}

void LayerEngine::process(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int batch_size) {
  const int64_t vectors = inputs.rows();
  outputs.setZero(vectors, mapping_.outputs);
  for (int64_t first = 0; first < vectors; first += batch_size) {
    transaction(inputs, outputs, first, int(std::min<int64_t>(batch_size, vectors - first)), first, 1);
  }
}

void LayerEngine::process_pixels(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int images, int pixels,
                                 int64_t first_image) {
  outputs.setZero(inputs.rows(), mapping_.outputs);
  for (int p = 0; p < pixels; ++p) {
    transaction(inputs, outputs, int64_t(p) * images, images, first_image * pixels + p, pixels);
  }
}

ConversionStats LayerEngine::merged_stats() const {
  ConversionStats total;
  for (const auto& m : macros_) {
    ConversionStats stats = m->state().stats;
    stats.fold(*adc_);
    total.merge(stats);
  }
  total.events.shift_add_ops += adder_ops_;
  return total;
}

}  // namespace cimsim
