// Export of a quantized network to a model bundle (docs/model-bundle.md) and loading of a bundle back
// into a network. The mapping (docs/training.md, "Export"):
//   conv2d / linear: weight = round(w / s_w) clamped to +-(2^(weight_bits-1) - 1) (the LSQ integers),
//     weight_scale = s_w per output channel, input_scale = the layer's LSQ activation step s_x,
//     bias as trained (zero where the layer has none), adc: full, or after stage cim the layer's
//     learned interval {lo, hi};
//   batchnorm: scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale;
//   every other layer: its type and geometry.
#pragma once

#include <string>

#include "bundle/bundle_writer.h"
#include "bundle/model_bundle.h"
#include "network.h"

namespace cimsim::train {

// The bundle of `net`, computed in the network's dtype. The network must be quantized with every
// quantizer initialised (InputError otherwise: export after stage qat).
ModelBundle export_bundle(NetworkImpl& net);

// Sets `net`'s weights, steps and batch norms from `bundle` (w = w_int * s_w, steps initialised, batch
// norms folded), after checking that the bundle has the network's layers (names, types, shapes).
// Afterwards the quantized network computes the bundle's function. At bits other than the network's,
// only the float weights, biases and batch norms are set (the quantizers initialise themselves).
void load_bundle_into(NetworkImpl& net, const ModelBundle& bundle);

}  // namespace cimsim::train
