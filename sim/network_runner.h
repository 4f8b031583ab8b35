// Running a model bundle layer by layer on the simulated chip: every conv2d/linear layer is
// mapped onto its own macros (a LayerEngine), a controller streams a batch of images through
// the layers in lock step (one transaction per output pixel), and the digital unit applies the
// affine, ReLU, batch norm, pooling and residual adds between them with its own cycle cost
// (docs/timing.md, "Networks"). Numerics: docs/model-bundle.md and docs/numerics.md.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bundle/model_bundle.h"
#include "config/hw_config.h"
#include "data/dataset.h"
#include "mvm_run.h"

namespace cimsim {

struct NetworkOptions {
  uint64_t seed = 1;
  int batch = 64;                  // images per lock-step batch
  std::string trace_path;          // empty: no trace
  int64_t trace_from = 0;          // cycles of simulated time
  int64_t trace_to = -1;           // -1: to the end
  std::vector<int> trace_adcs{0};  // the ADCs of each macro whose signals are traced
  bool trace_all_adcs = false;     // or every one
  OutputFiles* outputs = nullptr;  // where the trace is staged; null: committed by run_network
  // Partial-sum histograms of every layer (for the stats file); off saves their cost (the
  // histograms in the report are then empty unless the partial sums are integers).
  bool histograms = true;
  // Called after every batch with the images done and the images in all (run_network; not by
  // calibrate_network). What it throws ends the run and is rethrown by run_network as it was
  // thrown. It runs on the simulation's own thread stack, which is then kProgressStackBytes.
  std::function<void(int64_t done, int64_t count)> progress;
};

inline constexpr std::size_t kProgressStackBytes = std::size_t(16) << 20;

struct NetworkLayerReport {
  std::string name, type;
  // MVM cycles (CIM layers) plus digital-unit cycles, or the buffer's cycles when more
  int64_t cycles_per_image = 0;
  int64_t digital_cycles_per_image = 0;
  int64_t digital_ops_per_image = 0;
  int64_t buffer_bytes_per_image = 0, buffer_cycles_per_image = 0;
  double digital_pj = 0, buffer_pj = 0;  // the digital unit's operations and buffer traffic, all images
  bool cim = false;
  LayerReport mvm;  // CIM layers only
};

// The digital unit's element operations per image of layer `layer`, and its cycles
// ceil(ops / digital.ops_per_cycle) (docs/timing.md, "Networks").
int64_t digital_ops(const ModelBundle& bundle, std::size_t layer);
int64_t digital_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer);

// The activation buffers (docs/timing.md, "Networks"), at macro.input_bits per element: the bytes
// of one image's output of `layer` (-1: the network input; 0 for flatten, a view of its input);
// the bytes layer `layer` reads and writes per image (its inputs' and its output's; 0 for
// flatten); the cycles that takes at buffer.bytes_per_cycle (0 when unlimited); and the capacity
// the dataflow needs with stage cycles T (bundle order): layer by layer the most bytes alive at
// one layer, pipelined the sum over tensors of bytes x the images held in the steady state.
int64_t tensor_bytes(const HwConfig& hw, const ModelBundle& bundle, int layer);
int64_t buffer_bytes(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer);
int64_t buffer_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer);
int64_t buffer_capacity(const HwConfig& hw, const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles);

// A layer's cycles per image by docs/timing.md, "Networks": its output pixels in rounds of
// `copies`, cycles_per_mvm a round (CIM layers), plus its digital cycles, or its buffer cycles when
// more. What auto duplication plans with and what the simulation takes.
int64_t stage_cycles(const HwConfig& hw, const ModelBundle& bundle, std::size_t layer, int copies,
                     int64_t cycles_per_mvm);

// With chip.duplicate: auto, the config with the copies chosen for `bundle` (docs/config.md):
// starting from one copy each, one more copy of the CIM layer with the most cycles per image
// (the first of equals; pixels in rounds of copies, mvm_cycles per round, plus its digital cycles,
// or its buffer cycles when more)
// while its macros fit in chip.macros and the copy makes it faster, with duplicate_auto off (so
// resolving it again changes nothing). Else `hw` as it is.
HwConfig resolve_duplication(const HwConfig& hw, const ModelBundle& bundle);

// The pipeline rule: with stage cycles T (one per layer, bundle order) and each layer's inputs,
// the cycle at which the last layer finishes item `items - 1` when every stage takes the items in
// order and starts one as soon as it is done with the previous one and its inputs are:
// finish(l, k) = max(finish(l, k - 1), max over inputs s of finish(s, k)) + T_l.
int64_t pipeline_cycles(const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles, int64_t items);
// The same recurrence's finish(l, items - 1) of every layer (bundle order; zeros for no items).
std::vector<int64_t> pipeline_finish(const ModelBundle& bundle, const std::vector<int64_t>& stage_cycles,
                                     int64_t items);

struct NetworkReport {
  std::string model;
  int64_t images = 0;
  int64_t correct = 0;
  std::vector<NetworkLayerReport> layers;
  Eigen::MatrixXd logits;        // images x classes
  std::vector<int> predictions;  // first index of the largest logit
  // Cycles between images (layer by layer: the layers' sum; pipelined: the slowest stage's),
  // one image's cycles from input to logits, and the chip's cycles for every image
  // (docs/timing.md, "Networks").
  int64_t cycles_per_image = 0;
  int64_t latency_cycles = 0;
  int64_t run_cycles = 0;
  int64_t simulated_cycles = 0;  // the simulation's end: the rule over batches instead of images
  int bottleneck = -1;           // the layer with the most cycles per image
  double clock_mhz = 0;
  EnergyBreakdown energy;        // the CIM layers' macros, all images
  double digital_pj = 0;         // the digital unit's operations, all images
  double digital_static_pj = 0;  // the digital unit's leakage, all images
  double buffer_pj = 0;          // the activation buffers' traffic, all images
  int64_t buffer_capacity_bytes = 0;

  double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
  double latency_per_image_s() const { return double(latency_cycles) / (clock_mhz * 1e6); }
  double images_per_second() const { return 1.0 / (double(cycles_per_image) / (clock_mhz * 1e6)); }
  double energy_per_image_pj() const {
    return images ? (energy.total_pj() + digital_pj + digital_static_pj + buffer_pj) / double(images) : 0.0;
  }
};

// Checks the bundle against the hardware: bit widths, and that its CIM layers' macros fit
// chip.macros; InputError naming the files and the fix.
void check_bundle_fits(const HwConfig& hw, const ModelBundle& bundle);

// Elaborates and simulates (once per process, or per SimulationSession) every image of `data`.
NetworkReport run_network(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                          const NetworkOptions& options);

// Chooses a CIM layer's ADC interval from its conversions of every image over the full range.
using IntervalChooser = std::function<AdcInterval(const BundleLayer& layer, const ConversionStats& measured)>;

// cimsim calibrate's order (docs/calibration.md): every image through layer 0, then every image
// through layer 1, and so on. Each CIM layer runs twice: over the full range (whatever the config
// or the bundle says), after which `choose` gives its interval, then over that interval, giving
// the outputs the later layers see. Every draw is keyed as in run_network, so each layer measures
// exactly what it measures in run_network with the earlier layers' chosen intervals. Keeps every
// image's outputs of a layer in memory until its last consumer has run. Elaborates and simulates
// once per process (or SimulationSession), like run_network; no trace, histograms always on.
void calibrate_network(const HwConfig& hw, const ModelBundle& bundle, const data::Dataset& data,
                       const NetworkOptions& options, const IntervalChooser& choose);

}  // namespace cimsim
