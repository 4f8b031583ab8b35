// Shape-only networks (docs/model-bundle.md, "Shape-only runs"): a named architecture's graph or any
// bundle's graph with seeded random integer weights, for cycles, energy and area without training.
// Accuracy of such a network is not meaningful; `cimsim run` says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bundle/model_bundle.h"

namespace cimsim {

// Replaces every CIM layer's weights of `bundle` with integers drawn uniformly from
// [-(2^(bits.weight-1) - 1), 2^(bits.weight-1) - 1] (CounterRng(seed, {kShapeOnly, layer}), draw
// k * N + n for row k, output n; grouped convolutions only inside the block diagonal), weight_scale
// 1 / (top * sqrt(fan-in)), bias 0, input_scale range / (2^bits.input - 1) with range the largest
// |normalised pixel| for a layer reading the network input and 4 for the others; sets the bits.
void randomize_weights(ModelBundle& bundle, BundleBits bits, uint64_t seed);

// "lenet5", "vgg8" or "resnet20" (models/bundle/architectures.h) at `width` for [C, H, W] images with
// mean 0 and std 1 and `classes` outputs, zero weights, output shapes inferred (through a scratch
// directory under the system's temporary directory, removed afterwards). InputError for another
// name or a width outside (0, 16].
ModelBundle architecture_bundle(const std::string& name, double width, const std::vector<int>& input_shape,
                                int classes, BundleBits bits);
// The same with randomize_weights(seed): `cimsim run --model arch:NAME:WIDTH`'s network.
ModelBundle shape_only_architecture(const std::string& name, double width,
                                    const std::vector<int>& input_shape, int classes, BundleBits bits,
                                    uint64_t seed);
// A hardware's integer widths as a bundle's.
inline BundleBits bundle_bits(const MacroConfig& macro) { return {macro.weight_bits, macro.input_bits}; }

// The names architecture_bundle knows.
const std::vector<std::string>& architecture_names();

}  // namespace cimsim
