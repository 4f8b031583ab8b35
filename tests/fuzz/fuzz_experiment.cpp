// Trainer experiment YAML (training/experiment_config.h), parsed from memory.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_support.h"
#include "experiment_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)cimsim::train::parse_experiment(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
