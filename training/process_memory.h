// Stage 2 allocates and frees about 1 GB of partial-sum state per ResNet-20 step (batch 128) in
// blocks of tens of MB. glibc serves blocks above 32 MB with fresh mmap()s, so every step paid
// page faults and the kernel's zeroing of every page: 18% of the step in the kernel (perf), and
// a stage-2 step of 1002 ms instead of 703 ms (bench_train). keep_freed_memory() makes glibc take
// all blocks from its heap and keep up to 1 GiB of freed memory for reuse; call it first thing in
// main() of a program that trains.
#pragma once

#include <malloc.h>

namespace cimsim::train {

inline void keep_freed_memory() {
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace cimsim::train
