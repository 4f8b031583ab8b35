#include "device/array_programming.h"

#include <cmath>
#include <cstdlib>

#include "core/rng.h"
#include "device/conductance_drift.h"
#include "device/programming_variation.h"
#include "device/stuck_at_faults.h"

namespace cimsim {

double to_fixed_point_conductance(double g) {
  constexpr double kScale = double(1 << kConductanceFractionBits);
  return std::nearbyint(g * kScale) / kScale;
}

TileConductances program_tile(const HwConfig& hw, const Eigen::MatrixXi& weights, const LayerMapping& mapping,
                              int macro, uint64_t seed, uint64_t layer_id) {
  const MacroConfig& m = hw.macro;
  const DeviceConfig& d = hw.device;
  const RowTile& rt = mapping.row_tile_of(macro);
  const ColTile& ct = mapping.col_tile_of(macro);
  const int slices = m.slices();
  const int pair_signals = m.signals_per_pair();
  const int signals = ct.col_count * slices * pair_signals;
  const double g_max = m.max_cell_level();
  const bool ideal_devices = d.programming_ideal();

  TileConductances tile;
  tile.actual.setZero(rt.row_count, signals);
  tile.conducting.assign(std::size_t(rt.row_count), 0);
  if (d.bitline_effects()) tile.sides.setZero(rt.row_count, 2 * ct.col_count * slices);
  if (!ideal_devices) {
    tile.ideal.setZero(rt.row_count, signals);
    tile.programmed.setZero(rt.row_count, signals);
    tile.level_errors.init(int(g_max));
  }

  const ProgrammingVariation variation{d.program_sigma, d.program_lognormal_sigma};
  const StuckAtFaults faults{d.stuck_at_0, d.stuck_at_1};
  const ConductanceDrift drift{d.drift_nu, d.drift_t, d.drift_t0};
  const uint64_t outputs = uint64_t(mapping.outputs);

  for (int s = 0; s < slices; ++s) {
    for (int side = 0; side < 2; ++side) {
      const CounterRng additive(seed,
                                {uint64_t(RngTag::kProgramAdditive), layer_id, uint64_t(s), uint64_t(side)});
      const CounterRng lognormal(
          seed, {uint64_t(RngTag::kProgramLognormal), layer_id, uint64_t(s), uint64_t(side)});
      const CounterRng stuck(seed, {uint64_t(RngTag::kStuckAt), layer_id, uint64_t(s), uint64_t(side)});
      for (int o = 0; o < ct.col_count; ++o) {
        const int n = ct.col_begin + o;
        const int pair = o * slices + s;
        for (int r = 0; r < rt.row_count; ++r) {
          const int k = rt.row_begin + r;
          const int w = weights(k, n);
          const bool on_this_side = side == 0 ? w > 0 : w < 0;
          const int level = on_this_side ? weight_slice(std::abs(w), s, m.cell_bits) : 0;
          double g = level;
          if (!ideal_devices) {
            const uint64_t index = uint64_t(k) * outputs + uint64_t(n);
            g = variation.program(g, g_max, additive, lognormal, index);
            g = faults.apply(g, g_max, stuck, index);
            g = to_fixed_point_conductance(drift.apply(g));
            tile.level_errors.add(level, g);
          }
          if (g > 0) ++tile.conducting[std::size_t(r)];
          if (tile.sides.size() > 0) tile.sides(r, 2 * pair + side) = g;
          const int column = pair_signals == 1 ? pair : 2 * pair + side;
          const double sign = pair_signals == 1 && side == 1 ? -1.0 : 1.0;
          if (!ideal_devices) {
            tile.programmed(r, column) += sign * g;  // exact: both terms are on the fixed-point grid
            tile.ideal(r, column) += float(sign * level);
            tile.actual(r, column) = float(tile.programmed(r, column));
          } else {
            tile.actual(r, column) += float(sign * level);
          }
        }
      }
    }
  }
  if (!ideal_devices && m.max_partial_sum() * std::ldexp(1.0, kConductanceFractionBits) < 16777216.0) {
    tile.programmed_scaled = (tile.programmed * std::ldexp(1.0, kConductanceFractionBits)).cast<float>();
  }
  return tile;
}

}  // namespace cimsim
