// Programming one macro's tile of a layer: bit-slicing the signed weights into differential cell
// pairs and applying the device models (variation, stuck-at faults, drift) cell by cell.
// docs/numerics.md, "Weight slices" and "Device draws", is the exact rule.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "config/hw_config.h"
#include "device/level_errors.h"
#include "mapping/layer_mapping.h"

namespace cimsim {

// Conductances of a tile as the ADC inputs see them, rows = tile rows, one column per ADC signal:
// analog subtraction: signal (o * S + s) = G+ - G- of local output o, slice s;
// digital subtraction: signal 2 * (o * S + s) + side, side 0 = G+, 1 = G-.
// Programmed conductances are held in fixed point with kConductanceFractionBits fractional bits
// of one level, so partial sums over them are exact in double precision and do not depend on
// summation order (or on how the batch is cut); docs/numerics.md, "Device draws".
constexpr int kConductanceFractionBits = 16;

struct TileConductances {
  Eigen::MatrixXf actual;      // what the cells conduct, as float (levels when the devices are ideal)
  Eigen::MatrixXf ideal;       // the target levels; empty when the devices are ideal (then equal to actual)
  Eigen::MatrixXd programmed;  // exact fixed-point conductances; empty when the devices are ideal
  // programmed * 2^16 as float (exact integers), filled when every partial sum over them stays
  // below 2^24 (max_partial_sum() * 2^16 < 2^24): then a float GEMM is exact, and faster.
  Eigen::MatrixXf programmed_scaled;
  // Per row of the tile: its cells on the tile's bit lines that conduct (programmed G > 0; with
  // ideal devices, level > 0), for the data-dependent array energy.
  std::vector<int32_t> conducting;
  // Every programmed cell's error against its target level; empty when the devices are ideal.
  DeviceLevelErrors level_errors;
  // With bit-line effects (DeviceConfig::bitline_effects()): each physical bit line's conductances,
  // column 2 q + side for pair q = o S + s (side 0: G+, 1: G-), programmed or target levels.
  Eigen::MatrixXd sides;
};

// Rounds a conductance (in levels) to the fixed-point grid, half to even.
double to_fixed_point_conductance(double g);

// W is K x N with |w| <= 2^(weight_bits-1) - 1 (checked by the caller).
TileConductances program_tile(const HwConfig& hw, const Eigen::MatrixXi& weights, const LayerMapping& mapping,
                              int macro, uint64_t seed, uint64_t layer_id);

// Digit of slice s of |w|: (|w| >> s * cell_bits) & (2^cell_bits - 1).
inline int weight_slice(int magnitude, int slice, int cell_bits) {
  return (magnitude >> (slice * cell_bits)) & ((1 << cell_bits) - 1);
}

}  // namespace cimsim
