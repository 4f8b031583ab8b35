// Mapping a logical integer matrix W (K inputs x N outputs) onto CIM macros.
//
// Rows are split into row groups of at most rows_per_cycle (the rows a bit line can accumulate
// at once): consecutive rows for a plain matrix, whole input channels for a convolution when the
// kernel fits (the kernel splitting of the two-stage training thesis), chunks otherwise. Groups
// are packed in order into row tiles of at most `rows` rows; outputs are cut into column tiles of
// outputs_per_macro() outputs. Each (row tile, column tile) pair is one macro. docs/numerics.md
// gives the rule; docs/timing.md how the tiles run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/hw_config.h"

namespace cimsim {

struct RowGroup {
  int begin = 0;  // first logical row
  int size = 0;   // rows in the group, 1..rows_per_cycle
};

struct RowTile {
  int first_group = 0;
  int num_groups = 0;
  int row_begin = 0;
  int row_count = 0;
};

struct ColTile {
  int col_begin = 0;  // first logical output
  int col_count = 0;
};

struct LayerMapping {
  int inputs = 0;   // K
  int outputs = 0;  // N
  std::vector<RowGroup> groups;
  std::vector<RowTile> row_tiles;
  std::vector<ColTile> col_tiles;

  int macros() const { return int(row_tiles.size() * col_tiles.size()); }
  // Macro m sits at row tile m / col_tiles.size(), column tile m % col_tiles.size().
  const RowTile& row_tile_of(int macro) const { return row_tiles[std::size_t(macro) / col_tiles.size()]; }
  const ColTile& col_tile_of(int macro) const { return col_tiles[std::size_t(macro) % col_tiles.size()]; }
};

// Consecutive chunks of rows_per_cycle rows (the last may be shorter).
std::vector<RowGroup> plain_row_groups(int inputs, int rows_per_cycle);
// Rows ordered (c_in, k_h, k_w): floor(A / (k_h k_w)) whole channels per group when k_h k_w <= A,
// else chunks of A rows.
std::vector<RowGroup> conv_row_groups(int in_channels, int kernel_h, int kernel_w, int rows_per_cycle);

LayerMapping map_layer(int inputs, int outputs, std::vector<RowGroup> groups, const MacroConfig& macro);

// Share of the cells of the layer's macros that hold weights: K N 2S / (macros rows cols).
double utilization(const LayerMapping& mapping, const MacroConfig& macro);

// Throws InputError when `needed` macros exceed the chip's `available` (0: unlimited); `detail`
// lists where they go (e.g. per layer) and `source` names the hardware config.
void check_macros_fit(int64_t needed, int available, const std::string& detail, const std::string& source);

}  // namespace cimsim
