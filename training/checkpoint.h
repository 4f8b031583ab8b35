// Per-stage checkpoints (<out>/<stage>.ckpt): the network's parameters and buffers (including the LSQ
// steps and their initialised flags), the optimizer's state (momentum or Adam moments), the epochs
// done and the seed. Written atomically: to a temporary file in the same directory, then renamed,
// so a crash never leaves a truncated checkpoint in place of the last good one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "experiment_config.h"
#include "network.h"

namespace cimsim::train {

std::string checkpoint_path(const std::string& dir, Stage stage);
// With select: best (docs/training.md): the best held-out epoch so far ("best") and, once the stage
// ends with the best epoch's weights, its last epoch ("last"): DIR/<stage>-<which>.ckpt.
std::string checkpoint_path(const std::string& dir, Stage stage, const std::string& which);

struct CheckpointInfo {
  Stage stage = Stage::kFp32;
  int epochs_done = 0;
  uint64_t seed = 0;
};

void save_checkpoint(const std::string& path, NetworkImpl& net, torch::optim::Optimizer& optimizer,
                     const CheckpointInfo& info);
// Restores network and optimizer; returns what was saved. InputError if unreadable or of another shape.
CheckpointInfo load_checkpoint(const std::string& path, NetworkImpl& net, torch::optim::Optimizer* optimizer);

}  // namespace cimsim::train
