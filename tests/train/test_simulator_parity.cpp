// THE parity test of stage qat: a network trained by the trainer, exported to a bundle and run by the
// SystemC simulator with an ideal ADC and ideal devices gives exactly (==, bit for bit) the logits of
// the trainer's quantized forward evaluated in double.
//
// Why equality and not a tolerance: with ideal cells and converter every MVM output is the exact
// integer sum of x_int * w_int (docs/numerics.md, section 9), and the trainer's convolution of
// integer-valued doubles is exact too (sums far below 2^53), whatever order it adds in. Everything
// else is elementwise double arithmetic in the order docs/model-bundle.md fixes: the affine
// ((out * s_w) * s_x) + bias, x * scale + shift for batch norm, max, and window sums in row-major
// order (cim_layers.h evaluates pools that way), each rounded once in IEEE-754 binary64 as the
// simulator rounds it. The inputs are (pixel / 255 - mean) / std in double on both sides.
// Each TEST runs in its own process (SystemC elaborates once per process).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../support/test_configs.h"
#include "architectures.h"
#include "bundle_io.h"
#include "image_tensors.h"
#include "network_runner.h"
#include "training_loop.h"

namespace cimsim::train {
namespace {

namespace fs = std::filesystem;

// Trains `arch` (width 0.25) for one QAT epoch on 128 images, exports it, and compares logits on 8 test
// images with the simulator on macros of `p` (ideal ADC). With `cim`, also a stage-cim epoch on the
// macros of `p` with their real ADCs (intervals learned, noise off), then the trainer's exact-order
// stage-2 forward against the simulator with those ADCs.
void expect_parity(const std::string& arch, cimsim::testing::HwParams p, bool cim = false) {
  torch::set_num_threads(2);
  const ExperimentConfig c = parse_experiment(
      "name: parity\nnetwork: {arch: " + arch +
          ", width: 0.25}\n"
          "data: {set: fashion-mnist, train_limit: 128, test_limit: 8}\n"
          "bits: {weight: 4, input: 4}\n"
          "optimizer: {type: sgd, lr: 0.02, momentum: 0.9}\nschedule: {epochs: 1, batch_size: 32}\n",
      "parity.yaml");
  torch::manual_seed(4);
  Network net(architecture(c));
  net->set_quantized(true);
  const ImageTensors train = to_tensors(load_split(c.data, data::Split::kTrain), c.data.mean, c.data.std);
  auto optimizer = make_optimizer(*net, c.optimizer, 0.02);
  train_epoch(*net, *optimizer, train, epoch_order(train.count(), 4, 0), 32);  // QAT steps: learned values
  p.adc_ideal = !cim;
  const HwConfig hw = cimsim::testing::make_hw(p);
  if (cim) {
    net->set_hardware(hw, CimNoise{});
    auto cim_optimizer = make_optimizer(*net, c.optimizer, 0.02);
    train_epoch(*net, *cim_optimizer, train, epoch_order(train.count(), 4, 1), 32);  // learns the intervals
    net->set_exact(true);
    int moved = 0;
    for (const auto& p_named : net->named_parameters()) {
      if (p_named.key().find("adc_interval") == std::string::npos) continue;
      const double unit = hw.macro.max_partial_sum();
      moved += p_named.value()[0].item<double>() * unit != hw.full_interval().lo ||
               p_named.value()[1].item<double>() * unit != hw.full_interval().hi;
    }
    EXPECT_GT(moved, 0) << "stage cim learned no interval";
  }
  net->to(torch::kDouble);
  net->eval();

  const std::string dir =
      (fs::path(::testing::TempDir()) / ("parity_" + std::to_string(::getpid()))).string();
  write_model_bundle_atomically(export_bundle(*net), dir);
  const ModelBundle bundle = load_model_bundle(dir);
  fs::remove_all(dir);

  const data::Dataset images = load_split(c.data, data::Split::kTest);
  const ImageTensors test = to_tensors(images, c.data.mean, c.data.std, torch::kDouble);
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(test.images).contiguous();
  }

  NetworkOptions options;
  options.batch = 5;
  const NetworkReport report = run_network(hw, bundle, images, options);

  ASSERT_EQ(report.logits.rows(), images.count);
  ASSERT_EQ(report.logits.cols(), 10);
  int64_t distinct = 0;
  for (int64_t b = 0; b < images.count; ++b) {
    for (int k = 0; k < 10; ++k) {
      const double trainer = logits[b][k].item<double>();
      EXPECT_EQ(report.logits(b, k), trainer)
          << arch << (cim ? " (cim)" : "") << " image " << b << " class " << k;
      distinct += trainer != logits[0][0].item<double>();
    }
  }
  EXPECT_GT(distinct, 0) << "the logits must not be constant";
}

// rows_per_cycle below a 5x5 or 3x3 kernel's rows: kernels are split into row groups.
cimsim::testing::HwParams macros(int rows_per_cycle) {
  cimsim::testing::HwParams p;
  p.rows = 128;
  p.cols = 128;
  p.rows_per_cycle = rows_per_cycle;
  return p;
}

TEST(SimulatorParity, LeNet5) { expect_parity("lenet5", macros(8)); }
TEST(SimulatorParity, Vgg8) { expect_parity("vgg8", macros(4)); }
TEST(SimulatorParity, ResNet20) { expect_parity("resnet20", macros(16)); }

// Other macro designs: 2-bit DAC and cells with digital subtraction on small arrays (many row and
// column tiles), and one input phase with 3-bit cells and a saturating-free wide accumulator.
TEST(SimulatorParity, LeNet5DigitalSubtractionSmallArrays) {
  cimsim::testing::HwParams p = macros(16);
  p.rows = 32;
  p.cols = 16;
  p.dac_bits = 2;
  p.cell_bits = 2;
  p.subtraction = "digital";
  expect_parity("lenet5", p);
}

TEST(SimulatorParity, ResNet20OnePhaseWideCells) {
  cimsim::testing::HwParams p = macros(64);
  p.dac_bits = 4;
  p.cell_bits = 3;
  p.accumulator_bits = "32";
  expect_parity("resnet20", p);
}

// Stage 2: the trainer's CIM forward (exact order) against the simulator's real ADCs with the learned
// intervals, at low ADC resolution and with kernels split over row groups.
TEST(SimulatorParity, CimLeNet5ThreeBitAdcSplitKernels) {
  cimsim::testing::HwParams p = macros(8);
  p.adc_bits = 3;
  expect_parity("lenet5", p, true);
}

TEST(SimulatorParity, CimResNet20FourBitAdcDigitalSubtraction) {
  cimsim::testing::HwParams p = macros(16);
  p.adc_bits = 4;
  p.dac_bits = 2;
  p.subtraction = "digital";
  expect_parity("resnet20", p, true);
}

// The bit-line wire's IR drop (numerics.md section 7): the trainer's contract order against the
// simulator, analog subtraction with bit-serial inputs, and digital subtraction with 2-bit cells.
TEST(SimulatorParity, CimLeNet5WireResistance) {
  cimsim::testing::HwParams p = macros(32);
  p.adc_bits = 5;
  p.device_extra = "  wire_resistance: 0.0001\n";
  expect_parity("lenet5", p, true);
}

TEST(SimulatorParity, CimLeNet5WireResistanceDigitalSubtraction) {
  cimsim::testing::HwParams p = macros(16);
  p.adc_bits = 4;
  p.cell_bits = 2;
  p.dac_bits = 2;
  p.subtraction = "digital";
  p.device_extra = "  wire_resistance: 0.0003\n";
  expect_parity("lenet5", p, true);
}

TEST(SimulatorParity, CimVgg8OnePhaseSaturatingAccumulator) {
  cimsim::testing::HwParams p = macros(64);
  p.adc_bits = 5;
  p.dac_bits = 4;
  p.cell_bits = 3;
  p.accumulator_bits = "12";
  expect_parity("vgg8", p, true);
}

}  // namespace
}  // namespace cimsim::train
