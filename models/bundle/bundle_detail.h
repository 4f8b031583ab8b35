// Internal steps of load_model_bundle (models/bundle/model_bundle.cpp), shared by its source files:
// shape inference (bundle_shapes.cpp) and tensor loading (bundle_tensors.cpp). Not for other users.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bundle/model_bundle.h"
#include "config/yaml_section.h"

namespace cimsim::bundle_detail {

// The tensor file names a layer's manifest entry gives, relative to the bundle directory; empty when
// the key is absent (bias) or holds a number (weight_scale, then `weight_scale_value` is set).
struct LayerFiles {
  std::string weight;
  std::string weight_scale;
  double weight_scale_value = 0;
  std::string bias;
  std::string bn_scale;
  std::string bn_shift;
};

// "[6, 14, 14]"
std::string shape_text(const std::vector<int>& shape);
std::string shape_text(const std::vector<int64_t>& shape);

// Sets layer.output_shape from the shapes of its inputs (earlier layers of `bundle`, or the network
// input); inconsistencies fail through `s`, the layer's manifest section, at the key to change.
void infer_output_shape(BundleLayer& layer, const ModelBundle& bundle, const YamlSection& s);

// Reads, checks and stores the layer's tensors (weight, weight_scale, bias; batchnorm scale, shift).
// Errors name the tensor file and the manifest key that refers to it.
void load_layer_tensors(BundleLayer& layer, const LayerFiles& files, const ModelBundle& bundle,
                        const YamlSection& s);

}  // namespace cimsim::bundle_detail
