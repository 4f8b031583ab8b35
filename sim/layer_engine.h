// The controller of one mapped layer: splits the input vectors into lock-step transactions of
// `batch` vectors, starts every macro on each, waits for all of them, and sums the macros' partial
// outputs row tile by row tile in a digital adder tree (ceil(log2(row tiles)) cycles).
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "adc/adc_transfer.h"
#include "config/hw_config.h"
#include "core/layer_mapping.h"
#include "macro.h"
#include "trace_window.h"

namespace cimsim {

class LayerEngine : public sc_core::sc_module {
 public:
  // W: K x N weights (copied into the programmed tiles).
  LayerEngine(sc_core::sc_module_name name, const HwConfig& hw, const Eigen::MatrixXi& weights,
              LayerMapping mapping, const std::string& layer_name, uint64_t seed, uint64_t layer_id,
              const TraceWindow& window);

  // Runs inputs (vectors x K) through the macros in lock-step transactions of `batch` vectors and
  // writes outputs (vectors x N). Blocks in simulated time: call it from an SC_THREAD.
  void process(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int batch);
  // A convolution's vectors for `images` images, pixel-major (row p * images + i is output pixel
  // p of image i): one lock-step transaction per pixel, so simulated time advances by one MVM per
  // output pixel, as for a single image. Vector ids are (first_image + i) * pixels + p.
  void process_pixels(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int images, int pixels,
                      int64_t first_image);
  void trace(sc_core::sc_trace_file* file);
  // Whether to count the partial-sum histograms of non-integer partial sums (on by default; off
  // saves their cost when no statistics file is written; integer partial sums get them anyway).
  void set_histograms(bool on);
  // Converts the next transactions over `interval` (cimsim calibrate's layer-by-layer order: a
  // layer is measured over the full range, then run again over its chosen interval).
  void set_interval(const AdcInterval& interval);

  const LayerMapping& mapping() const { return mapping_; }
  const AdcTransfer& adc() const { return *adc_; }
  int64_t cycles_per_mvm() const { return cycles_per_mvm_; }
  int64_t transactions() const { return transactions_; }
  ConversionStats merged_stats() const;
  int adder_tree_cycles() const;

 private:
  // outputs rows [first, first + batch) = the sum of the macros' shift-add registers for that
  // transaction (partial_of(m)), saturating after each macro if configured.
  template <typename PartialOf>
  void combine(Eigen::MatrixXd& outputs, int64_t first, int batch, PartialOf partial_of) const;
  // Simulates one transaction; converts it at once when inline, else records it.
  void transaction(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int64_t first, int batch,
                   int64_t first_id, int64_t id_stride);
  // The numerics of the recorded transactions: every (transaction, row tile, slice) in parallel,
  // then the adder tree per transaction.
  void convert_deferred(Eigen::MatrixXd& outputs);

  const HwConfig& hw_;
  LayerMapping mapping_;
  std::unique_ptr<AdcTransfer> adc_;
  std::vector<std::unique_ptr<Macro>> macros_;
  MvmJob job_;                             // the transaction in flight
  std::vector<MvmJob> jobs_;               // transactions simulated but not yet converted (deferred mode)
  std::vector<Eigen::MatrixXd> partials_;  // per (transaction, macro): shift-add registers
  std::vector<ErrorAccumulator> errors_;   // per (transaction, macro, slice)
  sc_core::sc_time period_;
  bool deferred_;  // numerics after each layer pass, in parallel (off while tracing)
  int64_t cycles_per_mvm_ = -1;
  int64_t transactions_ = 0;
  int64_t adder_ops_ = 0;
  std::vector<ConversionStats> worker_stats_;  // per OpenMP thread (see convert_deferred())
};

}  // namespace cimsim
