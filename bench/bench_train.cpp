// Benchmark (not a test): the trainer's time per training step of LeNet-5 and ResNet-20 on
// Fashion-MNIST in stage fp32, stage qat and stage cim (4-bit weights and inputs, 1-bit cells,
// rows_per_cycle 64, 5-bit ADC) with dac_bits 4 (one input phase) and dac_bits 1 (bit-serial),
// and each stage's ratio to fp32.
//   OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1 build/bench/bench_train [--steps 20] [--batch 128]
//       [--arch lenet5|resnet20|all] [--threads 2] [--dac-bits 4,1] [--profile PREFIX]
// --profile writes each timed run's operator trace (LibTorch's profiler, Chrome trace format) to
// PREFIX-ARCH-STAGE.json; the profiler slows the run.
// (the environment `cimsim train` sets for the trainer).
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "architectures.h"
#include "config/hw_config.h"
#include "image_tensors.h"
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

HwConfig hw_with_dac(int dac_bits) {
  std::string yaml = kHw;
  yaml.replace(yaml.find("DAC"), 3, std::to_string(dac_bits));
  return parse_hw_config(yaml, "bench_train.yaml");
}

std::string profile_prefix;

// Seconds per step of `steps` training steps (after one warm-up step) of `net` on `data`.
double seconds_per_step(NetworkImpl& net, const ImageTensors& data, int steps, int batch,
                        const std::string& name) {
  auto optimizer = make_optimizer(net, OptimizerSpec{}, 0.01);
  std::vector<int64_t> order(std::size_t((steps + 1) * batch));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i) % data.count();
  const std::vector<int64_t> warm(order.begin(), order.begin() + batch);
  train_epoch(net, *optimizer, data, warm, batch);
  const std::vector<int64_t> timed(order.begin() + batch, order.end());
  const auto t0 = std::chrono::steady_clock::now();
  if (profile_prefix.empty()) {
    train_epoch(net, *optimizer, data, timed, batch);
  } else {
    const torch::autograd::profiler::RecordProfile profile(profile_prefix + "-" + name + ".json");
    train_epoch(net, *optimizer, data, timed, batch);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
}

}  // namespace

int main(int argc, char* argv[]) {
  int steps = 20, batch = 128, threads = 2;
  std::string which = "all";
  std::vector<int> dac_list{4, 1};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--arch")) which = argv[i + 1];
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--profile")) profile_prefix = argv[i + 1];
    if (!std::strcmp(argv[i], "--dac-bits")) {
      dac_list.clear();
      for (const char* p = argv[i + 1]; *p; ++p)
        if (p == argv[i + 1] || p[-1] == ',') dac_list.push_back(std::atoi(p));
    }
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
    Network fp32 = fresh();
    const double t_fp32 = seconds_per_step(*fp32, data, steps, batch, arch + "-fp32");
    Network qat = fresh();
    qat->set_quantized(true);
    const double t_qat = seconds_per_step(*qat, data, steps, batch, arch + "-qat");
    std::printf("%-9s batch %d, %d threads: fp32 %8.1f ms/step\n", arch.c_str(), batch, threads,
                1e3 * t_fp32);
    std::printf("%-9s qat                        %8.1f ms/step  (%.2fx fp32)\n", arch.c_str(), 1e3 * t_qat,
                t_qat / t_fp32);
    for (int dac_bits : dac_list) {
      const HwConfig hw = hw_with_dac(dac_bits);
      Network cim = fresh();
      cim->set_quantized(true);
      cim->set_hardware(hw, CimNoise{hw.device.program_sigma, 0, 0});
      const double t_cim =
          seconds_per_step(*cim, data, steps, batch, arch + "-cim-dac" + std::to_string(dac_bits));
      std::printf(
          "%-9s cim, dac_bits %d (%d phase%s) %8.1f ms/step  (%.2fx fp32; target <= 4x at one phase)\n",
          arch.c_str(), dac_bits, hw.macro.phases(), hw.macro.phases() > 1 ? "s" : "", 1e3 * t_cim,
          t_cim / t_fp32);
    }
  }
  return 0;
}
