// The machine's integer limit for the benchmarks (issue 20): the simulator's own u8 x s8 kernel
// (models/macro/byte_gemm.h: AVX-512 VNNI four-way dot products where the CPU has them, plain loops
// otherwise) timed on a GEMM of one-bit digits and levels of the benchmark's shape.
#pragma once

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "macro/byte_gemm.h"

namespace cimsim::bench {

struct Int8Rate {
  double seconds = 1e30;  // best of the repetitions
  const char* kernel = "";
  int threads = 1;
};

// rows x depth one-bit digits times depth x cols levels in {-1, 0, 1}, 32 rows a call, the calls
// spread over all OpenMP threads; the best of `reps` runs.
inline Int8Rate int8_rate(int64_t rows, int64_t depth, int64_t cols, int reps) {
  const CounterRng rng(7, {uint64_t(RngTag::kTestData)});
  std::vector<uint16_t> inputs(std::size_t(rows * depth));
  for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i] = uint16_t(rng.bits(i) & 1);
  std::vector<const uint16_t*> columns(static_cast<std::size_t>(depth));
  for (int64_t k = 0; k < depth; ++k) columns[std::size_t(k)] = inputs.data() + std::size_t(k * rows);
  const PackedDigits digits = pack_digits(columns, int(rows), 0, 1);
  Eigen::MatrixXf levels(depth, cols);
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t c = 0; c < cols; ++c)
      levels(k, c) = float(int(rng.bits(uint64_t(1) << 62 | uint64_t(k * cols + c)) % 3) - 1);
  const PackedLevels packed = pack_levels(levels);
  Int8Rate rate;
  rate.kernel = byte_kernel_name(byte_kernel_best());
  rate.threads = omp_get_max_threads();
  const int blocks = int((rows + kByteGemmVectors - 1) / kByteGemmVectors);
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel
    {
      IntSums y;
#pragma omp for schedule(static)
      for (int b = 0; b < blocks; ++b) {
        const int first = b * kByteGemmVectors;
        byte_gemm(digits, first, std::min(kByteGemmVectors, int(rows) - first), packed, y);
      }
    }
    rate.seconds =
        std::min(rate.seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return rate;
}

}  // namespace cimsim::bench
