#include "layer_engine.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace cimsim {
namespace {

// Each module's share of the hardware config, for the macro holding `numerics`'s tile.
MacroModules modules_of(const HwConfig& hw, const MacroNumerics& numerics, const sc_core::sc_time& period) {
  MacroModules c;
  c.dac.steps = numerics.steps();
  c.crossbar = CrossbarConfig{period, hw.timing.array_cycles};
  c.adc_bank.period = period;
  c.adc_bank.bitline_stride = hw.macro.subtraction == Subtraction::kAnalog ? 2 : 1;
  c.adc_bank.adcs = hw.macro.adcs();
  c.adc_bank.signals_per_adc = hw.macro.signals_per_adc();
  c.adc_bank.signals = numerics.signals();
  c.adc_bank.adc_bits = hw.macro.adc_bits;
  c.adc_bank.sar = hw.macro.adc_type == AdcType::kSar;
  c.shift_add = ShiftAddConfig{period, hw.timing.shift_add_cycles};
  return c;
}

}  // namespace

LayerEngine::LayerEngine(sc_core::sc_module_name name, const HwConfig& hw, const Eigen::MatrixXi& weights,
                         LayerMapping mapping, const AdcInterval& interval, uint64_t seed, uint64_t layer_id,
                         const TraceWindow& window, int copies)
    : sc_core::sc_module(name),
      hw_(hw),
      mapping_(std::move(mapping)),
      window_(window),
      copies_(copies),
      per_copy_(mapping_.macros()),
      active_("active", window),
      vector_("vector", window),
      image_("image", window),
      batch_("batch", window) {
  adc_ = std::make_unique<AdcTransfer>(hw.macro, hw.adc, interval);
  set_interval(interval);
  const std::size_t cols = mapping_.col_tiles.size();
  for (int copy = 0; copy < copies_; ++copy) {
    for (int m = 0; m < per_copy_; ++m) {
      numerics_.push_back(
          std::make_unique<MacroNumerics>(hw_, mapping_, m, weights, *adc_, seed, layer_id, copy));
      const std::string macro_name = (copy ? "copy" + std::to_string(copy) + "_" : std::string()) +
                                     "macro_r" + std::to_string(std::size_t(m) / cols) + "_c" +
                                     std::to_string(std::size_t(m) % cols);
      macros_.push_back(std::make_unique<Macro>(macro_name.c_str(),
                                                modules_of(hw_, *numerics_.back(), window.period), window));
    }
  }
  macro_errors_.assign(macros_.size(), ErrorSums{});
  probes_.resize(macros_.size());
  // Counters of the conversions, one set per OpenMP thread (bins and tally ranges set, counts 0).
  empty_stats_ = numerics_.front()->empty_stats();
  worker_stats_.assign(std::size_t(std::max(1, omp_get_max_threads())), empty_stats_);
}

void LayerEngine::set_interval(const AdcInterval& interval) {
  // In place: every macro's numerics refer to this converter. The table spans the full range
  // whatever the interval, so the tallies (sized from it at construction) still fit.
  interval_ = interval;
  *adc_ = AdcTransfer(hw_.macro, hw_.adc, interval);
  adc_->build_table(int(hw_.full_interval().lo), int(hw_.full_interval().hi));
}

void LayerEngine::set_histograms(bool on) {
  for (auto& n : numerics_) n->set_histograms(on);
}

void LayerEngine::trace(TraceSink& sink) {
  const std::string prefix = std::string(name()) + ".";
  sink.begin_group(basename());
  active_.trace(sink, prefix + "active");
  vector_.trace(sink, prefix + "vector");
  image_.trace(sink, prefix + "image");
  batch_.trace(sink, prefix + "batch");
  for (auto& m : macros_) m->trace(sink, std::string(basename()) + " " + m->basename());
}

int LayerEngine::adder_tree_cycles() const {
  int cycles = 0;
  while ((std::size_t(1) << cycles) < mapping_.row_tiles.size()) ++cycles;
  return cycles;
}

template <typename PartialOf>
void LayerEngine::combine(Eigen::MatrixXd& outputs, int64_t first, int batch, PartialOf partial_of,
                          int64_t& saturations) const {
  const double saturation = accumulator_bound(hw_.macro);
  auto out = outputs.middleRows(first, batch);
  out.setZero();
  for (std::size_t m = 0; m < std::size_t(per_copy_); ++m) {
    const ColTile& ct = numerics_[m]->col_tile();
    auto block = out.middleCols(ct.col_begin, ct.col_count);
    block += partial_of(m);
    if (saturation > 0) {
      saturations += ((block.array() < -saturation) || (block.array() > saturation - 1.0)).count();
      block = block.array().max(-saturation).min(saturation - 1.0).matrix();
    }
  }
}

void LayerEngine::transaction(Eigen::MatrixXd& outputs, const std::vector<MvmJob>& jobs,
                              const Position& shown) {
  const sc_core::sc_time begin = sc_core::sc_time_stamp();
  int vectors = 0;
  for (const MvmJob& job : jobs) vectors += job.batch;
  active_.set(true);
  vector_.set(shown.vector);
  image_.set(shown.image);
  batch_.set(vectors);
  for (std::size_t copy = 0; copy < jobs.size(); ++copy) {
    pending_.push_back(jobs[copy]);
    pending_copy_.push_back(int(copy));
  }
  // A round the trace window sees is converted now, with the ones before it, so that its modules
  // can show its values; the others wait for the end of the pass (cycles per MVM do not change,
  // so the first round tells how long each takes).
  const bool shown_in_window =
      window_.enabled && (cycles_per_mvm_ < 0 || window_.overlaps(begin, cycles_per_mvm_));
  if (shown_in_window) convert_pending(outputs, &probes_, int(jobs.size()));
  for (std::size_t copy = 0; copy < jobs.size(); ++copy)
    for (int m = 0; m < per_copy_; ++m) {
      const std::size_t at = copy * std::size_t(per_copy_) + std::size_t(m);
      macros_[at]->start(jobs[copy], shown_in_window ? &probes_[at] : nullptr);
    }
  for (std::size_t copy = 0; copy < jobs.size(); ++copy)
    for (int m = 0; m < per_copy_; ++m)
      macros_[copy * std::size_t(per_copy_) + std::size_t(m)]->wait_done(jobs[copy]);
  wait(window_.period * double(adder_tree_cycles()));
  active_.set(false);
  adder_ops_ += int64_t(mapping_.row_tiles.size() - 1) * mapping_.outputs * vectors;
  const int64_t cycles = int64_t(std::llround((sc_core::sc_time_stamp() - begin) / window_.period));
  if (cycles_per_mvm_ >= 0 && cycles != cycles_per_mvm_) {
    SC_REPORT_ERROR("cimsim/engine", "cycles per MVM changed between transactions");
  }
  cycles_per_mvm_ = cycles;
  transactions_ += int64_t(jobs.size());
}

void LayerEngine::convert_pending(Eigen::MatrixXd& outputs, std::vector<std::vector<StepProbe>>* probes,
                                  int in_flight) {
  const int jobs = int(pending_.size());
  if (jobs == 0) return;
  const int macros = per_copy_;  // partials and error sums per (transaction, macro of its copy)
  const int row_tiles = int(mapping_.row_tiles.size());
  const int col_tiles = int(mapping_.col_tiles.size());
  int slices = 0;
  for (const MvmJob& job : pending_) slices = std::max(slices, MacroNumerics::slices_of(job.batch));
  partials_.resize(std::size_t(jobs) * std::size_t(macros));
  for (int t = 0; t < jobs; ++t) {
    for (int m = 0; m < macros; ++m)
      partials_[std::size_t(t * macros + m)].resize(pending_[std::size_t(t)].batch,
                                                    numerics_[std::size_t(m)]->col_tile().col_count);
  }
  errors_.assign(std::size_t(jobs) * std::size_t(macros) * std::size_t(slices), ErrorSums{});
  auto partial = [&](int t, int m) -> Eigen::MatrixXd& { return partials_[std::size_t(t * macros + m)]; };
  auto error = [&](int t, int m, int s) -> ErrorSums& {
    return errors_[(std::size_t(t * macros + m)) * std::size_t(slices) + std::size_t(s)];
  };
  // Work items (transaction, row tile, slice): the macros of a row tile share the slice's digits.
  const int items = jobs * row_tiles * slices;
#pragma omp parallel num_threads(int(worker_stats_.size()))
  {
    InputDigits digits;  // this thread's
    ConversionStats& counts = worker_stats_[std::size_t(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 4)
    for (int i = 0; i < items; ++i) {
      const int t = i / (row_tiles * slices), r = (i / slices) % row_tiles, s = i % slices;
      const MvmJob& job = pending_[std::size_t(t)];
      if (s >= MacroNumerics::slices_of(job.batch)) continue;
      const int first = s * MacroNumerics::kSliceVectors;
      const int count = std::min(MacroNumerics::kSliceVectors, job.batch - first);
      for (int c = 0; c < col_tiles; ++c) {
        const int m = r * col_tiles + c;
        partial(t, m).middleRows(first, count).setZero();
        const std::size_t at = std::size_t(pending_copy_[std::size_t(t)] * macros + m);  // the physical macro
        // The round in flight (the last `in_flight` transactions) records its probes.
        std::vector<StepProbe>* probe = probes && t >= jobs - in_flight ? &(*probes)[at] : nullptr;
        numerics_[at]->convert(job, s, {&partial(t, m), &counts, &error(t, m, s)}, digits, probe);
      }
    }
#pragma omp for schedule(static)
    for (int t = 0; t < jobs; ++t) {
      const MvmJob& job = pending_[std::size_t(t)];
      combine(outputs, job.first_vector, job.batch,
              [&](std::size_t m) -> const Eigen::MatrixXd& { return partial(t, int(m)); }, counts.saturations);
    }
  }
  // Error sums into each macro's in (transaction, slice) order, whatever the mode.
  for (int m = 0; m < macros; ++m) {
    for (int t = 0; t < jobs; ++t) {
      const std::size_t at = std::size_t(pending_copy_[std::size_t(t)] * macros + m);
      for (int s = 0; s < MacroNumerics::slices_of(pending_[std::size_t(t)].batch); ++s)
        macro_errors_[at].merge(error(t, m, s));
    }
  }
  pending_.clear();
  pending_copy_.clear();
}

void LayerEngine::process(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int batch_size) {
  const int64_t vectors = inputs.rows();
  outputs.setZero(vectors, mapping_.outputs);
  for (int64_t first = 0; first < vectors; first += batch_size) {
    const MvmJob job{&inputs,           first, int(std::min<int64_t>(batch_size, vectors - first)),
                     next_job_serial(), first, 1};
    transaction(outputs, {job}, {int(first), 0});
  }
  convert_pending(outputs);
}

void LayerEngine::process_pixels(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int images, int pixels,
                                 int64_t first_image, int pass) {
  outputs.setZero(inputs.rows(), mapping_.outputs);
  for (int p0 = 0; p0 < pixels; p0 += copies_) {
    std::vector<MvmJob> round;  // pixel p0 + c on copy c
    for (int p = p0; p < std::min(pixels, p0 + copies_); ++p)
      round.push_back(MvmJob{&inputs, int64_t(p) * images, images, next_job_serial(), first_image * pixels + p,
                             pixels, pass});
    transaction(outputs, round, {p0, int(first_image)});
  }
  convert_pending(outputs);
}

ConversionStats LayerEngine::merged_stats() const {
  // Integer counters first (order-free), then the floating-point error sums in a fixed order:
  // macro by macro, then the tally's share by fold().
  ConversionStats total = empty_stats_;
  for (const ConversionStats& w : worker_stats_) total.merge(w);
  for (const ErrorSums& e : macro_errors_) {
    total.error.merge(e.ideal);
    total.residual.merge(e.programmed);
    total.read.merge(e.read);
  }
  total.fold(*adc_);
  total.events.shift_add_ops += adder_ops_;
  total.saturations += outer_saturations_;
  return total;
}

DeviceLevelErrors LayerEngine::level_errors() const {
  DeviceLevelErrors total;
  for (const auto& n : numerics_) total.merge(n->level_errors());
  return total;
}

}  // namespace cimsim
