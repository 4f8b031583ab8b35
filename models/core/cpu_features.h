// What the CPU running the simulator offers, detected once at run time. Kernels for wider vector
// units are compiled with the target attribute where the compiler supports it
// (CIMSIM_X86_KERNELS), so a build without -march=native has them too; each is run only where
// cpu_features() reports its instructions, and every one has a portable twin giving the same bits.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CIMSIM_X86_KERNELS 1
#endif

namespace cimsim {

struct CpuFeatures {
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vnni = false;
  bool avx512cd = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx2 = false;
  bool fma = false;
};

const CpuFeatures& cpu_features();

}  // namespace cimsim
