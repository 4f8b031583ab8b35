// Random integer operands of one layer within a hardware config's bit widths: W (K x N, signed
// weights) and X (B x K, unsigned inputs), as nested vectors for the plain-loop reference and as
// the simulator's matrices.
#pragma once

#include <Eigen/Core>
#include <random>
#include <vector>

#include "core/int_matrix.h"
#include "macro/mvm_job.h"
#include "test_configs.h"

namespace cimsim::testing {

struct Operands {
  std::vector<std::vector<int>> W, X;
  Eigen::MatrixXi weights;
  IntMatrix x;         // X as cimsim mvm takes it
  InputMatrix inputs;  // X as the layer engine takes it
};

inline Operands random_operands(const HwParams& p, int K, int N, int B, unsigned seed) {
  std::mt19937 gen(seed);
  const int wmax = (1 << (p.weight_bits - 1)) - 1, xmax = (1 << p.input_bits) - 1;
  std::uniform_int_distribution<int> wdist(-wmax, wmax), xdist(0, xmax);
  Operands o;
  o.W.assign(std::size_t(K), std::vector<int>(std::size_t(N)));
  o.X.assign(std::size_t(B), std::vector<int>(std::size_t(K)));
  o.weights.resize(K, N);
  o.x.resize(B, K);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) o.weights(k, n) = o.W[std::size_t(k)][std::size_t(n)] = wdist(gen);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < K; ++k) o.x(b, k) = o.X[std::size_t(b)][std::size_t(k)] = xdist(gen);
  o.inputs = to_input_matrix(o.x);
  return o;
}

}  // namespace cimsim::testing
