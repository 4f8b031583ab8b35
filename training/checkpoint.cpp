#include "checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace cimsim::train {

std::string checkpoint_path(const std::string& dir, Stage stage) {
  return (std::filesystem::path(dir) / (std::string(stage_name(stage)) + ".ckpt")).string();
}

std::string checkpoint_path(const std::string& dir, Stage stage, const std::string& which) {
  return (std::filesystem::path(dir) / (std::string(stage_name(stage)) + "-" + which + ".ckpt")).string();
}

void save_checkpoint(const std::string& path, NetworkImpl& net, torch::optim::Optimizer& optimizer,
                     const CheckpointInfo& info) {
  torch::serialize::OutputArchive archive, model, optim;
  net.save(model);
  optimizer.save(optim);
  archive.write("model", model);
  archive.write("optimizer", optim);
  archive.write("stage", torch::tensor({int64_t(info.stage)}));
  archive.write("epochs_done", torch::tensor({int64_t(info.epochs_done)}));
  archive.write("seed", torch::tensor({int64_t(info.seed)}));
  // Serialised in memory first: LibTorch's file writer throws from its destructor when a write
  // fails (disk full), which terminates the process. Then written and renamed over the previous
  // checkpoint, which stays intact until the new one is complete.
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string data = bytes.str();
  const std::string temporary = path + ".tmp";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  out.write(data.data(), std::streamsize(data.size()));
  out.close();
  std::error_code ec;
  if (!out) {
    std::filesystem::remove(temporary, ec);
    throw InputError(path + ": cannot write the checkpoint (" + std::to_string(data.size()) +
                     " bytes; is the disk full or the directory read-only?); the previous checkpoint, if any, is "
                     "kept: free space and rerun with --resume");
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw InputError(path + ": cannot move the checkpoint into place: " + ec.message());
  }
}

CheckpointInfo load_checkpoint(const std::string& path, NetworkImpl& net,
                               torch::optim::Optimizer* optimizer) {
  CheckpointInfo info;
  try {
    torch::serialize::InputArchive archive, model;
    archive.load_from(path);
    archive.read("model", model);
    net.load(model);
    if (optimizer) {
      torch::serialize::InputArchive optim;
      archive.read("optimizer", optim);
      optimizer->load(optim);
    }
    torch::Tensor t;
    archive.read("stage", t);
    info.stage = Stage(t.item<int64_t>());
    archive.read("epochs_done", t);
    info.epochs_done = int(t.item<int64_t>());
    archive.read("seed", t);
    info.seed = uint64_t(t.item<int64_t>());
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot load the checkpoint (" + std::string(e.what_without_backtrace()) +
                     "); was it written by this experiment's network?");
  }
  return info;
}

}  // namespace cimsim::train
