// Tests of the device models (models/device): programming variation, stuck-at faults, drift,
// read noise, and program_tile's slicing and per-cell draws (docs/numerics.md sections 5, 6).

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "../support/test_configs.h"
#include "mapping/layer_mapping.h"
#include "core/rng.h"
#include "device/array_programming.h"
#include "device/conductance_drift.h"
#include "device/programming_variation.h"
#include "device/read_noise.h"
#include "device/stuck_at_faults.h"

namespace {

using namespace cimsim;
using cimsim::testing::HwParams;

struct Moments {
  int64_t n = 0;
  double sum = 0, sum_sq = 0;
  void add(double x) {
    ++n;
    sum += x;
    sum_sq += x * x;
  }
  double mean() const { return sum / double(n); }
  double stddev() const { return std::sqrt(sum_sq / double(n) - mean() * mean()); }
};

// 5 sigma of a binomial proportion estimated from n draws.
double binomial_tol(double p, int64_t n) { return 5.0 * std::sqrt(p * (1 - p) / double(n)); }

const CounterRng kAdditive(7, {uint64_t(RngTag::kProgramAdditive)});
const CounterRng kLognormal(7, {uint64_t(RngTag::kProgramLognormal)});

TEST(ProgrammingVariation, AdditiveStdMatchesSigmaAtMidRange) {
  const ProgrammingVariation v{0.05, 0.0};
  const double g_max = 15, target = 7.5;  // clamping is 10 sigma away
  Moments m;
  constexpr int kN = 200000;
  for (uint64_t i = 0; i < kN; ++i)
    m.add((v.program(target, g_max, kAdditive, kLognormal, i) - target) / g_max);
  EXPECT_NEAR(m.mean(), 0.0, 5.0 * 0.05 / std::sqrt(double(kN)));
  EXPECT_NEAR(m.stddev(), 0.05, 5.0 * 0.05 / std::sqrt(2.0 * kN));
}

TEST(ProgrammingVariation, LognormalStdOfLogMatchesSigma) {
  const ProgrammingVariation v{0.0, 0.2};
  const double g_max = 1000, target = 3;  // clamping is > 25 sigma away
  Moments m;
  constexpr int kN = 200000;
  for (uint64_t i = 0; i < kN; ++i)
    m.add(std::log(v.program(target, g_max, kAdditive, kLognormal, i) / target));
  EXPECT_NEAR(m.mean(), 0.0, 5.0 * 0.2 / std::sqrt(double(kN)));
  EXPECT_NEAR(m.stddev(), 0.2, 5.0 * 0.2 / std::sqrt(2.0 * kN));
}

TEST(ProgrammingVariation, CombinedIsLognormalThenAdditiveFromOwnStreams) {
  const ProgrammingVariation v{0.1, 0.3};
  const double g_max = 3;
  for (uint64_t i = 0; i < 1000; ++i) {
    const double target = double(i % 4);
    const double expected = std::clamp(
        target * std::exp(0.3 * kLognormal.normal(i)) + 0.1 * g_max * kAdditive.normal(i), 0.0, g_max);
    ASSERT_DOUBLE_EQ(v.program(target, g_max, kAdditive, kLognormal, i), expected) << "i=" << i;
  }
}

TEST(ProgrammingVariation, ResultClampedToZeroGmax) {
  const ProgrammingVariation v{0.5, 0.0};
  const double g_max = 1;
  constexpr int kN = 100000;
  int64_t at_top = 0, at_zero = 0;
  for (uint64_t i = 0; i < kN; ++i) {
    const double hi = v.program(g_max, g_max, kAdditive, kLognormal, i);
    const double lo = v.program(0.0, g_max, kAdditive, kLognormal, i + kN);
    ASSERT_GE(lo, 0.0);
    ASSERT_LE(hi, g_max);
    at_top += hi == g_max;
    at_zero += lo == 0.0;
  }
  // Half the draws push past the bound and are clamped onto it.
  EXPECT_NEAR(double(at_top) / kN, 0.5, binomial_tol(0.5, kN));
  EXPECT_NEAR(double(at_zero) / kN, 0.5, binomial_tol(0.5, kN));
}

TEST(ProgrammingVariation, ZeroSigmasLeaveTargetUnchanged) {
  const ProgrammingVariation v{};
  for (double target : {0.0, 0.25, 1.0, 2.5, 7.0}) {
    for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(v.program(target, 7.0, kAdditive, kLognormal, i), target);
  }
}

TEST(StuckAtFaults, RatesMatchProbabilities) {
  const StuckAtFaults f{0.03, 0.07};
  const CounterRng rng(21, {uint64_t(RngTag::kStuckAt)});
  constexpr int kN = 1000000;
  int64_t s0 = 0, s1 = 0;
  for (uint64_t i = 0; i < kN; ++i) {
    const auto st = f.state(rng, i);
    s0 += st == StuckAtFaults::State::kStuckAt0;
    s1 += st == StuckAtFaults::State::kStuckAt1;
  }
  EXPECT_NEAR(double(s0) / kN, 0.03, binomial_tol(0.03, kN));
  EXPECT_NEAR(double(s1) / kN, 0.07, binomial_tol(0.07, kN));
}

TEST(StuckAtFaults, StateFollowsDocumentedUniformRule) {
  const StuckAtFaults f{0.2, 0.3};
  const CounterRng rng(22, {uint64_t(RngTag::kStuckAt)});
  for (uint64_t i = 0; i < 10000; ++i) {
    const double u = rng.uniform(i);
    const auto expected = u < 0.2   ? StuckAtFaults::State::kStuckAt0
                          : u < 0.5 ? StuckAtFaults::State::kStuckAt1
                                    : StuckAtFaults::State::kHealthy;
    ASSERT_EQ(f.state(rng, i), expected) << "i=" << i;
  }
}

TEST(StuckAtFaults, ApplyReturnsZeroGmaxOrUnchanged) {
  const StuckAtFaults f{0.2, 0.3};
  const CounterRng rng(23, {uint64_t(RngTag::kStuckAt)});
  int seen[3] = {0, 0, 0};
  for (uint64_t i = 0; i < 1000; ++i) {
    const double g = 1.25, g_max = 3;
    const double out = f.apply(g, g_max, rng, i);
    switch (f.state(rng, i)) {
      case StuckAtFaults::State::kStuckAt0:
        ++seen[0];
        ASSERT_EQ(out, 0.0);
        break;
      case StuckAtFaults::State::kStuckAt1:
        ++seen[1];
        ASSERT_EQ(out, g_max);
        break;
      case StuckAtFaults::State::kHealthy:
        ++seen[2];
        ASSERT_EQ(out, g);
        break;
    }
  }
  EXPECT_GT(seen[0], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
}

TEST(StuckAtFaults, ZeroProbabilityNeverFaults) {
  const CounterRng rng(24, {uint64_t(RngTag::kStuckAt)});
  const StuckAtFaults none{};
  const StuckAtFaults only1{0.0, 0.5};
  for (uint64_t i = 0; i < 100000; ++i) {
    ASSERT_EQ(none.state(rng, i), StuckAtFaults::State::kHealthy);
    ASSERT_EQ(none.apply(0.5, 1.0, rng, i), 0.5);
    ASSERT_NE(only1.state(rng, i), StuckAtFaults::State::kStuckAt0);
  }
}

TEST(ConductanceDrift, FactorIsPowerLaw) {
  const ConductanceDrift d{0.05, 1000.0, 2.0};
  EXPECT_DOUBLE_EQ(d.factor(), std::pow(500.0, -0.05));
  EXPECT_LT(d.factor(), 1.0);
  EXPECT_DOUBLE_EQ(d.apply(3.0), 3.0 * std::pow(500.0, -0.05));
  EXPECT_DOUBLE_EQ((ConductanceDrift{0.1, 5.0, 5.0}.factor()), 1.0);
  EXPECT_EQ((ConductanceDrift{0.0, 1e6, 1.0}.factor()), 1.0);
  EXPECT_EQ((ConductanceDrift{0.0, 1e6, 1.0}.apply(2.5)), 2.5);
}

TEST(ReadNoise, ZeroSigmaLeavesValuesUnchanged) {
  std::vector<float> y = {0.f, 1.5f, -3.25f, 100.f};
  const std::vector<float> before = y;
  ReadNoise{}.apply(y.data(), int64_t(y.size()), CounterRng(1, {}), 0, 1);
  EXPECT_EQ(y, before);
}

TEST(ReadNoise, StdMatchesSigma) {
  constexpr int kN = 200000;
  const double sigma = 2.5;
  std::vector<float> y(kN, 100.f);
  ReadNoise{sigma}.apply(y.data(), kN, CounterRng(2, {uint64_t(RngTag::kReadNoise)}), 0, 1);
  Moments m;
  for (float v : y) m.add(double(v) - 100.0);
  EXPECT_NEAR(m.mean(), 0.0, 5.0 * sigma / std::sqrt(double(kN)));
  EXPECT_NEAR(m.stddev(), sigma, 5.0 * sigma / std::sqrt(2.0 * kN));
}

TEST(ReadNoise, IndexBaseAndStrideSelectDraws) {
  const CounterRng rng(3, {uint64_t(RngTag::kReadNoise)});
  const ReadNoise noise{0.75};
  // 1,300 values: the draws come in blocks of 512 (read_noise.cpp), so this crosses two block edges.
  constexpr std::size_t n = 1300;
  std::vector<float> a(n, 2.f), b(n, 2.f), c(n, 2.f);
  noise.apply(a.data(), n, rng, 10, 3);
  noise.apply(b.data(), n, rng, 10, 3);
  noise.apply(c.data(), n, rng, 11, 3);
  EXPECT_EQ(a, b);
  int same = 0;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(a[i], float(2.0 + 0.75 * rng.normal(10 + 3 * i))) << "i=" << i;
    same += a[i] == c[i];
  }
  EXPECT_EQ(same, 0);
}

// ---- program_tile ----

Eigen::MatrixXi random_weights(int k, int n, int max_abs, uint64_t seed) {
  const CounterRng rng(seed, {uint64_t(RngTag::kTestData)});
  Eigen::MatrixXi w(k, n);
  for (int r = 0; r < k; ++r) {
    for (int c = 0; c < n; ++c) {
      const double u = rng.uniform(uint64_t(r) * uint64_t(n) + uint64_t(c));
      w(r, c) = int(std::floor(u * (2 * max_abs + 1))) - max_abs;
    }
  }
  return w;
}

HwConfig make(HwParams p, const std::vector<std::string>& overrides = {}) {
  return parse_hw_config(cimsim::testing::hw_yaml(p), "test.yaml", overrides);
}

// weight_bits 6, cell_bits 2: 3 slices of digits 0..3; 24 columns hold 4 outputs per macro.
HwParams three_slices(const std::string& subtraction) {
  HwParams p;
  p.rows = 16;
  p.cols = 24;
  p.rows_per_cycle = 8;
  p.weight_bits = 6;
  p.cell_bits = 2;
  p.subtraction = subtraction;
  return p;
}

// Expected conductance of (row k, output n, slice s, side) with ideal devices.
int ideal_level(int w, int s, int cell_bits, int side) {
  const bool on_side = side == 0 ? w > 0 : w < 0;
  return on_side ? weight_slice(std::abs(w), s, cell_bits) : 0;
}

TEST(ProgramTile, WeightSliceDigits) {
  EXPECT_EQ(weight_slice(0b110110, 0, 2), 0b10);
  EXPECT_EQ(weight_slice(0b110110, 1, 2), 0b01);
  EXPECT_EQ(weight_slice(0b110110, 2, 2), 0b11);
  EXPECT_EQ(weight_slice(5, 0, 1), 1);
  EXPECT_EQ(weight_slice(5, 1, 1), 0);
  EXPECT_EQ(weight_slice(5, 2, 1), 1);
}

TEST(ProgramTile, IdealAnalogIsSignedSliceDigits) {
  const HwConfig hw = make(three_slices("analog"));
  const int K = 32, N = 10, S = 3;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 1);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  ASSERT_EQ(map.macros(), 2 * 3);
  for (int m = 0; m < map.macros(); ++m) {
    const RowTile& rt = map.row_tile_of(m);
    const ColTile& ct = map.col_tile_of(m);
    const TileConductances t = program_tile(hw, w, map, m, 5, 0);
    EXPECT_EQ(t.ideal.size(), 0);
    ASSERT_EQ(t.actual.rows(), rt.row_count);
    ASSERT_EQ(t.actual.cols(), ct.col_count * S);
    for (int r = 0; r < rt.row_count; ++r) {
      for (int o = 0; o < ct.col_count; ++o) {
        const int wv = w(rt.row_begin + r, ct.col_begin + o);
        for (int s = 0; s < S; ++s) {
          const int sign = wv > 0 ? 1 : wv < 0 ? -1 : 0;
          ASSERT_EQ(t.actual(r, o * S + s), float(sign * weight_slice(std::abs(wv), s, 2)))
              << "macro " << m << " r " << r << " o " << o << " s " << s;
        }
      }
    }
  }
}

TEST(ProgramTile, IdealDigitalHasPlusThenMinusColumns) {
  const HwConfig hw = make(three_slices("digital"));
  const int K = 16, N = 4, S = 3;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 2);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  ASSERT_EQ(map.macros(), 1);
  const TileConductances t = program_tile(hw, w, map, 0, 5, 0);
  EXPECT_EQ(t.ideal.size(), 0);
  ASSERT_EQ(t.actual.rows(), K);
  ASSERT_EQ(t.actual.cols(), N * S * 2);
  for (int r = 0; r < K; ++r) {
    for (int o = 0; o < N; ++o) {
      for (int s = 0; s < S; ++s) {
        for (int side = 0; side < 2; ++side) {
          ASSERT_EQ(t.actual(r, 2 * (o * S + s) + side), float(ideal_level(w(r, o), s, 2, side)))
              << "r " << r << " o " << o << " s " << s << " side " << side;
        }
      }
    }
  }
}

TEST(ProgramTile, VariationKeepsTargetsInIdealAndPerturbsActual) {
  const HwConfig hw = make(three_slices("analog"), {"device.program_sigma=0.05"});
  const HwConfig clean = make(three_slices("analog"));
  const int K = 16, N = 4;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 3);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  const TileConductances t = program_tile(hw, w, map, 0, 5, 0);
  const TileConductances ref = program_tile(clean, w, map, 0, 5, 0);
  ASSERT_EQ(t.ideal.rows(), ref.actual.rows());
  ASSERT_EQ(t.ideal.cols(), ref.actual.cols());
  EXPECT_TRUE(t.ideal == ref.actual);
  int differ = 0;
  for (Eigen::Index i = 0; i < t.actual.size(); ++i) {
    const float d = t.actual.data()[i] - t.ideal.data()[i];
    differ += d != 0.f;
    // Two cells of std 0.05 * g_max = 0.15 each: far below 6 sigma = 1.3.
    EXPECT_LT(std::abs(d), 1.3f);
  }
  // Only pairs whose both targets are 0 and both draws negative stay exact (< 1/4 of them).
  EXPECT_GT(differ, int(t.actual.size()) / 2);
}

// Independent fixed-point rounding of docs/numerics.md section 6 step 7: 2^-16 grid, half to even.
double fixed16(double g) { return std::nearbyint(g * 65536.0) / 65536.0; }

TEST(ProgramTile, FixedPointConductanceGrid) {
  const double q = std::ldexp(1.0, -16);
  EXPECT_EQ(to_fixed_point_conductance(0.5 * q), 0.0);  // ties to even
  EXPECT_EQ(to_fixed_point_conductance(1.5 * q), 2 * q);
  EXPECT_EQ(to_fixed_point_conductance(2.5 * q), 2 * q);
  EXPECT_EQ(to_fixed_point_conductance(3.0), 3.0);
  EXPECT_EQ(to_fixed_point_conductance(1.0 / 3.0), 21845.0 * q);
  EXPECT_EQ(to_fixed_point_conductance(2.0 / 3.0), 43691.0 * q);
}

// Every cell follows docs/numerics.md section 6: variation, faults, drift, fixed point, with draws
// keyed (tag, layer, slice, side) at index k * N + n; analog pairs hold the exact difference.
void check_cell_recipe(const std::string& subtraction) {
  const HwConfig hw =
      make(three_slices(subtraction),
           {"device.program_sigma=0.04", "device.program_lognormal_sigma=0.1", "device.stuck_at_0=0.1",
            "device.stuck_at_1=0.1", "device.drift_nu=0.05", "device.drift_t=100"});
  const bool analog = subtraction == "analog";
  const int K = 32, N = 10, S = 3;
  const uint64_t seed = 9, layer = 4;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 4);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  const ProgrammingVariation var{0.04, 0.1};
  const StuckAtFaults faults{0.1, 0.1};
  const ConductanceDrift drift{0.05, 100, 1};
  const double g_max = 3;
  for (int m = 0; m < map.macros(); ++m) {
    const RowTile& rt = map.row_tile_of(m);
    const ColTile& ct = map.col_tile_of(m);
    const TileConductances t = program_tile(hw, w, map, m, seed, layer);
    const Eigen::Index cols = ct.col_count * S * (analog ? 1 : 2);
    ASSERT_EQ(t.programmed.rows(), rt.row_count);
    ASSERT_EQ(t.programmed.cols(), cols);
    ASSERT_EQ(t.ideal.cols(), cols);
    for (int r = 0; r < rt.row_count; ++r) {
      for (int o = 0; o < ct.col_count; ++o) {
        for (int s = 0; s < S; ++s) {
          const int k = rt.row_begin + r, n = ct.col_begin + o;
          double g[2];
          int level[2];
          for (int side = 0; side < 2; ++side) {
            const uint64_t l = layer, sl = uint64_t(s), sd = uint64_t(side);
            const CounterRng add(seed, {uint64_t(RngTag::kProgramAdditive), l, sl, sd});
            const CounterRng logn(seed, {uint64_t(RngTag::kProgramLognormal), l, sl, sd});
            const CounterRng stuck(seed, {uint64_t(RngTag::kStuckAt), l, sl, sd});
            level[side] = ideal_level(w(k, n), s, 2, side);
            const uint64_t index = uint64_t(k) * uint64_t(N) + uint64_t(n);
            g[side] = fixed16(drift.apply(
                faults.apply(var.program(level[side], g_max, add, logn, index), g_max, stuck, index)));
          }
          const int q = o * S + s;
          for (int side = 0; side < (analog ? 1 : 2); ++side) {
            const int col = analog ? q : 2 * q + side;
            const double want = analog ? g[0] - g[1] : g[side];
            const int want_level = analog ? level[0] - level[1] : level[side];
            ASSERT_EQ(t.programmed(r, col), want)
                << "k " << k << " n " << n << " s " << s << " side " << side;
            ASSERT_EQ(t.actual(r, col), float(want));
            ASSERT_EQ(t.ideal(r, col), float(want_level));
          }
        }
      }
    }
  }
}

TEST(ProgramTile, DigitalCellsFollowDocumentedRecipe) { check_cell_recipe("digital"); }
TEST(ProgramTile, AnalogPairsFollowDocumentedRecipe) { check_cell_recipe("analog"); }

TEST(ProgramTile, IdealDevicesLeaveProgrammedEmpty) {
  const HwConfig hw = make(three_slices("analog"));
  const Eigen::MatrixXi w = random_weights(16, 4, 31, 8);
  const LayerMapping map = map_layer(16, 4, plain_row_groups(16, 8), hw.macro);
  const TileConductances t = program_tile(hw, w, map, 0, 1, 0);
  EXPECT_EQ(t.programmed.size(), 0);
  EXPECT_EQ(t.ideal.size(), 0);
  EXPECT_EQ(t.actual.size(), 16 * 4 * 3);
}

TEST(ProgramTile, DrawsDoNotDependOnTiling) {
  // The same logical cell gets the same conductance whatever macro geometry holds it.
  HwParams small = three_slices("digital");
  HwParams big = small;
  big.rows = 32;
  big.cols = 48;
  const std::vector<std::string> dev = {"device.program_sigma=0.05", "device.stuck_at_0=0.05"};
  const HwConfig hs = make(small, dev), hb = make(big, dev);
  const int K = 32, N = 10, S = 3;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 5);
  const LayerMapping ms = map_layer(K, N, plain_row_groups(K, 8), hs.macro);
  const LayerMapping mb = map_layer(K, N, plain_row_groups(K, 8), hb.macro);
  ASSERT_EQ(ms.macros(), 6);
  ASSERT_EQ(mb.macros(), 2);
  Eigen::MatrixXf full_s(K, N * S * 2), full_b(K, N * S * 2);
  for (auto [map, hw, full] : {std::tuple{&ms, &hs, &full_s}, std::tuple{&mb, &hb, &full_b}}) {
    for (int m = 0; m < map->macros(); ++m) {
      const RowTile& rt = map->row_tile_of(m);
      const ColTile& ct = map->col_tile_of(m);
      const TileConductances t = program_tile(*hw, w, *map, m, 3, 1);
      full->block(rt.row_begin, ct.col_begin * S * 2, rt.row_count, ct.col_count * S * 2) = t.actual;
    }
  }
  EXPECT_TRUE(full_s == full_b);
}

TEST(ProgramTile, SeedAndLayerSelectTheChip) {
  const HwConfig hw = make(three_slices("analog"), {"device.program_sigma=0.05"});
  const int K = 16, N = 4;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 6);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  const Eigen::MatrixXf a = program_tile(hw, w, map, 0, 11, 0).actual;
  EXPECT_TRUE(a == program_tile(hw, w, map, 0, 11, 0).actual);
  const Eigen::MatrixXf other_seed = program_tile(hw, w, map, 0, 12, 0).actual;
  const Eigen::MatrixXf other_layer = program_tile(hw, w, map, 0, 11, 1).actual;
  EXPECT_GT((a.array() != other_seed.array()).count(), a.size() / 2);
  EXPECT_GT((a.array() != other_layer.array()).count(), a.size() / 2);
}

TEST(ProgramTile, DriftScalesEveryCell) {
  const HwConfig hw = make(three_slices("digital"), {"device.drift_nu=0.1", "device.drift_t=1000"});
  const HwConfig clean = make(three_slices("digital"));
  const int K = 16, N = 4;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 7);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  const TileConductances t = program_tile(hw, w, map, 0, 1, 0);
  const Eigen::MatrixXf ref = program_tile(clean, w, map, 0, 1, 0).actual;
  const double f = std::pow(1000.0, -0.1);
  for (Eigen::Index i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(t.programmed.data()[i], fixed16(double(ref.data()[i]) * f));
    ASSERT_EQ(t.actual.data()[i], float(fixed16(double(ref.data()[i]) * f)));
  }
}

TEST(ProgramTile, StuckAtRatesOverLargeTile) {
  // 1-bit cells, one slice: w = +1 puts level 1 on G+ and 0 on G-. A G+ cell reading 0 is
  // stuck-at-0, a G- cell reading 1 is stuck-at-1; 65536 cells per side.
  HwParams p;
  p.rows = 512;
  p.cols = 256;
  p.rows_per_cycle = 8;
  p.weight_bits = 2;
  p.cell_bits = 1;
  p.subtraction = "digital";
  const double p0 = 0.05, p1 = 0.1;
  const HwConfig hw = make(p, {"device.stuck_at_0=0.05", "device.stuck_at_1=0.1"});
  const int K = 512, N = 128;
  const Eigen::MatrixXi w = Eigen::MatrixXi::Ones(K, N);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  ASSERT_EQ(map.macros(), 1);
  const TileConductances t = program_tile(hw, w, map, 0, 17, 2);
  ASSERT_EQ(t.actual.cols(), 2 * N);
  int64_t s0 = 0, s1 = 0, cells = 0;
  for (int o = 0; o < N; ++o) {
    for (int r = 0; r < K; ++r) {
      const float gp = t.actual(r, 2 * o), gm = t.actual(r, 2 * o + 1);
      ASSERT_TRUE(gp == 0.f || gp == 1.f);
      ASSERT_TRUE(gm == 0.f || gm == 1.f);
      s0 += gp == 0.f;
      s1 += gm == 1.f;
      ++cells;
    }
  }
  EXPECT_NEAR(double(s0) / double(cells), p0, binomial_tol(p0, cells));
  EXPECT_NEAR(double(s1) / double(cells), p1, binomial_tol(p1, cells));
}

// ---- per-level device errors (docs/stats.md device_levels) ----

TEST(DeviceLevelErrors, EqualARecountOfTheTileAndTheClampsMoments) {
  // Digital subtraction: every column is one side's cells, so (programmed, ideal) pairs are cells.
  HwParams p = three_slices("digital");
  p.rows = 256;
  p.cols = 240;
  const HwConfig hw = make(p, {"device.program_sigma=0.1", "device.stuck_at_1=0.01"});
  const int K = 256, N = 40;
  const Eigen::MatrixXi w = random_weights(K, N, 31, 4);
  const LayerMapping map = map_layer(K, N, plain_row_groups(K, 8), hw.macro);
  ASSERT_EQ(map.macros(), 1);
  const TileConductances t = program_tile(hw, w, map, 0, 3, 1);
  const DeviceLevelErrors& e = t.level_errors;
  ASSERT_EQ(e.max_level(), 3);
  std::vector<Moments> recount(4);
  for (int r = 0; r < t.programmed.rows(); ++r)
    for (int c = 0; c < t.programmed.cols(); ++c)
      recount[std::size_t(t.ideal(r, c))].add(t.programmed(r, c) - t.ideal(r, c));
  int64_t cells = 0;
  for (int l = 0; l <= 3; ++l) {
    const Moments& m = recount[std::size_t(l)];
    EXPECT_EQ(e.cells(l), m.n) << "level " << l;
    EXPECT_NEAR(e.mean(l), m.mean(), 1e-12) << "level " << l;
    EXPECT_NEAR(e.stddev(l), m.stddev(), 1e-9) << "level " << l;
    cells += e.cells(l);
  }
  EXPECT_EQ(cells, int64_t(K) * N * 3 * 2);  // every cell of both sides and 3 slices
  // Level 0 is clamped at 0: its error is max(0, 0.3 z) (sigma 0.1 of g_max 3) or a stuck-at-1
  // cell's 3: mean 0.99 x 0.3 / sqrt(2 pi) + 0.01 x 3 = 0.1485.
  EXPECT_NEAR(e.mean(0), 0.99 * 0.3 / std::sqrt(2 * M_PI) + 0.03, 0.01);
  // A mid level is unclamped up to stuck cells: mean 0.01 x (3 - 1) = 0.02 at level 1.
  EXPECT_NEAR(e.mean(1), 0.02, 0.02);

  // Merging two tiles' counts gives the counts of both (integer sums: exact, order-free).
  DeviceLevelErrors both;
  both.merge(e);
  both.merge(e);
  EXPECT_EQ(both.cells(2), 2 * e.cells(2));
  EXPECT_EQ(both.mean(2), e.mean(2));
  EXPECT_EQ(both.stddev(2), e.stddev(2));
  // Ideal devices: nothing programmed, nothing counted.
  const HwConfig ideal = make(p);
  EXPECT_TRUE(program_tile(ideal, w, map_layer(K, N, plain_row_groups(K, 8), ideal.macro), 0, 3, 1).level_errors.empty());
}

}  // namespace
