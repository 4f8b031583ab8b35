#include "bundle/bundle_mapping.h"

#include <utility>

namespace cimsim {

LayerMapping map_bundle_layer(const BundleLayer& l, const MacroConfig& macro) {
  // From the geometry, not the weight tensor (a trainer's layer graph holds no weights).
  const bool conv = l.type == LayerType::kConv2d;
  const int k = conv ? l.in_channels * l.kernel[0] * l.kernel[1] : l.in_features;
  const int n = conv ? l.out_channels : l.out_features;
  std::vector<RowGroup> groups =
      conv ? conv_row_groups(l.in_channels, l.kernel[0], l.kernel[1], macro.rows_per_cycle)
           : plain_row_groups(k, macro.rows_per_cycle);
  return map_layer(k, n, std::move(groups), macro);
}

}  // namespace cimsim
