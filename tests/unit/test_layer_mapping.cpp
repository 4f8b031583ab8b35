// Tests of the layer mapping (models/core/layer_mapping.h): row groups, row and column tiles,
// macro indexing and coverage of every logical row and output.

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "../support/test_configs.h"
#include "mapping/layer_mapping.h"

namespace {

using cimsim::LayerMapping;
using cimsim::RowGroup;
using cimsim::testing::HwParams;

std::vector<int> sizes(const std::vector<RowGroup>& g) {
  std::vector<int> s;
  for (const RowGroup& r : g) s.push_back(r.size);
  return s;
}
std::vector<int> begins(const std::vector<RowGroup>& g) {
  std::vector<int> b;
  for (const RowGroup& r : g) b.push_back(r.begin);
  return b;
}

cimsim::MacroConfig macro(int rows, int rows_per_cycle, int cols, int cols_per_adc = 2) {
  HwParams p;
  p.rows = rows;
  p.rows_per_cycle = rows_per_cycle;
  p.cols = cols;
  p.cols_per_adc = cols_per_adc;
  return cimsim::testing::make_hw(p).macro;  // weight_bits 4, cell_bits 1: 3 slices, 6 bit lines an output
}

// Every logical row lies in exactly one group and one row tile; every output in one column tile.
void expect_exact_cover(const LayerMapping& m, int rows_per_tile, int rows_per_cycle) {
  std::vector<int> in_group(std::size_t(m.inputs), 0), in_tile(std::size_t(m.inputs), 0);
  for (const RowGroup& g : m.groups) {
    EXPECT_GE(g.size, 1);
    EXPECT_LE(g.size, rows_per_cycle);
    for (int r = g.begin; r < g.begin + g.size; ++r) ++in_group[std::size_t(r)];
  }
  int next_group = 0;
  for (const cimsim::RowTile& t : m.row_tiles) {
    EXPECT_EQ(t.first_group, next_group);  // groups packed in order
    EXPECT_LE(t.row_count, rows_per_tile);
    int rows = 0;
    for (int g = t.first_group; g < t.first_group + t.num_groups; ++g) rows += m.groups[std::size_t(g)].size;
    EXPECT_EQ(rows, t.row_count);
    EXPECT_EQ(t.row_begin, m.groups[std::size_t(t.first_group)].begin);
    for (int r = t.row_begin; r < t.row_begin + t.row_count; ++r) ++in_tile[std::size_t(r)];
    next_group += t.num_groups;
  }
  EXPECT_EQ(next_group, int(m.groups.size()));
  for (int r = 0; r < m.inputs; ++r) {
    EXPECT_EQ(in_group[std::size_t(r)], 1) << "row " << r;
    EXPECT_EQ(in_tile[std::size_t(r)], 1) << "row " << r;
  }
  std::vector<int> in_col(std::size_t(m.outputs), 0);
  for (const cimsim::ColTile& c : m.col_tiles) {
    for (int n = c.col_begin; n < c.col_begin + c.col_count; ++n) ++in_col[std::size_t(n)];
  }
  for (int n = 0; n < m.outputs; ++n) EXPECT_EQ(in_col[std::size_t(n)], 1) << "output " << n;
}

TEST(LayerMapping, PlainRowGroupsAreConsecutiveChunks) {
  const auto g = cimsim::plain_row_groups(20, 8);
  EXPECT_EQ(begins(g), (std::vector<int>{0, 8, 16}));
  EXPECT_EQ(sizes(g), (std::vector<int>{8, 8, 4}));
  EXPECT_EQ(sizes(cimsim::plain_row_groups(16, 8)), (std::vector<int>{8, 8}));
  EXPECT_EQ(sizes(cimsim::plain_row_groups(5, 8)), (std::vector<int>{5}));
  EXPECT_TRUE(cimsim::plain_row_groups(0, 8).empty());
}

TEST(LayerMapping, ConvGroupsHoldWholeChannelsWhenKernelFits) {
  // 16 channels of 3x3, A = 64: floor(64 / 9) = 7 channels a group.
  const auto g = cimsim::conv_row_groups(16, 3, 3, 64);
  EXPECT_EQ(sizes(g), (std::vector<int>{63, 63, 18}));
  EXPECT_EQ(begins(g), (std::vector<int>{0, 63, 126}));
  // Kernel exactly A: one channel a group.
  EXPECT_EQ(sizes(cimsim::conv_row_groups(3, 3, 3, 9)), (std::vector<int>{9, 9, 9}));
  // Non-square kernel 1x3, A = 8: 2 channels a group.
  EXPECT_EQ(sizes(cimsim::conv_row_groups(5, 1, 3, 8)), (std::vector<int>{6, 6, 3}));
}

TEST(LayerMapping, ConvGroupsAreChunksWhenKernelExceedsA) {
  // 3 channels of 5x5 = 75 rows, A = 16.
  const auto g = cimsim::conv_row_groups(3, 5, 5, 16);
  EXPECT_EQ(sizes(g), (std::vector<int>{16, 16, 16, 16, 11}));
  EXPECT_EQ(begins(g), (std::vector<int>{0, 16, 32, 48, 64}));
}

TEST(LayerMapping, GroupsPackedIntoRowTiles) {
  // Tiles of 128 rows: 63 + 63 fit, the third group of 18 starts a new tile (2 rows left unused).
  const auto m = cimsim::map_layer(144, 4, cimsim::conv_row_groups(16, 3, 3, 64), macro(128, 64, 24));
  ASSERT_EQ(m.row_tiles.size(), 2u);
  EXPECT_EQ(m.row_tiles[0].first_group, 0);
  EXPECT_EQ(m.row_tiles[0].num_groups, 2);
  EXPECT_EQ(m.row_tiles[0].row_begin, 0);
  EXPECT_EQ(m.row_tiles[0].row_count, 126);
  EXPECT_EQ(m.row_tiles[1].first_group, 2);
  EXPECT_EQ(m.row_tiles[1].num_groups, 1);
  EXPECT_EQ(m.row_tiles[1].row_begin, 126);
  EXPECT_EQ(m.row_tiles[1].row_count, 18);
  expect_exact_cover(m, 128, 64);
}

TEST(LayerMapping, PlainRowTilesFillRows) {
  const auto m = cimsim::map_layer(40, 3, cimsim::plain_row_groups(40, 8), macro(16, 8, 24));
  ASSERT_EQ(m.row_tiles.size(), 3u);
  EXPECT_EQ(m.row_tiles[0].row_count, 16);
  EXPECT_EQ(m.row_tiles[1].row_begin, 16);
  EXPECT_EQ(m.row_tiles[2].row_begin, 32);
  EXPECT_EQ(m.row_tiles[2].row_count, 8);
  expect_exact_cover(m, 16, 8);
}

TEST(LayerMapping, ColumnTilesHoldOutputsPerMacro) {
  // 3 slices x 2 = 6 bit lines an output: 24 columns hold 4 outputs, 26 columns still 4.
  const auto mc = macro(16, 8, 24);
  ASSERT_EQ(mc.outputs_per_macro(), 4);
  const auto m = cimsim::map_layer(16, 10, cimsim::plain_row_groups(16, 8), mc);
  ASSERT_EQ(m.col_tiles.size(), 3u);
  EXPECT_EQ(m.col_tiles[0].col_begin, 0);
  EXPECT_EQ(m.col_tiles[1].col_begin, 4);
  EXPECT_EQ(m.col_tiles[2].col_begin, 8);
  EXPECT_EQ(m.col_tiles[2].col_count, 2);
  const auto m26 = cimsim::map_layer(16, 10, cimsim::plain_row_groups(16, 8), macro(16, 8, 26));
  EXPECT_EQ(m26.col_tiles.size(), 3u);
  EXPECT_EQ(m26.col_tiles[1].col_count, 4);
}

TEST(LayerMapping, MacroIndexIsRowMajorOverTiles) {
  const auto m = cimsim::map_layer(40, 10, cimsim::plain_row_groups(40, 8), macro(16, 8, 24));
  ASSERT_EQ(m.macros(), 3 * 3);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      const int id = r * 3 + c;
      EXPECT_EQ(&m.row_tile_of(id), &m.row_tiles[std::size_t(r)]) << "macro " << id;
      EXPECT_EQ(&m.col_tile_of(id), &m.col_tiles[std::size_t(c)]) << "macro " << id;
    }
  }
}

TEST(LayerMapping, EveryRowAndOutputCoveredOnce) {
  struct Case {
    int in_ch, kh, kw, a, rows, outputs;
  };
  for (const Case& c : {Case{16, 3, 3, 64, 128, 7}, Case{3, 5, 5, 16, 32, 13}, Case{1, 1, 1, 8, 16, 1},
                        Case{64, 1, 1, 8, 16, 25}, Case{10, 3, 3, 32, 64, 4}, Case{7, 2, 2, 16, 16, 9}}) {
    SCOPED_TRACE(testing::Message() << c.in_ch << "x" << c.kh << "x" << c.kw << " A=" << c.a);
    const int k = c.in_ch * c.kh * c.kw;
    const auto m = cimsim::map_layer(k, c.outputs, cimsim::conv_row_groups(c.in_ch, c.kh, c.kw, c.a),
                                     macro(c.rows, c.a, 24));
    EXPECT_EQ(m.inputs, k);
    EXPECT_EQ(m.outputs, c.outputs);
    expect_exact_cover(m, c.rows, c.a);
  }
}

TEST(LayerMapping, RejectsEmptyMatrixAndBadGroups) {
  const auto mc = macro(16, 8, 24);
  EXPECT_THROW(cimsim::map_layer(0, 4, {}, mc), std::invalid_argument);
  EXPECT_THROW(cimsim::map_layer(8, 0, cimsim::plain_row_groups(8, 8), mc), std::invalid_argument);
  EXPECT_THROW(cimsim::map_layer(9, 4, {{0, 9}}, mc), std::invalid_argument);  // larger than A = 8
  EXPECT_THROW(cimsim::map_layer(8, 4, {{0, 8}, {8, 0}}, mc), std::invalid_argument);
}

}  // namespace
