// An independent, plain-loop implementation of docs/numerics.md for ideal cells, written from
// the document and sharing no code with the simulator: the tests compare the simulator's output
// with it bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace cimsim::testing {

struct ReferenceSpec {
  int rows, rows_per_cycle;
  int weight_bits, input_bits, dac_bits, cell_bits, adc_bits;
  bool digital = false;
  bool adc_ideal = true;
  double lo = 0, hi = 0;     // ADC interval
  int accumulator_bits = 0;  // 0: none
  double wire_resistance = 0;  // device.wire_resistance (numerics.md section 7, bit-line effects)
};

// One bit line's sum over the rows [begin, end) of a row group at tile positions begin - first ...,
// with the first-order IR drop written as the physics reads: row k's current I_k = x_k g_k flows
// through every wire segment from its row to the sense end (after tile position rows - 1); the
// voltage its cell loses is r times the current of each such segment, so
//   y = sum_k I_k (1 - r L_k),  L_k = sum over segments q from k's position to rows - 1 of J_q,
// J_q the current in segment q (every row current at a position <= q). Integer sums, then in double.
inline double reference_bitline(const std::vector<long>& current, int first_position, int rows, double r) {
  if (r == 0) {
    long sum = 0;
    for (long i : current) sum += i;
    return double(sum);
  }
  const int n = int(current.size());
  std::vector<long> J(std::size_t(rows), 0);  // segment q's current
  for (int q = 0; q < rows; ++q)
    for (int i = 0; i < n; ++i)
      if (first_position + i <= q) J[std::size_t(q)] += current[std::size_t(i)];
  long total = 0, loss = 0;
  for (int i = 0; i < n; ++i) {
    long L = 0;
    for (int q = first_position + i; q < rows; ++q) L += J[std::size_t(q)];
    total += current[std::size_t(i)];
    loss += current[std::size_t(i)] * L;
  }
  return double(total) - r * double(loss);
}

inline double reference_adc(const ReferenceSpec& r, double y) {
  if (r.adc_ideal) return y;
  const double top = double((1 << r.adc_bits) - 1);
  const double step = (r.hi - r.lo) / top;
  double code = std::nearbyint((y - r.lo) / step);  // default rounding mode: half to even
  if (code < 0) code = 0;
  if (code > top) code = top;
  return r.lo + code * step;
}

inline double saturate(const ReferenceSpec& r, double v) {
  if (r.accumulator_bits == 0) return v;
  const double limit = std::ldexp(1.0, r.accumulator_bits - 1);
  return std::min(std::max(v, -limit), limit - 1.0);
}

// W[k][n], X[b][k]; returns Y[b][n].
inline std::vector<std::vector<double>> reference_mvm(const ReferenceSpec& r,
                                                      const std::vector<std::vector<int>>& W,
                                                      const std::vector<std::vector<int>>& X) {
  const int K = int(W.size()), N = int(W[0].size());
  const int phases = (r.input_bits + r.dac_bits - 1) / r.dac_bits;
  const int slices = (r.weight_bits - 1 + r.cell_bits - 1) / r.cell_bits;
  const int digit_mask = (1 << r.dac_bits) - 1, cell_mask = (1 << r.cell_bits) - 1;
  // Row groups of rows_per_cycle consecutive rows; a tile takes groups while they fit in `rows`.
  std::vector<std::vector<std::pair<int, int>>> tiles;  // groups as [begin, end)
  int tile_rows = 0;
  for (int begin = 0; begin < K; begin += r.rows_per_cycle) {
    const int end = std::min(K, begin + r.rows_per_cycle);
    if (tiles.empty() || tile_rows + (end - begin) > r.rows) {
      tiles.emplace_back();
      tile_rows = 0;
    }
    tiles.back().push_back({begin, end});
    tile_rows += end - begin;
  }
  std::vector<std::vector<double>> Y(X.size(), std::vector<double>(std::size_t(N), 0.0));
  const bool ir = r.wire_resistance > 0;
  for (std::size_t b = 0; b < X.size(); ++b) {
    for (int n = 0; n < N; ++n) {
      double out = 0;
      for (const auto& tile : tiles) {
        double acc = 0;
        for (const auto& [begin, end] : tile) {
          for (int p = 0; p < phases; ++p) {
            for (int s = 0; s < slices; ++s) {
              std::vector<long> plus, minus;  // row currents of the two bit lines
              for (int k = begin; k < end; ++k) {
                const int digit = (X[b][std::size_t(k)] >> (p * r.dac_bits)) & digit_mask;
                const int w = W[std::size_t(k)][std::size_t(n)];
                const int level = (std::abs(w) >> (s * r.cell_bits)) & cell_mask;
                plus.push_back(w > 0 ? long(digit) * level : 0);
                minus.push_back(w < 0 ? long(digit) * level : 0);
              }
              const int position = begin - tile.front().first;
              const double yp = reference_bitline(plus, position, r.rows, r.wire_resistance);
              const double ym = reference_bitline(minus, position, r.rows, r.wire_resistance);
              // With IR drop the sums are not integers: the bit line's value is held as float.
              auto held = [ir](double y) { return ir ? double(float(y)) : y; };
              const double v = r.digital ? reference_adc(r, held(yp)) - reference_adc(r, held(ym))
                                         : reference_adc(r, held(yp - ym));
              acc = saturate(r, acc + v * std::ldexp(1.0, p * r.dac_bits + s * r.cell_bits));
            }
          }
        }
        out = saturate(r, out + acc);
      }
      Y[b][std::size_t(n)] = out;
    }
  }
  return Y;
}

}  // namespace cimsim::testing
