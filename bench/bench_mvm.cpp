// Benchmark (not a test): one K = 1152 (128 ch x 3 x 3), N = 128 layer over B = 4096 vectors at
// input_bits 4, dac_bits 1, weight_bits 4, cell_bits 1, rows_per_cycle 64, adc_bits 5 through the
// SystemC macros, against Eigen's float GEMM on the same total work (B x K x N x phases x slices)
// in the same run, and against the simulator's u8 x s8 kernel (VNNI) on that work: the machine's
// integer rate. Prints the rates, the ratios and the peak resident memory.
//   build/bench/bench_mvm [--vectors B] [--hw configs/hw/rram-neurosim-128.yaml] [--gemm-reps 3] [--batch
//   256]
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "core/rng.h"
#include "int8_rate.h"
#include "mvm_run.h"
#include "report_handler.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  int vectors = 4096;
  int gemm_reps = 3;
  int batch = 256;
  std::vector<std::string> extra;  // further --set overrides, e.g. device.program_sigma=0.05
  std::string hw_path = std::string(CIMSIM_SOURCE_DIR) + "/configs/hw/rram-neurosim-128.yaml";
  CLI::App app{"cimsim benchmark: one layer's MVMs through the SystemC macros against Eigen's GEMM"};
  app.add_option("--vectors", vectors, "input vectors B (default 4096)")->check(CLI::Range(1, 1 << 24));
  app.add_option("--hw", hw_path, "hardware preset (default configs/hw/rram-neurosim-128.yaml)");
  app.add_option("--gemm-reps", gemm_reps, "repetitions of the Eigen GEMM (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--batch", batch, "vectors per transaction (default 256)")->check(CLI::Range(1, 1 << 16));
  app.add_option("--set", extra, "further config overrides, dotted.key=value (repeatable)");
  CLI11_PARSE(app, argc, argv);
  cimsim::install_report_handler(false);
  spdlog::set_level(spdlog::level::debug);
  std::vector<std::string> overrides = {"macro.input_bits=4",      "macro.dac_bits=1",
                                        "macro.weight_bits=4",     "macro.cell_bits=1",
                                        "macro.rows_per_cycle=64", "macro.adc_bits=5"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  const cimsim::HwConfig hw = cimsim::load_hw_config(hw_path, overrides);
  const int K = 1152, N = 128;
  const cimsim::CounterRng rng(2024, {uint64_t(cimsim::RngTag::kTestData)});
  Eigen::MatrixXi W(K, N);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) W(k, n) = int(rng.bits(uint64_t(k) * N + n) % 15) - 7;
  cimsim::IntMatrix X(vectors, K);
  for (int b = 0; b < vectors; ++b)
    for (int k = 0; k < K; ++k) X(b, k) = int(rng.bits(1u << 30 | (uint64_t(b) * K + k)) % 16);

  const double work = double(vectors) * K * N * hw.macro.phases() * hw.macro.slices();  // MACs

  cimsim::MvmOptions options;
  options.batch = batch;
  Eigen::MatrixXd Y;
  const auto t0 = std::chrono::steady_clock::now();
  const cimsim::LayerReport report = cimsim::run_mvm(hw, W, X, Y, options);
  const double sim_s = seconds_since(t0);
  struct rusage sim_usage {};
  getrusage(RUSAGE_SELF, &sim_usage);  // before the baseline's own matrices exist

  // The same total work as one float GEMM: (B * phases) x K times K x (N * slices).
  Eigen::MatrixXf A = Eigen::MatrixXf::Random(Eigen::Index(vectors) * hw.macro.phases(), K);
  Eigen::MatrixXf Bm = Eigen::MatrixXf::Random(K, N * hw.macro.slices());
  Eigen::MatrixXf C(A.rows(), Bm.cols());
  double gemm_s = 1e30;
  for (int rep = 0; rep < gemm_reps; ++rep) {
    const auto g0 = std::chrono::steady_clock::now();
    C.noalias() = A * Bm;
    gemm_s = std::min(gemm_s, seconds_since(g0));
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const cimsim::bench::Int8Rate int8 =
      cimsim::bench::int8_rate(vectors * hw.macro.phases(), K, N * hw.macro.slices(), gemm_reps);

  std::printf("devices %s (program_sigma %g, read_noise_sigma %g), ADC SQNR %.2f dB\n",
              hw.device.ideal() ? "ideal" : "non-ideal", hw.device.program_sigma, hw.device.read_noise_sigma,
              report.stats.error.sqnr_db());
  std::printf("layer K=%d N=%d B=%d phases=%d slices=%d: %d macros, %lld cycles/MVM, %lld conversions\n", K,
              N, vectors, hw.macro.phases(), hw.macro.slices(), report.macros,
              (long long)report.cycles_per_mvm, (long long)report.stats.adc.conversions);
  std::printf("simulator   %8.3f s  %8.2f GMAC/s (array operations)\n", sim_s, work / sim_s * 1e-9);
  std::printf("eigen gemm  %8.3f s  %8.2f GMAC/s (fp32, Eigen %d threads)\n", gemm_s, work / gemm_s * 1e-9,
              Eigen::nbThreads());
  std::printf("ratio simulator/gemm = %.3f (target >= 1.0, issue 20)\n", gemm_s / sim_s);
  std::printf("int8 kernel %8.3f s  %8.2f GMAC/s (u8 x s8 byte_gemm, %s, %d threads)\n", int8.seconds,
              work / int8.seconds * 1e-9, int8.kernel, int8.threads);
  std::printf("ratio simulator/int8 = %.3f (target >= 0.5)\n", int8.seconds / sim_s);
  std::printf("peak resident memory = %.1f MiB after the simulation, %.1f MiB with the GEMM baseline\n",
              double(sim_usage.ru_maxrss) / 1024.0, double(usage.ru_maxrss) / 1024.0);
  std::printf("checksum %.17g\n", Y.sum() + C(0, 0) * 0);
  return 0;
}
