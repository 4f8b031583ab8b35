// The data sets of models/data as tensors, normalised as the bundle's input says, and the seeded
// order in which an epoch visits the training images.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "experiment_config.h"

namespace cimsim::train {

struct ImageTensors {
  torch::Tensor images;  // [N, C, H, W] of `dtype`: (pixel / 255 - mean[c]) / std[c], evaluated in that order
  torch::Tensor labels;  // [N] int64
  int64_t count() const { return labels.size(0); }
};

ImageTensors to_tensors(const data::Dataset& data, const std::vector<double>& mean,
                        const std::vector<double>& std, torch::Dtype dtype = torch::kFloat);

// Reads the experiment's data set split (with its limit) through models/data.
data::Dataset load_split(const DataSpec& spec, data::Split split);

// The permutation of 0..count-1 that epoch `epoch` visits: a Fisher-Yates shuffle whose draws are
// CounterRng(seed, {kShuffleStream, epoch}), so any epoch's order is a function of (seed, epoch) and a
// resumed run visits the same images in the same order as an uninterrupted one.
std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int epoch);

}  // namespace cimsim::train
