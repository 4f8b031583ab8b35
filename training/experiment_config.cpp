#include "experiment_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <memory>

#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"

namespace cimsim::train {
namespace {

int64_t limit(YamlSection& s, const std::string& key) {
  const int n = s.integer_or_word(key, "all", 1, 100000000);
  return n == 0 ? -1 : n;
}

void read_network(YamlSection s, NetworkSpec& n) {
  n.arch = s.choice("arch", {"lenet5", "vgg8", "resnet20"});
  n.width = s.real_or("width", 0.03125, 16.0, 1.0);
  s.finish();
}

void read_data(YamlSection s, DataSpec& d) {
  d.set = s.choice("set", {"fashion-mnist", "mnist", "cifar10", "npy"});
  if (d.set == "npy") {
    for (auto [key, files] : {std::pair<const char*, std::string*>{"train", &d.train_files}, {"test", &d.test_files}}) {
      *files = s.text(key);
      if (files->find(',') == std::string::npos)
        s.fail(key, "expected two files", "write " + std::string(key) + ": IMAGES.npy,LABELS.npy");
    }
  } else if (d.set == "fashion-mnist") {
    d.path = s.has("path") ? s.text("path") : std::string("/usr/share/datasets/fashion-mnist");
  } else {
    d.path = s.text("path");  // no default location: these data sets are not Debian packages
  }
  d.train_limit = limit(s, "train_limit");
  d.test_limit = limit(s, "test_limit");
  d.holdout = s.integer_or("holdout", 1, 1 << 30, 0);
  // npy: the channels are the file's (input_shape); one value stands for every channel.
  const std::size_t channels = d.set == "npy" ? 0 : d.set == "cifar10" ? 3 : 1;
  for (auto [key, values, fallback] :
       {std::tuple<const char*, std::vector<double>*, double>{"mean", &d.mean, 0.0}, {"std", &d.std, 1.0}}) {
    *values = s.real_list_or(key);
    if (values->empty()) values->assign(std::max<std::size_t>(channels, 1), fallback);
    if (channels > 0 && values->size() != channels) {
      s.fail(key,
             "has " + std::to_string(values->size()) + " entries but " + d.set + " images have " +
                 std::to_string(channels) + " channel(s)",
             "give one value per channel");
    }
  }
  for (double v : d.std) {
    if (!(v > 0)) s.fail("std", "entries must be positive", "use values > 0");
  }
  s.finish();
}

void read_bits(YamlSection s, ExperimentConfig& c) {
  c.weight_bits = s.integer("weight", 2, 8);
  c.input_bits = s.integer("input", 1, 8);
  s.finish();
}

void read_optimizer(YamlSection s, OptimizerSpec& o) {
  o.type = s.choice("type", {"sgd", "adam"});
  o.lr = s.real("lr", 1e-8, 10.0);
  o.weight_decay = s.real_or("weight_decay", 0.0, 1.0, o.weight_decay);
  if (o.type == "sgd") {
    o.momentum = s.real_or("momentum", 0.0, 0.999, o.momentum);
    o.nesterov = s.boolean_or("nesterov", o.nesterov);
    if (o.nesterov && o.momentum == 0)
      s.fail("nesterov", "needs momentum > 0", "set momentum or nesterov: false");
  } else {
    o.beta1 = s.real_or("beta1", 0.0, 0.9999, o.beta1);
    o.beta2 = s.real_or("beta2", 0.0, 0.999999, o.beta2);
  }
  s.finish();  // momentum under adam (or betas under sgd) are unknown keys here
}

void read_schedule(YamlSection s, ScheduleSpec& sc) {
  sc.epochs = s.integer("epochs", 1, 10000);
  sc.batch_size = s.integer("batch_size", 1, 65536);
  sc.lr_schedule = s.choice_or("lr_schedule", {"cosine", "step", "constant"}, "cosine");
  if (sc.lr_schedule == "step") {
    sc.step_epochs = s.integer("step_epochs", 1, 10000);
    sc.step_gamma = s.real_or("step_gamma", 1e-6, 1.0, 0.1);
  }
  s.finish();
}

void read_stage(YamlSection s, StageSpec& st, Stage stage, const DataSpec& data) {
  const bool cim = stage == Stage::kCim;
  st.epochs = s.integer_or("epochs", 1, 10000, 0);
  st.lr = s.real_or("lr", 1e-8, 10.0, 0.0);
  st.train_images = s.integer_or_word("train_images", "all", 1, 1 << 30);
  if (cim) {
    st.learn_intervals = s.boolean_or("learn_intervals", true);
    st.feedback = s.choice_or("feedback", {"cells", "partial_sums"}, "cells");
  }
  if (stage != Stage::kFp32) {
    st.select = s.choice_or("select", {"last", "best"}, "last");
    if (st.select == "best" && data.holdout == 0)
      s.fail("select", "best needs held-out images to choose by", "set data.holdout: N (e.g. 5000), or select: last");
  }
  s.finish();
}

}  // namespace

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::kFp32:
      return "fp32";
    case Stage::kQat:
      return "qat";
    default:
      return "cim";
  }
}

ExperimentConfig parse_experiment(const std::string& yaml_text, const std::string& source_name) {
  auto source = std::make_shared<ConfigSource>();
  source->file = source_name;
  const YAML::Node root = load_yaml_text(yaml_text, source_name);
  if (!root || !root.IsMap())
    throw InputError(source_name + ": the experiment must be a YAML mapping (key: value)");
  ExperimentConfig c;
  c.source = source_name;
  YamlSection top(root, "", source);
  top.declare({"name", "seed", "threads", "network", "data", "bits", "optimizer", "schedule", "fp32", "qat",
               "cim", "flow"});
  c.name = top.text("name");
  c.seed = static_cast<uint64_t>(top.integer_or("seed", 0, 1000000000, 1));
  c.threads = top.integer_or("threads", 1, 256, 2);
  // Without `network:` the graph comes from the bundle of --from (an imported model).
  if (top.has("network")) read_network(top.child("network"), c.network);
  else c.network.arch.clear();
  read_data(top.child("data"), c.data);
  read_bits(top.child("bits"), c);
  read_optimizer(top.child("optimizer"), c.optimizer);
  read_schedule(top.child("schedule"), c.schedule);
  read_stage(top.child("fp32", true), c.fp32, Stage::kFp32, c.data);
  read_stage(top.child("qat", true), c.qat, Stage::kQat, c.data);
  read_stage(top.child("cim", true), c.cim, Stage::kCim, c.data);
  top.raw("flow");  // cimsim flow's section (docs/flow.md), read by cimsim itself
  top.finish();
  return c;
}

ExperimentConfig load_experiment(const std::string& path) {
  return parse_experiment(
      read_text_file(path,
                     "cannot open the experiment file; check the path (examples: configs/experiments/)"),
      path);
}

double scheduled_lr(const ScheduleSpec& schedule, double base_lr, int epoch, int epochs) {
  if (schedule.lr_schedule == "constant") return base_lr;
  if (schedule.lr_schedule == "step")
    return base_lr * std::pow(schedule.step_gamma, epoch / schedule.step_epochs);
  // Cosine annealing to zero over the stage, evaluated at the start of each epoch.
  return base_lr * 0.5 * (1.0 + std::cos(M_PI * double(epoch) / double(epochs)));
}

}  // namespace cimsim::train
