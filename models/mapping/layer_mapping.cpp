#include "mapping/layer_mapping.h"

#include <algorithm>
#include <stdexcept>

#include "core/error.h"

namespace cimsim {

std::vector<RowGroup> plain_row_groups(int inputs, int rows_per_cycle) {
  std::vector<RowGroup> groups;
  for (int begin = 0; begin < inputs; begin += rows_per_cycle) {
    groups.push_back({begin, std::min(rows_per_cycle, inputs - begin)});
  }
  return groups;
}

std::vector<RowGroup> conv_row_groups(int in_channels, int kernel_h, int kernel_w, int rows_per_cycle) {
  const int kernel = kernel_h * kernel_w;
  const int rows = in_channels * kernel;
  if (kernel > rows_per_cycle) return plain_row_groups(rows, rows_per_cycle);
  const int channels_per_group = rows_per_cycle / kernel;
  std::vector<RowGroup> groups;
  for (int c = 0; c < in_channels; c += channels_per_group) {
    groups.push_back({c * kernel, std::min(channels_per_group, in_channels - c) * kernel});
  }
  return groups;
}

LayerMapping map_layer(int inputs, int outputs, std::vector<RowGroup> groups, const MacroConfig& macro) {
  if (inputs <= 0 || outputs <= 0) throw std::invalid_argument("map_layer: empty matrix");
  LayerMapping m;
  m.inputs = inputs;
  m.outputs = outputs;
  m.groups = std::move(groups);
  for (int g = 0; g < int(m.groups.size()); ++g) {
    const RowGroup& group = m.groups[std::size_t(g)];
    if (group.size < 1 || group.size > macro.rows_per_cycle)
      throw std::invalid_argument("map_layer: bad group");
    if (m.row_tiles.empty() || m.row_tiles.back().row_count + group.size > macro.rows) {
      m.row_tiles.push_back({g, 0, group.begin, 0});
    }
    m.row_tiles.back().num_groups += 1;
    m.row_tiles.back().row_count += group.size;
  }
  const int per_macro = macro.outputs_per_macro();
  for (int begin = 0; begin < outputs; begin += per_macro) {
    m.col_tiles.push_back({begin, std::min(per_macro, outputs - begin)});
  }
  return m;
}

double utilization(const LayerMapping& mapping, const MacroConfig& macro) {
  const double used = double(mapping.inputs) * mapping.outputs * macro.bitlines_per_output();
  return used / (double(mapping.macros()) * macro.rows * macro.cols);
}

void check_macros_fit(int64_t needed, int available, const std::string& detail, const std::string& source) {
  if (available == 0 || needed <= available) return;
  throw InputError(source + ": the mapping needs " + std::to_string(needed) + " macros (" + detail +
                   ") but chip.macros = " + std::to_string(available) +
                   "; raise chip.macros (e.g. --set chip.macros=" + std::to_string(needed) +
                   "), enlarge the macro or use fewer bits per weight");
}

}  // namespace cimsim
