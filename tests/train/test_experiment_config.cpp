// The experiment YAML: the shipped files parse, and every kind of mistake is one InputError naming the
// file, the line and the fix.
#include <gtest/gtest.h>

#include <string>

#include "architectures.h"
#include "core/error.h"
#include "experiment_config.h"

namespace cimsim::train {
namespace {

const std::string kGood =
    "name: t\n"                    // 1
    "network:\n"                   // 2
    "  arch: resnet20\n"           // 3
    "  width: 0.5\n"               // 4
    "data:\n"                      // 5
    "  set: fashion-mnist\n"       // 6
    "  train_limit: 300\n"         // 7
    "bits:\n"                      // 8
    "  weight: 4\n"                // 9
    "  input: 3\n"                 // 10
    "optimizer:\n"                 // 11
    "  type: adam\n"               // 12
    "  lr: 0.001\n"                // 13
    "schedule:\n"                  // 14
    "  epochs: 3\n"                // 15
    "  batch_size: 32\n"           // 16
    "  lr_schedule: step\n"        // 17
    "  step_epochs: 2\n"           // 18
    "qat:\n"                       // 19
    "  epochs: 1\n"                // 20
    "  lr: 0.0001\n"               // 21
    "cim:\n"                       // 22
    "  train_images: 100\n"        // 23
    "  learn_intervals: false\n";  // 24

std::string error_of(const std::string& yaml) {
  try {
    parse_experiment(yaml, "exp.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(ExperimentConfig, ReadsEveryKey) {
  const ExperimentConfig c = parse_experiment(kGood, "exp.yaml");
  EXPECT_EQ(c.network.arch, "resnet20");
  EXPECT_EQ(c.network.width, 0.5);
  EXPECT_EQ(c.data.path, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(c.data.train_limit, 300);
  EXPECT_EQ(c.data.test_limit, -1);
  EXPECT_EQ(c.data.mean, std::vector<double>{0.0});
  EXPECT_EQ(c.weight_bits, 4);
  EXPECT_EQ(c.input_bits, 3);
  EXPECT_EQ(c.optimizer.type, "adam");
  EXPECT_EQ(c.epochs(Stage::kFp32), 3);
  EXPECT_EQ(c.epochs(Stage::kQat), 1);
  EXPECT_EQ(c.lr(Stage::kFp32), 0.001);
  EXPECT_EQ(c.lr(Stage::kQat), 0.0001);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.cim.train_images, 100);
  EXPECT_FALSE(c.cim.learn_intervals);
  EXPECT_EQ(c.qat.train_images, 0);  // all
  EXPECT_TRUE(c.qat.learn_intervals);
  EXPECT_DOUBLE_EQ(scheduled_lr(c.schedule, 1.0, 1, 3), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(c.schedule, 1.0, 2, 3), 0.1);
  ScheduleSpec cosine;
  EXPECT_DOUBLE_EQ(scheduled_lr(cosine, 0.2, 0, 4), 0.2);
  EXPECT_DOUBLE_EQ(scheduled_lr(cosine, 0.2, 2, 4), 0.1);
  cosine.lr_schedule = "constant";
  EXPECT_DOUBLE_EQ(scheduled_lr(cosine, 0.2, 3, 4), 0.2);
}

TEST(ExperimentConfig, ShippedExperimentsParse) {
  for (const char* name : {"lenet5-fmnist.yaml", "tiny-test.yaml"}) {
    const ExperimentConfig c =
        load_experiment(std::string(CIMSIM_SOURCE_DIR) + "/configs/experiments/" + name);
    EXPECT_EQ(c.network.arch, "lenet5") << name;
  }
  for (const char* name : {"resnet20-fmnist.yaml", "vgg8-fmnist.yaml"})
    EXPECT_NO_THROW(load_experiment(std::string(CIMSIM_SOURCE_DIR) + "/configs/experiments/" + name)) << name;
  // An imported model's experiment has no network: the graph is the --from bundle's.
  const ExperimentConfig imported =
      load_experiment(std::string(CIMSIM_SOURCE_DIR) + "/configs/experiments/imported-fmnist-4b.yaml");
  EXPECT_TRUE(imported.network.arch.empty());
  try {
    architecture(imported);
    ADD_FAILURE() << "a network without an arch and without a bundle";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the experiment names no network; start from a model bundle"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExperimentConfig, NpyDataNeedsBothSplitsFiles) {
  const std::string e = error_of(replace(kGood, "  set: fashion-mnist", "  set: npy\n  train: x.npy"));
  EXPECT_NE(e.find("data.train: expected two files; write train: IMAGES.npy,LABELS.npy"), std::string::npos) << e;
}

TEST(ExperimentConfig, MisspelledKeyNamesItsLineAndTheFix) {
  const std::string e = error_of(replace(kGood, "  batch_size: 32", "  batch_sise: 32"));
  EXPECT_NE(e.find("exp.yaml:16: schedule.batch_sise: unknown key; did you mean 'batch_size'?"),
            std::string::npos)
      << e;
}

TEST(ExperimentConfig, BadValuesNameTheirLine) {
  std::string e = error_of(replace(kGood, "arch: resnet20", "arch: resnet18"));
  EXPECT_NE(
      e.find("exp.yaml:3: network.arch: 'resnet18' is not a known value; use lenet5 or vgg8 or resnet20"),
      std::string::npos)
      << e;
  e = error_of(replace(kGood, "  weight: 4", "  weight: 1"));
  EXPECT_NE(e.find("exp.yaml:9: bits.weight: 1 is out of range"), std::string::npos) << e;
  // SGD's momentum is not an Adam key.
  e = error_of(replace(kGood, "  lr: 0.001\n", "  lr: 0.001\n  momentum: 0.9\n"));
  EXPECT_NE(e.find("exp.yaml:14: optimizer.momentum: unknown key"), std::string::npos) << e;
  e = error_of(replace(kGood, "set: fashion-mnist", "set: mnist"));
  EXPECT_NE(e.find("data.path: missing required key"), std::string::npos) << e;
  e = error_of(kGood + "data2: 1\n");
  EXPECT_NE(e.find("exp.yaml:25: data2: unknown key"), std::string::npos) << e;
  // learn_intervals is stage cim's only.
  e = error_of(replace(kGood, "  lr: 0.0001\n", "  lr: 0.0001\n  learn_intervals: true\n"));
  EXPECT_NE(e.find("exp.yaml:22: qat.learn_intervals: unknown key"), std::string::npos) << e;
  e = error_of(replace(kGood, "  train_images: 100", "  train_images: 0"));
  EXPECT_NE(e.find("exp.yaml:23: cim.train_images: 0 is out of range"), std::string::npos) << e;
  e = error_of(replace(kGood, "  width: 0.5\n", "  width: 0.5\n  mean: [0.1, 0.2]\n"));
  EXPECT_NE(e.find("network.mean: unknown key"), std::string::npos) << e;
  e = error_of(replace(kGood, "  train_limit: 300\n", "  train_limit: 300\n  std: [0.5, 0.5]\n"));
  EXPECT_NE(e.find("exp.yaml:8: data.std: has 2 entries but fashion-mnist images have 1 channel(s)"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace cimsim::train
