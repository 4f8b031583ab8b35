// One epoch of training and one pass of evaluation, and the optimizer of an experiment.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "experiment_config.h"
#include "image_tensors.h"
#include "network.h"

namespace cimsim::train {

struct PassStats {
  double loss = 0;      // mean cross-entropy per image
  double accuracy = 0;  // top-1, first index of the maximum
};

// (batches done, batches in the epoch, mean loss so far)
using ProgressFn = std::function<void(int64_t, int64_t, double)>;

// Trains on the images in `order`, `batch_size` at a time (the last batch may be smaller). Statistics
// are of the training-mode forward passes.
PassStats train_epoch(NetworkImpl& net, torch::optim::Optimizer& optimizer, const ImageTensors& data,
                      const std::vector<int64_t>& order, int batch_size, const ProgressFn& progress = {});
// Eval-mode forward over all images, in order.
PassStats evaluate(NetworkImpl& net, const ImageTensors& data, int batch_size);

// SGD (momentum, nesterov) or Adam at learning rate `lr`; weight decay on every parameter except the
// LSQ steps (a decay would pull the quantization grid towards zero).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(NetworkImpl& net, const OptimizerSpec& spec,
                                                        double lr);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace cimsim::train
