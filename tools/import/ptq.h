// Post-training quantization of an imported float network into a model bundle (docs/import.md):
// per-output-channel weight steps (max or mse), per-layer input steps from calibration images run
// through the float network (percentile or mse), signed inputs where the input can be negative.
#pragma once

#include <string>
#include <vector>

#include "bundle/model_bundle.h"
#include "data/dataset.h"
#include "import/float_graph.h"

namespace cimsim::onnx_import {

struct PtqOptions {
  int weight_bits = 8;
  int input_bits = 8;
  std::string weight_method = "max";        // max | mse
  std::string input_method = "percentile";  // percentile | mse
  double percentile = 99.99;                // of |input| per layer
  std::vector<double> mean, std;            // the bundle's input normalisation
  std::string name;                         // the bundle's name
};

// Per-layer figures of the calibration, for the import report.
struct PtqLayer {
  std::string name;
  bool input_signed = false;
  double input_scale = 0;
  double input_max = 0;     // largest |input| seen
  double clipped = 0;       // share of calibration inputs beyond the range
  double weight_error = 0;  // relative RMS error of the quantized weights
  bool from_model = false;  // steps taken from the model's QuantizeLinear / DequantizeLinear
};

struct PtqResult {
  ModelBundle bundle;
  std::vector<PtqLayer> layers;
  int64_t images = 0;
  int64_t float_correct = 0;  // float network's correct predictions on the calibration images
};

// Quantizes `graph` with `calibration` (its labels, if any, score the float network).
PtqResult quantize_graph(const FloatGraph& graph, const data::Dataset& calibration, const PtqOptions& options);

}  // namespace cimsim::onnx_import
