// Writing model bundles (docs/model-bundle.md) from memory, for tests, tools and the trainer's
// exporter: BundleBuilder appends layers to a ModelBundle in execution order; write_model_bundle
// saves model.yaml and one .npy per tensor ("<layer>.weight.npy", ...). The result reads back with
// load_model_bundle. No validation here beyond what writing needs: the loader is the checker.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "bundle/model_bundle.h"

namespace cimsim {

// Writes `bundle` into directory `dir` (created if needed). Weights go out as int8 (int16 above 8
// bits) in the file layout
// [out, in, k_h, k_w] / [out, in]; weight_scale as a number when all entries are equal, else a file;
// bias only when some entry is non-zero; `inputs` only when not the previous layer. Layer output
// shapes, line numbers, dir and manifest are ignored. Throws InputError on I/O failure.
void write_model_bundle(const ModelBundle& bundle, const std::string& dir);
// The same, atomically: into the sibling directory "<dir>.partial", checked by load_model_bundle
// (never publishes a bundle the loader rejects), then renamed over `dir`.
void write_model_bundle_atomically(const ModelBundle& bundle, const std::string& dir);

class BundleBuilder {
 public:
  // Mean 0 and std 1 for every input channel until changed through bundle().
  BundleBuilder(std::string name, std::vector<int> input_shape, int classes, BundleBits bits);

  // Each adds a layer fed by the previous one (see connect) and returns it for filling in. CIM
  // layers start with zero weights (K x N), weight_scale 1, input_scale 1 and zero bias; batchnorm
  // with scale 1 and shift 0. A grouped conv2d: set `groups` and fill the block-diagonal weights.
  BundleLayer& conv2d(const std::string& name, int in_channels, int out_channels, std::array<int, 2> kernel,
                      std::array<int, 2> stride = {{1, 1}}, std::array<int, 2> padding = {{0, 0}});
  BundleLayer& linear(const std::string& name, int in_features, int out_features);
  BundleLayer& batchnorm(const std::string& name, int channels);
  BundleLayer& maxpool(const std::string& name, std::array<int, 2> kernel, std::array<int, 2> stride,
                       std::array<int, 2> padding = {{0, 0}});
  BundleLayer& avgpool(const std::string& name, std::array<int, 2> kernel, std::array<int, 2> stride);
  BundleLayer& add(const std::string& name, const std::string& a, const std::string& b);
  BundleLayer& concat(const std::string& name, const std::vector<std::string>& inputs);
  BundleLayer& clip(const std::string& name, double lo, double hi);
  // relu, global_avgpool or flatten.
  BundleLayer& simple(const std::string& name, LayerType type);

  // Feeds layer `name` from the named earlier layers ("input": the network input).
  void connect(const std::string& name, const std::vector<std::string>& inputs);

  ModelBundle& bundle() { return bundle_; }
  const ModelBundle& bundle() const { return bundle_; }
  void write(const std::string& dir) const { write_model_bundle(bundle_, dir); }

 private:
  BundleLayer& append(const std::string& name, LayerType type);
  ModelBundle bundle_;
};

}  // namespace cimsim
