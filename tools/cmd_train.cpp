#include "cmd_train.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/cpu_features.h"

namespace cimsim::cli {

namespace {

// The OpenBLAS kernel set this CPU runs (OPENBLAS_CORETYPE), or null to leave OpenBLAS's choice.
const char* openblas_core_type() {
  const CpuFeatures& cpu = cpu_features();
  if (cpu.avx512f && cpu.avx512cd && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl) return "SkylakeX";
  if (cpu.avx2 && cpu.fma) return "Haswell";
  return nullptr;
}

}  // namespace

int exec_train_if_requested(int argc, char* argv[]) {
  int sub = 1;
  while (sub < argc && argv[sub][0] == '-') ++sub;  // global flags (-v, -q) may come first
  if (sub >= argc || std::string(argv[sub]) != "train") return -1;

  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string trainer = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / "cimsim-train";
  std::vector<char*> args{const_cast<char*>(trainer.c_str())};
  for (int i = sub + 1; i < argc; ++i) args.push_back(argv[i]);
  for (int i = 1; i < sub; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  // LibTorch's OpenMP threads spin while they wait; on a shared machine a spinning thread that loses
  // its core stalls every parallel region (4x slower epochs measured under load). Passive waiting,
  // unless the user chose otherwise.
  ::setenv("OMP_WAIT_POLICY", "passive", 0);
  // OpenBLAS's own threads would compete with LibTorch's for the same cores (LeNet-5 fp32 step
  // 15.4 ms with them, 8.7 ms without, measured with bench_train).
  ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
  // OpenBLAS picks its kernels by CPU model and falls back to the generic SSE3 ones ("Prescott") on
  // models it does not know: Debian's 0.3.21 on Intel family 6 model 207 made the LeNet-5 fp32 step
  // 12.3 ms against 9.7 ms with the AVX-512 kernels (bench_train). Naming the kernel set by the
  // instructions the CPU has also gives every such machine the same BLAS summation order.
  if (const char* core = openblas_core_type()) ::setenv("OPENBLAS_CORETYPE", core, 0);
  ::execv(trainer.c_str(), args.data());
  const int error = errno;
  std::cerr
      << "error: cimsim train runs " << trainer << ", which "
      << (error == ENOENT ? "does not exist" : std::string("cannot be executed: ") + std::strerror(error))
      << "; build it (it needs LibTorch: apt-get install libtorch-dev, then cmake and ninja cimsim-train)\n";
  return 2;
}

}  // namespace cimsim::cli
