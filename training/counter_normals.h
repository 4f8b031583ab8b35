// Standard normal draws for stage 2's noise with the simulator's counter-based generator
// (models/core/rng.h, Box-Muller with fixed polynomials, vectorized): the key comes from
// LibTorch's default CPU generator (one 64-bit draw per call), so torch::manual_seed fixes the
// draws; they are filled in parallel, each a function of its index only, so they do not depend
// on the number of threads. About 10x faster than torch::randn, whose Box-Muller calls libm
// per draw (measured in bench_train: the programming-noise draws of a LeNet-5 step).
#pragma once

#include <torch/torch.h>

#include "core/rng.h"

namespace cimsim::train {

torch::Tensor counter_normals(at::IntArrayRef shape, torch::ScalarType dtype, RngTag tag);

}  // namespace cimsim::train
