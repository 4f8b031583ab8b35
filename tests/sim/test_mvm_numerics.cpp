// The simulator's outputs against the plain-loop reference of docs/numerics.md, bit for bit.
// Each parameter set is its own test and so (through ctest) its own process.
#include <gtest/gtest.h>
#include "../support/in_child.h"
#include "../support/random_operands.h"
#include "../support/reference_mvm.h"
#include "../support/test_configs.h"
#include "mvm_run.h"

namespace cimsim {
namespace {

using testing::HwParams;
using testing::ReferenceSpec;

struct NumericsCase {
  std::string name;
  HwParams hw;
  int K, N, B;
  int batch = 3;  // vectors per transaction: several transactions per run
};

std::ostream& operator<<(std::ostream& os, const NumericsCase& c) { return os << c.name; }

class MvmNumerics : public ::testing::TestWithParam<NumericsCase> {};

// The residual error (docs/stats.md): the ADC output against the partial sums over the programmed
// cells, so with an ideal converter it is the read noise alone, and the device error is not in it.
// One simulation per process: the read noise's sigma is the parameter.
class MvmStatistics : public ::testing::TestWithParam<double> {};

TEST_P(MvmStatistics, ResidualErrorIsTheReadNoiseAndDeviceLevelsAreCounted) {
  HwParams p;
  p.adc_ideal = true;
  const testing::Operands o = testing::random_operands(p, 40, 12, 300, 8);
  const double read_sigma = GetParam();
  p.device_extra = "  program_lognormal_sigma: 0.3\n  read_noise_sigma: " + std::to_string(read_sigma) + "\n";
  const HwConfig hw = testing::make_hw(p);
  Eigen::MatrixXd y;
  const CimLayerStats f = run_mvm(hw, o.weights, o.x, y, MvmOptions{}).figures();
  ASSERT_TRUE(f.residual_error && f.device_levels) << "programmed devices: both present";
  // 300 vectors x 5 row groups x 4 phases x 12 outputs x 3 slices (4-bit weights on 1-bit cells)
  const int64_t conversions = f.conversions;
  ASSERT_EQ(conversions, 300 * 5 * 4 * 12 * 3);
  if (read_sigma == 0) {
    EXPECT_TRUE(f.residual_error->exact);  // an ideal converter of noise-free programmed sums
    EXPECT_GT(f.error.std, 0.1);           // the device error, measured against the target levels
    EXPECT_FALSE(f.read_error.has_value());
  } else {
    // an ideal converter passes its input on: the read error is the residual
    ASSERT_TRUE(f.read_error.has_value());
    EXPECT_EQ(f.read_error->std, f.residual_error->std);
    EXPECT_EQ(f.read_error->mean, f.residual_error->mean);
    EXPECT_NEAR(f.residual_error->std, read_sigma, 4 * read_sigma / std::sqrt(2.0 * double(conversions)));
    EXPECT_NEAR(f.residual_error->mean, 0.0, 4 * read_sigma / std::sqrt(double(conversions)));
    EXPECT_GT(f.error.std, f.residual_error->std);
  }
  ASSERT_EQ(f.device_levels->size(), 2u);  // 1-bit cells: levels 0 and 1
  int64_t cells = 0;
  for (const DeviceLevelFigures& l : *f.device_levels) cells += l.cells;
  EXPECT_EQ(cells, 40 * 12 * 3 * 2);  // K x N x slices x sides
  EXPECT_EQ((*f.device_levels)[0].mean, 0.0);  // log-normal: level 0 stays 0
  EXPECT_LT((*f.device_levels)[1].mean, -0.05);  // the clamp at g_max cuts the upper tail
  EXPECT_GT((*f.device_levels)[1].std, 0.1);
}

// Read noise that grows with the bit-line current (numerics.md section 7): weights 1 and inputs 15
// make every slice-0 bit line carry 8 (8 rows of digit 1 and level 1) and the other slices' nothing,
// so with an ideal converter E[e^2] = c^2 x 8 on a third of the conversions.
TEST(MvmStatistics, CurrentDependentReadNoiseHasVarianceProportionalToTheCurrent) {
  HwParams p;
  p.adc_ideal = true;
  p.device_extra = "  read_noise_current_sigma: 0.5\n";
  const HwConfig hw = testing::make_hw(p);
  const int K = 16, N = 4, B = 400;
  const Eigen::MatrixXi weights = Eigen::MatrixXi::Ones(K, N);
  const IntMatrix x = IntMatrix::Constant(B, K, 15);
  Eigen::MatrixXd y;
  const CimLayerStats f = run_mvm(hw, weights, x, y, MvmOptions{}).figures();
  const double n = double(f.conversions);  // B x 2 groups x 4 phases x 4 outputs x 3 slices
  ASSERT_EQ(f.conversions, int64_t(B) * 2 * 4 * N * 3);
  const double mean_square = f.error.std * f.error.std + f.error.mean * f.error.mean;
  const double expected = 0.25 * 8 / 3;
  // The squares of the noisy third: variance 2 (c^2 8)^2 each; 5 standard errors.
  EXPECT_NEAR(mean_square, expected, 5 * std::sqrt(2.0 * 4.0 / (n / 3)) / 3);
  // The residual (against the sums before read noise) is the read noise here: equal to the error.
  ASSERT_TRUE(f.residual_error.has_value());
  EXPECT_EQ(f.residual_error->std, f.error.std);
  ASSERT_TRUE(f.read_error.has_value());
  EXPECT_EQ(f.read_error->std, f.error.std);
  EXPECT_FALSE(f.device_levels.has_value());  // no programmed cells
}

// With a finite converter, read_error is the read noise alone while the residual also holds the
// quantization and clipping (docs/stats.md): 3-bit ADC over [-8, 8] (step 16 / 7, so uniform
// quantization alone is 0.66), read noise 0.5.
TEST(MvmStatistics, ReadErrorIsTheReadNoiseBeforeTheConverter) {
  HwParams p;
  p.adc_bits = 3;
  p.device_extra = "  program_lognormal_sigma: 0.1\n  read_noise_sigma: 0.5\n";
  p.interval = "{lo: -8, hi: 8}";
  const testing::Operands o = testing::random_operands(p, 40, 12, 300, 9);
  Eigen::MatrixXd y;
  const CimLayerStats f = run_mvm(testing::make_hw(p), o.weights, o.x, y, MvmOptions{}).figures();
  ASSERT_TRUE(f.read_error && f.residual_error);
  const double n = double(f.conversions);
  EXPECT_NEAR(f.read_error->std, 0.5, 4 * 0.5 / std::sqrt(2.0 * n));
  EXPECT_NEAR(f.read_error->mean, 0.0, 4 * 0.5 / std::sqrt(n));
  EXPECT_GT(f.residual_error->std, 0.7);  // quantization and clipping on top of the read noise
}

// Current-dependent read noise and the IR drop do not depend on how the vectors are cut into
// transactions and slices (the draws are indexed by vector, taken in vectorised blocks):
// transactions of 7 and of 700 vectors give the same outputs (the 7-vector run in a child process:
// a process elaborates one simulation).
TEST(MvmStatistics, BitLineEffectsDoNotDependOnTheBatch) {
  HwParams p;
  p.device_extra = "  read_noise_current_sigma: 0.5\n  wire_resistance: 0.001\n";
  HwParams ideal = p;  // to see that the effects are there
  ideal.device_extra.clear();
  const testing::Operands o = testing::random_operands(p, 40, 12, 700, 5);
  auto outputs = [&](const HwParams& params, int batch) {  // Y's bytes
    Eigen::MatrixXd y;
    MvmOptions options;
    options.batch = batch;
    run_mvm(testing::make_hw(params), o.weights, o.x, y, options);
    return std::string(reinterpret_cast<const char*>(y.data()), std::size_t(y.size()) * sizeof(double));
  };
  const std::string small = testing::in_child([&] { return outputs(p, 7); });
  const std::string plain = testing::in_child([&] { return outputs(ideal, 700); });
  const std::string large = outputs(p, 700);
  ASSERT_EQ(large.size(), std::size_t(700) * 12 * sizeof(double));
  EXPECT_EQ(small, large);
  EXPECT_EQ(plain.size(), large.size());
  EXPECT_NE(plain, large);
}

// The IR drop is in `error` (against the target sums) but not in `residual_error` (against the bit
// lines' values), which --hw-stats feeds back while stage cim models the drop itself.
TEST(MvmStatistics, IrDropIsInTheErrorButNotInTheResidual) {
  HwParams p;
  p.adc_ideal = true;
  p.device_extra = "  wire_resistance: 0.001\n";
  const testing::Operands o = testing::random_operands(p, 40, 12, 100, 3);
  Eigen::MatrixXd y;
  const CimLayerStats f = run_mvm(testing::make_hw(p), o.weights, o.x, y, MvmOptions{}).figures();
  ASSERT_TRUE(f.residual_error.has_value());
  EXPECT_TRUE(f.residual_error->exact);
  EXPECT_GT(f.error.std, 0.01);
}

INSTANTIATE_TEST_SUITE_P(ReadNoise, MvmStatistics, ::testing::Values(0.0, 0.5),
                         [](const ::testing::TestParamInfo<double>& info) {
                           return info.param == 0 ? std::string("none") : std::string("sigma_half");
                         });

TEST_P(MvmNumerics, MatchesReferenceBitForBit) {
  const NumericsCase& c = GetParam();
  const HwConfig hw = testing::make_hw(c.hw);
  const testing::Operands o = testing::random_operands(c.hw, c.K, c.N, c.B, 1234);
  const auto& W = o.W;
  const auto& X = o.X;

  MvmOptions options;
  options.batch = c.batch;
  Eigen::MatrixXd y;
  const LayerReport report = run_mvm(hw, o.weights, o.x, y, options);

  ReferenceSpec r{c.hw.rows,     c.hw.rows_per_cycle, c.hw.weight_bits, c.hw.input_bits,
                  c.hw.dac_bits, c.hw.cell_bits,      c.hw.adc_bits};
  r.digital = c.hw.subtraction == "digital";
  r.adc_ideal = c.hw.adc_ideal;
  const AdcInterval iv = hw.interval_for("mvm");
  r.lo = iv.lo;
  r.hi = iv.hi;
  r.accumulator_bits = c.hw.accumulator_bits == "none" ? 0 : std::stoi(c.hw.accumulator_bits);
  r.wire_resistance = hw.device.wire_resistance;
  const auto expected = testing::reference_mvm(r, W, X);

  ASSERT_EQ(y.rows(), c.B);
  ASSERT_EQ(y.cols(), c.N);
  for (int b = 0; b < c.B; ++b) {
    for (int n = 0; n < c.N; ++n) {
      ASSERT_EQ(y(b, n), expected[std::size_t(b)][std::size_t(n)]) << "vector " << b << " output " << n;
    }
  }
  if (c.hw.adc_ideal && hw.device.wire_resistance == 0) {
    // With ideal cells and converter the layer is the integer product X.W.
    for (int b = 0; b < c.B; ++b) {
      for (int n = 0; n < c.N; ++n) {
        long exact = 0;
        for (int k = 0; k < c.K; ++k)
          exact += long(X[std::size_t(b)][std::size_t(k)]) * W[std::size_t(k)][std::size_t(n)];
        ASSERT_EQ(y(b, n), double(exact));
      }
    }
    EXPECT_EQ(report.stats.error.sum_sq, 0.0);
  }
  EXPECT_GT(report.stats.adc.conversions, 0);
}

HwParams ideal(HwParams p) {
  p.adc_ideal = true;
  return p;
}

HwParams with(HwParams p, const std::function<void(HwParams&)>& f) {
  f(p);
  return p;
}

// The bit-line wire's IR drop (numerics.md section 7) at r = 1/512 of a level's resistance per row.
HwParams ir_drop(HwParams p) {
  p.device_extra += "  wire_resistance: 0.001953125\n";
  return p;
}

const HwParams kBase{};  // 16 x 24 macro, A = 8, 4 columns per ADC, 4b/4b, 1-bit DAC and cells

INSTANTIATE_TEST_SUITE_P(
    IdealAdc, MvmNumerics,
    ::testing::Values(
        NumericsCase{"one_partial_macro", ideal(kBase), 5, 3, 4},
        NumericsCase{"several_macros", ideal(kBase), 37, 11, 7},
        NumericsCase{"single_row", ideal(kBase), 1, 9, 2},
        // Batches of 70 and 300 vectors exercise the blocked integer GEMM (32-row blocks plus remainder).
        NumericsCase{"large_batch", ideal(kBase), 37, 11, 70, 70},
        NumericsCase{"several_large_batches", ideal(kBase), 45, 19, 300, 128},
        NumericsCase{"digital_subtraction",
                     ideal(with(kBase, [](HwParams& p) { p.subtraction = "digital"; })), 29, 6, 5},
        NumericsCase{"wide_digits",
                     ideal(with(kBase,
                                [](HwParams& p) {
                                  p.weight_bits = 6;
                                  p.input_bits = 5;
                                  p.dac_bits = 2;
                                  p.cell_bits = 2;
                                  p.cols = 32;
                                })),
                     41, 13, 6},
        NumericsCase{"rows_per_cycle_equals_rows",
                     ideal(with(kBase, [](HwParams& p) { p.rows_per_cycle = 16; })), 50, 5, 3},
        NumericsCase{"eight_bit",
                     ideal(with(kBase,
                                [](HwParams& p) {
                                  p.weight_bits = 8;
                                  p.input_bits = 8;
                                  p.cols = 56;
                                  p.rows = 64;
                                  p.rows_per_cycle = 32;
                                })),
                     150, 9, 4, 4},
        // IR drop: several row groups per tile at different distances from the sense end, and
        // row tiles of their own; analog and digital subtraction, wide digits.
        NumericsCase{"ir_drop_analog", ideal(ir_drop(kBase)), 37, 11, 7},
        // 300 vectors in one transaction: the bit-line sums over slices of 32 vectors and a remainder.
        NumericsCase{"ir_drop_large_batch", ideal(ir_drop(kBase)), 37, 11, 300, 300},
        NumericsCase{"ir_drop_digital", ideal(ir_drop(with(kBase, [](HwParams& p) { p.subtraction = "digital"; }))),
                     29, 6, 5},
        NumericsCase{"ir_drop_wide_digits",
                     ideal(ir_drop(with(kBase,
                                        [](HwParams& p) {
                                          p.weight_bits = 6;
                                          p.input_bits = 5;
                                          p.dac_bits = 2;
                                          p.cell_bits = 2;
                                          p.cols = 32;
                                          p.rows_per_cycle = 4;
                                        }))),
                     41, 13, 6}),
    [](const ::testing::TestParamInfo<NumericsCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    FiniteAdc, MvmNumerics,
    ::testing::Values(NumericsCase{"full_range_3bit", with(kBase, [](HwParams& p) { p.adc_bits = 3; }), 37,
                                   11, 5},
                      NumericsCase{"asymmetric_interval_clips",
                                   with(kBase,
                                        [](HwParams& p) {
                                          p.adc_bits = 4;
                                          p.interval = "{lo: -3, hi: 5.5}";
                                        }),
                                   37, 11, 6},
                      NumericsCase{"ties_round_half_even",
                                   with(kBase,
                                        [](HwParams& p) {
                                          p.adc_bits = 4;
                                          p.interval = "{lo: -16, hi: 14}";  // step 2: odd sums fall on .5
                                        }),
                                   33, 7, 6},
                      NumericsCase{"digital_interval",
                                   with(kBase,
                                        [](HwParams& p) {
                                          p.subtraction = "digital";
                                          p.adc_bits = 3;
                                          p.interval = "{lo: 0, hi: 6}";
                                        }),
                                   29, 6, 5},
                      NumericsCase{"saturating_accumulator",
                                   with(kBase,
                                        [](HwParams& p) {
                                          p.adc_bits = 6;
                                          p.accumulator_bits = "7";
                                        }),
                                   40, 5, 6},
                      NumericsCase{"flash_wide_digits",
                                   with(kBase,
                                        [](HwParams& p) {
                                          p.adc_type = "flash";
                                          p.weight_bits = 6;
                                          p.input_bits = 6;
                                          p.dac_bits = 3;
                                          p.cell_bits = 2;
                                          p.cols = 32;
                                          p.adc_bits = 5;
                                        }),
                                   41, 13, 6},
                      // IR drop ahead of a clipping 4-bit converter, both subtractions.
                      NumericsCase{"ir_drop_clipping",
                                   ir_drop(with(kBase,
                                                [](HwParams& p) {
                                                  p.adc_bits = 4;
                                                  p.interval = "{lo: -3, hi: 5.5}";
                                                })),
                                   37, 11, 6},
                      NumericsCase{"ir_drop_digital_interval",
                                   ir_drop(with(kBase,
                                                [](HwParams& p) {
                                                  p.subtraction = "digital";
                                                  p.adc_bits = 3;
                                                  p.interval = "{lo: 0, hi: 6}";
                                                })),
                                   29, 6, 5}),
    [](const ::testing::TestParamInfo<NumericsCase>& info) { return info.param.name; });

}  // namespace
}  // namespace cimsim
