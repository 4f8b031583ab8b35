// Benchmark (not a test): the trainer's time per training step of LeNet-5 and ResNet-20 on
// Fashion-MNIST in stage fp32, stage qat and stage cim (4-bit weights and inputs, 1-bit cells,
// rows_per_cycle 64, 5-bit ADC) with dac_bits 4 (one input phase) and dac_bits 1 (bit-serial),
// and each stage's ratio to fp32.
//   OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX build/bench/bench_train
//       [--steps 10] [--rounds 5] [--batch 128]
//       [--arch lenet5|resnet20|all] [--threads 2] [--dac-bits 4,1] [--profile PREFIX] [--set KEY=VALUE]
// (the environment `cimsim train` sets for the trainer; OPENBLAS_CORETYPE=Haswell on CPUs with AVX2
// and no AVX-512, tools/cmd_train.cpp). Each stage's figure is the median over
// rounds of its time per step. --profile writes each timed run's operator trace (LibTorch's
// profiler, Chrome trace format) to PREFIX-ARCH-STAGE.json; the profiler slows the run.
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "architectures.h"
#include "config/hw_config.h"
#include "image_tensors.h"
#include "process_memory.h"
#include "training_loop.h"

namespace {

using namespace cimsim;
using namespace cimsim::train;

const char* kHw = R"(name: bench
macro: {rows: 128, cols: 128, rows_per_cycle: 64, cols_per_adc: 8, weight_bits: 4, input_bits: 4,
        dac_bits: DAC, cell_bits: 1, adc_bits: 5, adc_type: sar, subtraction: analog, accumulator_bits: none}
timing: {clock_mhz: 100, array_cycles: 1, shift_add_cycles: 1}
adc: {ideal: false, interval: full}
device: {program_sigma: 0.03}
energy: {dac_pj_per_row: 0.01, array_pj_per_cell: 0.001, adc_pj_per_comparison: 0.1, shift_add_pj_per_op: 0.05,
         leakage_mw_per_macro: 0.1}
)";

HwConfig hw_with_dac(int dac_bits, const std::vector<std::string>& overrides) {
  std::string yaml = kHw;
  yaml.replace(yaml.find("DAC"), 3, std::to_string(dac_bits));
  return parse_hw_config(yaml, "bench_train.yaml", overrides);
}

std::string profile_prefix;

// One stage's network, its optimizer and the per-step times of its rounds.
struct TimedStage {
  std::string label, name;
  Network net;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<double> seconds;
  double median() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0.0 : s[s.size() / 2];
  }
};

// Seconds per step of `steps` training steps of `stage` on images first.. of `data`.
double seconds_per_step(TimedStage& stage, const ImageTensors& data, int steps, int batch, int64_t first) {
  std::vector<int64_t> order(std::size_t(steps * batch));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = (first + int64_t(i)) % data.count();
  const auto t0 = std::chrono::steady_clock::now();
  if (profile_prefix.empty()) {
    train_epoch(*stage.net, *stage.optimizer, data, order, batch);
  } else {
    const torch::autograd::profiler::RecordProfile profile(profile_prefix + "-" + stage.name + ".json");
    train_epoch(*stage.net, *stage.optimizer, data, order, batch);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
}

}  // namespace

int main(int argc, char* argv[]) {
  keep_freed_memory();  // as cimsim-train does
  int steps = 10, batch = 128, threads = 2, rounds = 5;
  std::string which = "all";
  std::vector<int> dac_list{4, 1};
  std::vector<std::string> overrides;
  CLI::App app{"cimsim benchmark: the trainer's time per step in each stage"};
  app.add_option("--steps", steps, "timed steps per round (default 10)")->check(CLI::Range(1, 100000));
  app.add_option("--rounds", rounds, "rounds; the median is reported (default 5)")->check(CLI::Range(1, 1000));
  app.add_option("--batch", batch, "images per step (default 128)")->check(CLI::Range(1, 1 << 16));
  app.add_option("--arch", which, "lenet5, resnet20 or all (default)")->check(CLI::IsMember({"lenet5", "resnet20", "all"}));
  app.add_option("--threads", threads, "LibTorch threads (default 2)")->check(CLI::Range(1, 256));
  app.add_option("--profile", profile_prefix, "write each timed run's operator trace to PREFIX-ARCH-STAGE.json");
  app.add_option("--dac-bits", dac_list, "DAC bits to time, e.g. 4,1 (default)")->delimiter(',')->check(CLI::Range(1, 16));
  app.add_option("--set", overrides,
                 "stage cim's hardware overrides, dotted.key=value (repeatable), e.g. device.wire_resistance=1e-4");
  CLI11_PARSE(app, argc, argv);
  try {
    for (int dac_bits : dac_list) hw_with_dac(dac_bits, overrides);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  torch::set_num_threads(threads);
  for (const std::string arch : {"lenet5", "resnet20"}) {
    if (which != "all" && which != arch) continue;
    const ExperimentConfig config =
        parse_experiment("name: bench\nnetwork: {arch: " + arch +
                             "}\ndata: {set: fashion-mnist, train_limit: 2048, test_limit: 1}\n" +
                             "bits: {weight: 4, input: 4}\noptimizer: {type: sgd, lr: 0.01}\n" +
                             "schedule: {epochs: 1, batch_size: " + std::to_string(batch) + "}\n",
                         "bench_train.yaml");
    const ImageTensors data =
        to_tensors(load_split(config.data, data::Split::kTrain), config.data.mean, config.data.std);
    auto fresh = [&] {
      torch::manual_seed(1);
      return Network(architecture(config));
    };
    std::vector<TimedStage> stages;
    auto add = [&](const std::string& label, const std::string& name, Network net) {
      auto optimizer = make_optimizer(*net, OptimizerSpec{}, 0.01);
      stages.push_back(TimedStage{label, arch + "-" + name, net, std::move(optimizer), {}});
    };
    add("fp32", "fp32", fresh());
    Network qat = fresh();
    qat->set_quantized(true);
    add("qat", "qat", qat);
    for (int dac_bits : dac_list) {
      const HwConfig hw = hw_with_dac(dac_bits, overrides);
      Network cim = fresh();
      cim->set_quantized(true);
      CimNoise noise;
      noise.program_sigma = hw.device.program_sigma;
      cim->set_hardware(hw, noise);
      add("cim, dac_bits " + std::to_string(dac_bits) + " (" + std::to_string(hw.macro.phases()) + " phase" +
              (hw.macro.phases() > 1 ? "s)" : ")"),
          "cim-dac" + std::to_string(dac_bits), cim);
    }
    // One warm-up step each, then the stages take turns, `rounds` times: a slow spell of the
    // machine then lands in every stage's times, and the median per stage ignores it.
    for (TimedStage& stage : stages) seconds_per_step(stage, data, 1, batch, 0);
    for (int round = 0; round < rounds; ++round)
      for (TimedStage& stage : stages)
        stage.seconds.push_back(
            seconds_per_step(stage, data, steps, batch, int64_t(round + 1) * steps * batch));
    const double t_fp32 = stages[0].median();
    std::printf("%-9s batch %d, %d threads, median of %d rounds of %d steps:\n", arch.c_str(), batch, threads,
                rounds, steps);
    for (const TimedStage& stage : stages) {
      std::printf("%-9s %-28s %9.1f ms/step  (%.2fx fp32)\n", arch.c_str(), stage.label.c_str(),
                  1e3 * stage.median(), stage.median() / t_fp32);
    }
    std::printf("%-9s target: stage cim at one phase <= 2x fp32 (issue 20)\n", arch.c_str());
  }
  return 0;
}
