// Training on real Fashion-MNIST images (Debian's dataset-fashion-mnist): the loss goes down, the
// shuffle is a seeded permutation, and a run interrupted after an epoch and resumed ends with exactly
// the weights of an uninterrupted run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../support/test_configs.h"
#include "architectures.h"
#include "core/error.h"
#include "hw_stats.h"
#include "image_tensors.h"
#include "stage_runner.h"
#include "stats/stats_records.h"
#include "training_loop.h"

namespace cimsim::train {
namespace {

namespace fs = std::filesystem;

ExperimentConfig tiny(const std::string& arch = "lenet5", double width = 0.5) {
  return parse_experiment("name: tiny\nseed: 11\nnetwork: {arch: " + arch +
                              ", width: " + std::to_string(width) +
                              "}\n"
                              "data: {set: fashion-mnist, train_limit: 256, test_limit: 64}\n"
                              "bits: {weight: 4, input: 4}\n"
                              "optimizer: {type: sgd, lr: 0.05, momentum: 0.9, nesterov: true}\n"
                              "schedule: {epochs: 2, batch_size: 32}\n",
                          "tiny.yaml");
}

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir.string();
}

// A fresh directory's stats.json path, for a stats file the test writes.
std::string stats_file(const std::string& name) {
  const std::string dir = temp_dir(name);
  fs::create_directories(dir);
  return dir + "/stats.json";
}

TEST(Training, EpochOrderIsASeededPermutation) {
  const std::vector<int64_t> a = epoch_order(1000, 5, 0), b = epoch_order(1000, 5, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, epoch_order(1000, 5, 1));
  EXPECT_NE(a, epoch_order(1000, 6, 0));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[std::size_t(i)], i);
}

// The two-stage flow in miniature: fp32 from a seeded initialisation, then QAT from the fp32 weights
// (LSQ steps initialised from the weights and the first batch), each for 24 steps of 32 images.
TEST(Training, FewStepsOnFashionMnistLowerTheLoss) {
  torch::set_num_threads(2);
  ExperimentConfig c = tiny();
  c.optimizer.type = "adam";  // leaves LeNet's initial plateau within a few dozen steps, unlike SGD
  torch::manual_seed(1);
  Network net(architecture(c));
  const ImageTensors data = to_tensors(load_split(c.data, data::Split::kTrain), c.data.mean, c.data.std);
  for (bool quantized : {false, true}) {
    net->set_quantized(quantized);
    if (quantized) {  // the activation steps initialise on the first training batch
      torch::NoGradGuard no_grad;
      net->train();
      net->forward(data.images.slice(0, 0, 32));
    }
    auto optimizer = make_optimizer(*net, c.optimizer, quantized ? 0.003 : 0.01);
    const PassStats before = evaluate(*net, data, 256);
    for (int epoch = 0; epoch < 3; ++epoch)
      train_epoch(*net, *optimizer, data, epoch_order(data.count(), 1, epoch), 32);
    const PassStats after = evaluate(*net, data, 256);
    std::printf("%s: loss %.4f -> %.4f, accuracy %.3f -> %.3f\n", quantized ? "qat" : "fp32", before.loss,
                after.loss, before.accuracy, after.accuracy);
    EXPECT_LT(after.loss, (quantized ? 0.9 : 0.7) * before.loss) << (quantized ? "qat" : "fp32");
    EXPECT_GT(after.accuracy, quantized ? before.accuracy : 0.4) << (quantized ? "qat" : "fp32");
  }
}

bool same_state(const NetworkImpl& a, const NetworkImpl& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  if (pa.size() != pb.size() || ba.size() != bb.size()) return false;
  for (const auto& p : pa) {
    if (!torch::equal(p.value(), pb[p.key()])) {
      ADD_FAILURE() << "parameter " << p.key() << " differs";
      return false;
    }
  }
  for (const auto& p : ba) {
    if (!torch::equal(p.value(), bb[p.key()])) {
      ADD_FAILURE() << "buffer " << p.key() << " differs";
      return false;
    }
  }
  return true;
}

TEST(Training, ResumeAfterAnEpochEqualsAnUninterruptedRun) {
  for (const char* arch : {"lenet5", "resnet20"}) {
    ExperimentConfig c = tiny(arch, 0.25);
    c.data.train_limit = 128;  // 4 steps an epoch: enough to move momentum, BN statistics and LSQ steps
    c.data.test_limit = 16;
    const std::string whole = temp_dir(std::string("whole_") + arch),
                      cut = temp_dir(std::string("cut_") + arch);
    RunOptions o;
    o.progress = false;
    o.out_dir = whole;
    const StageResult fp32 = run_stage(c, o);  // 2 epochs
    o.stage = Stage::kQat;
    o.from = whole;
    const StageResult qat = run_stage(c, o);
    ASSERT_EQ(qat.epochs.size(), 2u);
    EXPECT_TRUE(fs::exists(fs::path(whole) / "bundle" / "model.yaml"));

    RunOptions r = o;
    r.out_dir = cut;
    r.stage = Stage::kFp32;
    r.from.clear();
    r.stop_after_epochs = 1;
    EXPECT_EQ(run_stage(c, r).epochs.size(), 1u);
    r.stop_after_epochs = 0;
    // Without --resume the existing checkpoint is not overwritten.
    EXPECT_THROW(run_stage(c, r), InputError);
    r.resume = true;
    const StageResult fp32_resumed = run_stage(c, r);
    ASSERT_EQ(fp32_resumed.epochs.size(), 1u);
    EXPECT_EQ(fp32_resumed.epochs[0].epoch, 2);
    EXPECT_TRUE(same_state(*fp32.net, *fp32_resumed.net)) << arch << " fp32";

    r.stage = Stage::kQat;
    r.resume = false;
    r.from = cut;
    r.stop_after_epochs = 1;
    run_stage(c, r);
    EXPECT_FALSE(fs::exists(fs::path(cut) / "bundle")) << "no bundle from an unfinished stage";
    r.stop_after_epochs = 0;
    r.resume = true;
    const StageResult qat_resumed = run_stage(c, r);
    EXPECT_TRUE(same_state(*qat.net, *qat_resumed.net)) << arch << " qat";
    // The metrics file holds each epoch of both stages once.
    std::ifstream csv(fs::path(cut) / "metrics.csv");
    int lines = 0;
    for (std::string line; std::getline(csv, line);) ++lines;
    EXPECT_EQ(lines, 5);
    fs::remove_all(whole);
    fs::remove_all(cut);
  }
}

TEST(Training, StageCimNeedsTheHardware) {
  RunOptions o;
  o.out_dir = temp_dir("cim");
  o.stage = Stage::kCim;
  try {
    run_stage(tiny(), o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--stage cim needs --hw"), std::string::npos) << e.what();
  }
}

// The simulator's measured error becomes each layer's injected partial-sum noise, as
// docs/training.md states: sqrt(std^2 - step^2 / 12) with the run's interval and adc_bits.
TEST(Training, InjectedNoiseFollowsTheStatsFile) {
  const std::string path = stats_file("stats");
  RunStats stats;
  cimsim::testing::HwParams hw;
  hw.adc_bits = 3;
  stats.config = cimsim::testing::make_hw(hw);
  auto cim_layer = [&](const std::string& name, double std_e, double lo, double hi) {
    NetworkLayerStats& l = stats.layers.emplace_back();
    l.name = name;
    l.cim.emplace();
    l.cim->error.std = std_e;
    l.cim->adc_interval = {lo, hi, false};
  };
  stats.layers.emplace_back().name = "flatten";
  cim_layer("conv1", 2.5, -7, 7);
  cim_layer("fc3", 0.5, 0, 70);
  std::ofstream(path) << to_json_record(stats).dump();
  // Ideal devices: partial_sums injects the error less the quantization error; cells injects only
  // noise stage cim does not model (none here: no read or thermal noise); no cell error either way.
  for (const std::string feedback : {"partial_sums", "cells"}) {
    const auto m = measured_noise_from_stats(path, feedback, 1);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_DOUBLE_EQ(m.at("conv1").partial_sum_sigma,
                     feedback == "cells" ? 0.0 : std::sqrt(2.5 * 2.5 - 4.0 / 12.0));  // step 14 / 7 = 2
    EXPECT_EQ(m.at("fc3").partial_sum_sigma, 0.0);  // below the quantization error
    EXPECT_TRUE(m.at("conv1").level_mean.empty());
  }
  const auto sigma = measured_noise_from_stats(path, "partial_sums", 1);

  // Read back from the network: the layer's injected noise is the file's.
  Network net(architecture(tiny()));
  net->set_quantized(true);
  cimsim::testing::HwParams p;
  p.weight_bits = p.input_bits = 4;
  net->set_hardware(cimsim::testing::make_hw(p), CimNoise{}, {}, sigma);
  for (std::size_t i = 0; i < net->graph().layers.size(); ++i) {
    const auto& l = net->graph().layers[i];
    if (l.name == "conv1") {
      EXPECT_EQ(net->nodes()[i].conv->hardware.noise.partial_sum_sigma, sigma.at("conv1").partial_sum_sigma);
    }
  }

  // A field missing: one error naming the file and the field.
  nlohmann::json doc = to_json_record(stats);
  doc["layers"][1]["cim"]["error"].erase("std");
  std::ofstream(path) << doc.dump();
  try {
    measured_noise_from_stats(path, "partial_sums", 1);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": layers[1].cim.error.std: missing"), std::string::npos)
        << e.what();
  }
  std::ofstream(path) << "{not json";
  EXPECT_THROW(measured_noise_from_stats(path, "cells", 1), InputError);
}

TEST(Training, CellsFeedbackTakesThePerLevelErrorsAndTheReadNoise) {
  const std::string path = stats_file("stats-cells");
  RunStats stats;
  cimsim::testing::HwParams hw;
  hw.adc_bits = 3;
  hw.cell_bits = 2;
  hw.device_extra = "  stuck_at_0: 0.01\n";
  stats.config = cimsim::testing::make_hw(hw);
  NetworkLayerStats& l = stats.layers.emplace_back();
  l.name = "conv1";
  l.cim.emplace();
  l.cim->error.std = 9.0;
  l.cim->residual_error = ErrorFigures{};
  l.cim->residual_error->std = 2.5;
  l.cim->adc_interval = {-7, 7, false};
  l.cim->device_levels = std::vector<DeviceLevelFigures>{{0, 100, 0.14, 0.2}, {1, 50, 0.0, 0.35},
                                                          {2, 30, -0.01, 0.35}, {3, 20, -0.14, 0.2}};
  std::ofstream(path) << to_json_record(stats).dump();
  const MeasuredNoise cells = measured_noise_from_stats(path, "cells", 3).at("conv1");
  EXPECT_EQ(cells.level_mean, (std::vector<double>{0.14, 0.0, -0.01, -0.14}));
  EXPECT_EQ(cells.level_std, (std::vector<double>{0.2, 0.35, 0.35, 0.2}));
  // no read or thermal noise in the run: the residual error (quantization, clipping) is stage 2's own
  EXPECT_EQ(cells.partial_sum_sigma, 0.0);
  const MeasuredNoise sums = measured_noise_from_stats(path, "partial_sums", 3).at("conv1");
  EXPECT_DOUBLE_EQ(sums.partial_sum_sigma, std::sqrt(81.0 - 4.0 / 12.0));  // the whole error
  EXPECT_TRUE(sums.level_mean.empty());

  // With read noise and converter thermal noise: the measured read noise and thermal_sigma_lsb steps.
  hw.device_extra += "  read_noise_sigma: 0.5\n";
  stats.config = cimsim::testing::make_hw(hw);
  stats.config.adc.thermal_sigma_lsb = 0.5;
  std::ofstream(path) << to_json_record(stats).dump();
  try {  // an older file without read_error
    measured_noise_from_stats(path, "cells", 3);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no read_error"), std::string::npos) << e.what();
  }
  l.cim->read_error = ErrorFigures{};
  l.cim->read_error->std = 0.6;
  std::ofstream(path) << to_json_record(stats).dump();
  EXPECT_DOUBLE_EQ(measured_noise_from_stats(path, "cells", 3).at("conv1").partial_sum_sigma,
                   std::sqrt(0.6 * 0.6 + 1.0 * 1.0));  // thermal: 0.5 of a step of 2

  // Other cells on the training hardware: an error naming the level counts.
  try {
    measured_noise_from_stats(path, "cells", 1);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("levels 0..3 but the training hardware's cells have levels 0..1"), std::string::npos)
        << e.what();
  }
  // Programmed devices without per-level statistics (an older stats file): cells cannot be fed back.
  l.cim->device_levels.reset();
  std::ofstream(path) << to_json_record(stats).dump();
  try {
    measured_noise_from_stats(path, "cells", 3);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no device_levels"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(measured_noise_from_stats(path, "partial_sums", 3));
}

// Levels with fewer than kMinLevelCells cells in a layer take the level's moments pooled over the
// file's layers; a level without cells anywhere takes the nearest level's (docs/training.md).
TEST(Training, CellsFeedbackPoolsSparseLevels) {
  const std::string path = stats_file("stats-pooled");
  RunStats stats;
  cimsim::testing::HwParams hw;
  hw.cell_bits = 2;
  hw.device_extra = "  stuck_at_0: 0.01\n";
  stats.config = cimsim::testing::make_hw(hw);
  auto layer = [&](const std::string& name, std::vector<DeviceLevelFigures> levels) {
    NetworkLayerStats& l = stats.layers.emplace_back();
    l.name = name;
    l.cim.emplace();
    l.cim->adc_interval = {-7, 7, false};
    l.cim->device_levels = std::move(levels);
  };
  layer("a", {{0, 500, 0.14, 0.2}, {1, 1000, 0.1, 0.3}, {2, 200, 0.0, 0.35}, {3, 0, 0.0, 0.0}});
  layer("b", {{0, 300, 0.13, 0.21}, {1, 10, -0.5, 0.0}, {2, 0, 0.0, 0.0}, {3, 0, 0.0, 0.0}});
  std::ofstream(path) << to_json_record(stats).dump();
  const auto m = measured_noise_from_stats(path, "cells", 3);
  // a: its own levels 0-2 (100 cells or more); level 3 has none anywhere: level 2's pooled moments
  EXPECT_EQ(m.at("a").level_mean, (std::vector<double>{0.14, 0.1, 0.0, 0.0}));
  EXPECT_EQ(m.at("a").level_std, (std::vector<double>{0.2, 0.3, 0.35, 0.35}));
  // b: level 0 its own; level 1 (10 cells) pooled with a's 1,000; levels 2 and 3 a's level 2
  const double mean1 = (1000 * 0.1 + 10 * -0.5) / 1010;
  const double std1 = std::sqrt((1000 * (0.09 + 0.01) + 10 * 0.25) / 1010 - mean1 * mean1);
  ASSERT_EQ(m.at("b").level_mean.size(), 4u);
  EXPECT_EQ(m.at("b").level_mean[0], 0.13);
  EXPECT_NEAR(m.at("b").level_mean[1], mean1, 1e-12);
  EXPECT_NEAR(m.at("b").level_std[1], std1, 1e-12);
  EXPECT_EQ(m.at("b").level_mean[2], 0.0);
  EXPECT_NEAR(m.at("b").level_std[2], 0.35, 1e-12);
  EXPECT_NEAR(m.at("b").level_std[3], 0.35, 1e-12);
}

}  // namespace
}  // namespace cimsim::train
