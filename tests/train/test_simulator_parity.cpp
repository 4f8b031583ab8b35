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

void expect_parity(const std::string& arch, int rows_per_cycle) {
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
  net->to(torch::kDouble);
  net->eval();

  const std::string dir =
      (fs::path(::testing::TempDir()) / ("parity_" + std::to_string(::getpid()))).string();
  write_bundle_atomically(export_bundle(*net), dir);
  const ModelBundle bundle = load_model_bundle(dir);
  fs::remove_all(dir);

  const data::Dataset images = load_split(c.data, data::Split::kTest);
  const ImageTensors test = to_tensors(images, c.data.mean, c.data.std, torch::kDouble);
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(test.images).contiguous();
  }

  cimsim::testing::HwParams p;
  p.rows = 128;
  p.cols = 128;
  p.rows_per_cycle = rows_per_cycle;  // below a 5x5 or 3x3 kernel's rows: kernel splitting
  p.adc_ideal = true;
  const HwConfig hw = cimsim::testing::make_hw(p);
  NetworkOptions options;
  options.batch = 5;
  const NetworkReport report = run_network(hw, bundle, images, options);

  ASSERT_EQ(report.logits.rows(), images.count);
  ASSERT_EQ(report.logits.cols(), 10);
  int64_t distinct = 0;
  for (int64_t b = 0; b < images.count; ++b) {
    for (int k = 0; k < 10; ++k) {
      const double trainer = logits[b][k].item<double>();
      EXPECT_EQ(report.logits(b, k), trainer) << arch << " image " << b << " class " << k;
      distinct += trainer != logits[0][0].item<double>();
    }
  }
  EXPECT_GT(distinct, 0) << "the logits must not be constant";
}

TEST(SimulatorParity, LeNet5) { expect_parity("lenet5", 8); }
TEST(SimulatorParity, Vgg8) { expect_parity("vgg8", 4); }
TEST(SimulatorParity, ResNet20) { expect_parity("resnet20", 16); }

}  // namespace
}  // namespace cimsim::train
