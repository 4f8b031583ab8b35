// The network architectures of the experiment file (models/bundle/architectures.h builds their
// layer graphs; network.h builds the trainable modules from them).
#pragma once

#include "bundle/model_bundle.h"
#include "experiment_config.h"

namespace cimsim::train {

// The layer graph of the experiment's network for its data set (input shape, mean/std, 10 classes,
// bits), with zero weights.
ModelBundle architecture(const ExperimentConfig& config);

// [C, H, W] of the data set's images.
std::vector<int> input_shape(const DataSpec& data);

}  // namespace cimsim::train
