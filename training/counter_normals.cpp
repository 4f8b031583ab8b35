#include "counter_normals.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <mutex>
#include <vector>

namespace cimsim::train {

torch::Tensor counter_normals(at::IntArrayRef shape, torch::ScalarType dtype, RngTag tag) {
  uint64_t seed = 0;
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    const std::lock_guard<std::mutex> lock(generator.mutex());
    seed = at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
  }
  const CounterRng rng(seed, {uint64_t(tag)});
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  const int64_t count = out.numel();
  constexpr int64_t kChunk = 4096;
  AT_DISPATCH_FLOATING_TYPES(dtype, "counter_normals", [&] {
    scalar_t* data = out.data_ptr<scalar_t>();
    at::parallel_for(0, (count + kChunk - 1) / kChunk, 1, [&](int64_t first, int64_t last) {
      std::vector<double> draws(kChunk);
      for (int64_t chunk = first; chunk < last; ++chunk) {
        const int64_t begin = chunk * kChunk, n = std::min(kChunk, count - begin);
        rng.normals(uint64_t(begin), 1, n, draws.data());
        for (int64_t i = 0; i < n; ++i) data[begin + i] = scalar_t(draws[std::size_t(i)]);
      }
    });
  });
  return out;
}

}  // namespace cimsim::train
