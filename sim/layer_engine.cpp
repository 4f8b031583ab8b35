#include "layer_engine.h"

#include <omp.h>

#include <atomic>
#include <cmath>
#include <stdexcept>

#include "device/array_programming.h"

namespace cimsim {

LayerEngine::LayerEngine(sc_core::sc_module_name name, const HwConfig& hw, const Eigen::MatrixXi& weights,
                         LayerMapping mapping, const std::string& layer_name, uint64_t seed,
                         uint64_t layer_id, const TraceWindow& window)
    : sc_core::sc_module(name),
      hw_(hw),
      mapping_(std::move(mapping)),
      period_(window.period),
      deferred_(!window.enabled) {
  adc_ = std::make_unique<AdcTransfer>(hw.macro, hw.adc, hw.interval_for(layer_name));
  set_interval(hw.interval_for(layer_name));
  // With device variation the ideal partial sums need their own GEMM: the byte kernel's, when
  // digits and levels fit it.
  const bool byte_ideal = !hw.device.programming_ideal() && hw.macro.dac_bits <= 8 && hw.macro.cell_bits <= 7;
  for (int m = 0; m < mapping_.macros(); ++m) {
    auto state = std::make_unique<MacroState>();
    state->hw = &hw_;
    state->mapping = &mapping_;
    state->index = m;
    state->row_tile = &mapping_.row_tile_of(m);
    state->col_tile = &mapping_.col_tile_of(m);
    state->tile = program_tile(hw_, weights, mapping_, m, seed, layer_id);
    if (byte_ideal) {
      if (!byte_gemm_fits(hw.macro.dac_bits, state->tile.ideal))
        throw std::logic_error("LayerEngine: ideal levels do not fit the byte kernel");
      for (int g = 0; g < state->row_tile->num_groups; ++g) {
        const RowGroup& group = mapping_.groups[std::size_t(state->row_tile->first_group + g)];
        state->ideal_packed.push_back(
            pack_levels(state->tile.ideal.middleRows(group.begin - state->row_tile->row_begin, group.size)));
      }
    }
    state->adc = adc_.get();
    state->seed = seed;
    state->layer_id = layer_id;
    state->period = period_;
    state->window = window;
    const std::size_t cols = mapping_.col_tiles.size();
    const std::string macro_name =
        "macro_r" + std::to_string(std::size_t(m) / cols) + "_c" + std::to_string(std::size_t(m) % cols);
    macros_.push_back(std::make_unique<Macro>(macro_name.c_str(), std::move(state)));
    macros_.back()->adc_bank().set_deferred(deferred_);
  }
  // Counters of the deferred conversions, one set per OpenMP thread, starting as copies of a
  // macro's statistics before any run (bins and tally ranges set, all counts zero).
  worker_stats_.assign(std::size_t(std::max(1, omp_get_max_threads())), macros_.front()->state().stats);
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

void LayerEngine::set_interval(const AdcInterval& interval) {
  // In place: every macro's state points at this converter. The table spans the full range
  // whatever the interval, so the macros' tallies (sized from it at construction) still fit.
  *adc_ = AdcTransfer(hw_.macro, hw_.adc, interval);
  adc_->build_table(int(hw_.full_interval().lo), int(hw_.full_interval().hi));
}

void LayerEngine::set_histograms(bool on) {
  for (auto& m : macros_) m->state().histograms = on;
}

void LayerEngine::trace(sc_core::sc_trace_file* file) {
  for (auto& m : macros_) m->trace(file);
}

int LayerEngine::adder_tree_cycles() const {
  int cycles = 0;
  while ((std::size_t(1) << cycles) < mapping_.row_tiles.size()) ++cycles;
  return cycles;
}

template <typename PartialOf>
void LayerEngine::combine(Eigen::MatrixXd& outputs, int64_t first, int batch, PartialOf partial_of) const {
  const double saturation =
      hw_.macro.accumulator_bits > 0 ? std::ldexp(1.0, hw_.macro.accumulator_bits - 1) : 0;
  auto out = outputs.middleRows(first, batch);
  out.setZero();
  for (std::size_t m = 0; m < macros_.size(); ++m) {
    const ColTile& ct = *macros_[m]->state().col_tile;
    auto block = out.middleCols(ct.col_begin, ct.col_count);
    block += partial_of(m);
    if (saturation > 0) block = block.array().max(-saturation).min(saturation - 1.0).matrix();
  }
}

void LayerEngine::transaction(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int64_t first, int batch,
                              int64_t first_id, int64_t id_stride) {
  sc_core::sc_event_and_list all_done;
  for (auto& m : macros_) all_done &= m->done;
  job_ = MvmJob{&inputs, first, batch, next_job_serial(), first_id, id_stride};
  const sc_core::sc_time begin = sc_core::sc_time_stamp();
  for (auto& m : macros_) m->start(job_);
  wait(all_done);
  wait(period_ * double(adder_tree_cycles()));
  if (deferred_) {
    jobs_.push_back(job_);  // converted with the layer's other transactions (convert_deferred)
  } else {
    combine(outputs, first, batch,
            [&](std::size_t m) -> const Eigen::MatrixXd& { return macros_[m]->state().partial; });
  }
  adder_ops_ += int64_t(mapping_.row_tiles.size() - 1) * mapping_.outputs * batch;
  const int64_t cycles = int64_t(std::llround((sc_core::sc_time_stamp() - begin) / period_));
  if (cycles_per_mvm_ >= 0 && cycles != cycles_per_mvm_) {
    SC_REPORT_ERROR("cimsim/engine", "cycles per MVM changed between transactions");
  }
  cycles_per_mvm_ = cycles;
  ++transactions_;
}

void LayerEngine::convert_deferred(Eigen::MatrixXd& outputs) {
  const int jobs = int(jobs_.size());
  if (jobs == 0) return;
  const int macros = int(macros_.size());
  const int row_tiles = int(mapping_.row_tiles.size());
  const int col_tiles = int(mapping_.col_tiles.size());
  int slices = 0;
  for (const MvmJob& job : jobs_) slices = std::max(slices, AdcBank::slices_of(job.batch));
  partials_.resize(std::size_t(jobs) * std::size_t(macros));
  for (int t = 0; t < jobs; ++t) {
    for (int m = 0; m < macros; ++m)
      partials_[std::size_t(t * macros + m)].resize(jobs_[std::size_t(t)].batch,
                                                    macros_[std::size_t(m)]->state().col_tile->col_count);
  }
  errors_.assign(std::size_t(jobs) * std::size_t(macros) * std::size_t(slices), ErrorAccumulator{});
  auto partial = [&](int t, int m) -> Eigen::MatrixXd& { return partials_[std::size_t(t * macros + m)]; };
  auto error = [&](int t, int m, int s) -> ErrorAccumulator& {
    return errors_[(std::size_t(t * macros + m)) * std::size_t(slices) + std::size_t(s)];
  };
  // Work items (transaction, row tile, slice): the macros of a row tile share the slice's digits.
  const int items = jobs * row_tiles * slices;
#pragma omp parallel
  {
    InputDigits digits;  // this thread's
    ConversionStats& counts = worker_stats_[std::size_t(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 4)
    for (int i = 0; i < items; ++i) {
      const int t = i / (row_tiles * slices), r = (i / slices) % row_tiles, s = i % slices;
      const MvmJob& job = jobs_[std::size_t(t)];
      if (s >= AdcBank::slices_of(job.batch)) continue;
      const int first = s * AdcBank::kSliceVectors;
      const int count = std::min(AdcBank::kSliceVectors, job.batch - first);
      for (int c = 0; c < col_tiles; ++c) {
        const int m = r * col_tiles + c;
        partial(t, m).middleRows(first, count).setZero();
        macros_[std::size_t(m)]->adc_bank().convert_slice(
            {&job, s, &partial(t, m), &counts, &error(t, m, s), &digits});
      }
    }
#pragma omp for schedule(static)
    for (int t = 0; t < jobs; ++t) {
      const MvmJob& job = jobs_[std::size_t(t)];
      combine(outputs, job.first_vector, job.batch,
              [&](std::size_t m) -> const Eigen::MatrixXd& { return partial(t, int(m)); });
    }
  }
  // Error sums into each macro in (transaction, slice) order, as the inline mode adds them.
  for (int m = 0; m < macros; ++m) {
    for (int t = 0; t < jobs; ++t) {
      for (int s = 0; s < AdcBank::slices_of(jobs_[std::size_t(t)].batch); ++s)
        macros_[std::size_t(m)]->adc_bank().add_errors(error(t, m, s));
    }
  }
  jobs_.clear();
}

void LayerEngine::process(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int batch_size) {
  const int64_t vectors = inputs.rows();
  outputs.setZero(vectors, mapping_.outputs);
  for (int64_t first = 0; first < vectors; first += batch_size) {
    transaction(inputs, outputs, first, int(std::min<int64_t>(batch_size, vectors - first)), first, 1);
  }
  convert_deferred(outputs);
}

void LayerEngine::process_pixels(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int images, int pixels,
                                 int64_t first_image) {
  outputs.setZero(inputs.rows(), mapping_.outputs);
  for (int p = 0; p < pixels; ++p) {
    transaction(inputs, outputs, int64_t(p) * images, images, first_image * pixels + p, pixels);
  }
  convert_deferred(outputs);
}

ConversionStats LayerEngine::merged_stats() const {
  // Integer counters first (order-free), then the floating-point error sums in a fixed order:
  // macro by macro, slice by slice, then the tally's share by fold().
  ConversionStats total = macros_.front()->state().stats;
  for (std::size_t m = 1; m < macros_.size(); ++m) total.merge(macros_[m]->state().stats);
  for (const ConversionStats& w : worker_stats_) total.merge(w);
  total.error = ErrorAccumulator{};
  for (const auto& m : macros_) total.error.merge(m->adc_bank().errors());
  total.fold(*adc_);
  total.events.shift_add_ops += adder_ops_;
  return total;
}

}  // namespace cimsim

namespace cimsim {

uint64_t next_job_serial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

}  // namespace cimsim
