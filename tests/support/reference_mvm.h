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
};

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
  for (std::size_t b = 0; b < X.size(); ++b) {
    for (int n = 0; n < N; ++n) {
      double out = 0;
      for (const auto& tile : tiles) {
        double acc = 0;
        for (const auto& [begin, end] : tile) {
          for (int p = 0; p < phases; ++p) {
            for (int s = 0; s < slices; ++s) {
              long plus = 0, minus = 0;
              for (int k = begin; k < end; ++k) {
                const int digit = (X[b][std::size_t(k)] >> (p * r.dac_bits)) & digit_mask;
                const int w = W[std::size_t(k)][std::size_t(n)];
                const int level = (std::abs(w) >> (s * r.cell_bits)) & cell_mask;
                if (w > 0) plus += long(digit) * level;
                if (w < 0) minus += long(digit) * level;
              }
              const double v = r.digital ? reference_adc(r, double(plus)) - reference_adc(r, double(minus))
                                         : reference_adc(r, double(plus - minus));
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
