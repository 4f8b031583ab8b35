// The stats JSON of `cimsim run --stats` (stats/stats_records.h load_run_stats), as `cimsim sweep`,
// `cimsim flow` and the trainer's --hw-stats (training/hw_stats.h) read it.
#include <cstdint>

#include "core/error.h"
#include "fuzz_support.h"
#include "hw_stats.h"
#include "stats/stats_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::input_file("stats.json", data, size);
  try {
    (void)cimsim::load_run_stats(path, "fuzz");
  } catch (const cimsim::InputError&) {
  }
  try {
    (void)cimsim::train::measured_noise_from_stats(path, "partial_sums", 1);
  } catch (const cimsim::InputError&) {
  }
  try {
    (void)cimsim::train::measured_noise_from_stats(path, "cells", 7);
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
