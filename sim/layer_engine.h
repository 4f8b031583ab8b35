// The controller of one mapped layer: splits the input vectors into lock-step transactions of
// `batch` vectors, starts every macro on each, waits for all of them, and sums the macros' partial
// outputs row tile by row tile in a digital adder tree (ceil(log2(row tiles)) cycles). The
// macros' SystemC modules keep time; their arithmetic is one MacroNumerics per macro, run here:
// after each pass of the layer, for every transaction at once on all cores, except that with a
// trace (the accurate mode) a transaction the window sees is converted when it starts, with the
// ones before it, so the modules can show its values. The same function computes every value,
// in the same order, so the results do not depend on the trace.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "adc/adc_transfer.h"
#include "config/hw_config.h"
#include "macro.h"
#include "macro/macro_numerics.h"
#include "mapping/layer_mapping.h"
#include "trace_window.h"
#include "traced_value.h"

namespace cimsim {

class LayerEngine : public sc_core::sc_module {
 public:
  // W: K x N weights (copied into the programmed tiles), converted over `interval` (resolved:
  // layer_interval() in models/adc/layer_interval.h).
  // `copies` > 1: the weights are duplicated on that many sets of macros (chip.duplicate), and
  // process_pixels runs that many output pixels at once, pixel p on copy p mod copies.
  LayerEngine(sc_core::sc_module_name name, const HwConfig& hw, const Eigen::MatrixXi& weights,
              LayerMapping mapping, const AdcInterval& interval, uint64_t seed, uint64_t layer_id,
              const TraceWindow& window, int copies = 1);

  // Runs inputs (vectors x K) through the macros in lock-step transactions of `batch` vectors and
  // writes outputs (vectors x N). Blocks in simulated time: call it from an SC_THREAD.
  void process(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int batch);
  // A convolution's vectors for `images` images, pixel-major (row p * images + i is output pixel
  // p of image i): one lock-step transaction per pixel, `copies` pixels at a time (one per copy), so
  // simulated time advances by one MVM per round of pixels, as for a single image. Vector ids are
  // (first_image + i) * pixels + p. `pass` 1: the x- pass of a signed layer (MvmJob::pass).
  void process_pixels(const InputMatrix& inputs, Eigen::MatrixXd& outputs, int images, int pixels,
                      int64_t first_image, int pass = 0);
  // Registers the layer's and its macros' trace signals, a group each (before sc_start).
  void trace(TraceSink& sink);
  // Whether to count the partial-sum histograms of non-integer partial sums (on by default; off
  // saves their cost when no statistics file is written; integer partial sums get them anyway).
  void set_histograms(bool on);
  // Converts the next transactions over `interval` (cimsim calibrate's layer-by-layer order: a
  // layer is measured over the full range, then run again over its chosen interval).
  void set_interval(const AdcInterval& interval);

  const LayerMapping& mapping() const { return mapping_; }
  const AdcTransfer& adc() const { return *adc_; }
  // The interval the next transactions are converted over.
  const AdcInterval& interval() const { return interval_; }
  int64_t cycles_per_mvm() const { return cycles_per_mvm_; }
  int64_t transactions() const { return transactions_; }
  int copies() const { return copies_; }
  int macros() const { return int(macros_.size()); }  // every copy's
  ConversionStats merged_stats() const;
  // Every macro's (every copy's) cells' errors per target level; empty with ideal devices.
  DeviceLevelErrors level_errors() const;
  // Accumulator saturations outside the engine (the signed-input subtraction, section 11).
  void count_saturations(int64_t n) { outer_saturations_ += n; }
  int adder_tree_cycles() const;

 private:
  // outputs rows [first, first + batch) = the sum of the macros' shift-add registers for that
  // transaction (partial_of(m)), saturating after each macro if configured.
  template <typename PartialOf>
  void combine(Eigen::MatrixXd& outputs, int64_t first, int batch, PartialOf partial_of,
               int64_t& saturations) const;
  // What the trace shows of a transaction: the first vector (cimsim mvm) or the output pixel
  // (networks), and the first image of the batch (networks; 0 for cimsim mvm).
  struct Position {
    int vector = 0;
    int image = 0;
  };
  // Simulates one round: job j on copy j, all at once (converting them first when the trace window
  // sees the round).
  void transaction(Eigen::MatrixXd& outputs, const std::vector<MvmJob>& jobs, const Position& shown);
  // The numerics of the pending transactions: every (transaction, row tile, slice) in parallel,
  // then the adder tree per transaction; with `probes`, vector 0 of the steps of the last
  // `in_flight` transactions (the round in flight, one per copy) per macro.
  void convert_pending(Eigen::MatrixXd& outputs, std::vector<std::vector<StepProbe>>* probes = nullptr,
                       int in_flight = 0);

  const HwConfig& hw_;
  LayerMapping mapping_;
  AdcInterval interval_;
  std::unique_ptr<AdcTransfer> adc_;
  std::vector<std::unique_ptr<MacroNumerics>> numerics_;  // per macro
  std::vector<std::unique_ptr<Macro>> macros_;            // their SystemC timing
  TraceWindow window_;  // its period is the clock's; enabled: the accurate mode
  int copies_ = 1;
  int per_copy_ = 0;                            // macros of one copy: mapping_.macros()
  std::vector<MvmJob> pending_;                 // transactions simulated but not yet converted (fast mode)
  std::vector<int> pending_copy_;               // the copy each ran on
  std::vector<Eigen::MatrixXd> partials_;       // per (transaction, macro of its copy): shift-add registers
  std::vector<ErrorSums> errors_;               // per (transaction, macro, slice)
  std::vector<ErrorSums> macro_errors_;         // per macro: every conversion so far
  std::vector<std::vector<StepProbe>> probes_;  // per macro: the transaction in flight (accurate mode)
  ConversionStats empty_stats_;                 // every counter zero, sized for the layer
  std::vector<ConversionStats> worker_stats_;   // per OpenMP thread (see convert_pending())
  TracedValue<bool> active_;                    // a transaction of the layer is in flight
  TracedValue<int> vector_;                     // its Position
  TracedValue<int> image_;
  TracedValue<int> batch_;  // its vectors: the lock-step replicas
  int64_t cycles_per_mvm_ = -1;
  int64_t transactions_ = 0;
  int64_t adder_ops_ = 0;
  int64_t outer_saturations_ = 0;
};

}  // namespace cimsim
