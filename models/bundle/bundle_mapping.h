// How a bundle's CIM layer maps onto macros: its weight matrix (rows ordered c_in, k_h, k_w for a
// convolution) cut into row groups by the kernel-splitting rule (docs/numerics.md, section 3),
// then into row and column tiles. Shared by the simulator and the trainer's stage 2.
#pragma once

#include "bundle/model_bundle.h"
#include "config/hw_config.h"
#include "mapping/layer_mapping.h"

namespace cimsim {

LayerMapping map_bundle_layer(const BundleLayer& layer, const MacroConfig& macro);

}  // namespace cimsim
