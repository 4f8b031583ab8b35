// .npy reader (io/npy.h): any array, then the same bytes as an integer matrix.
#include <cstdint>

#include "core/error.h"
#include "fuzz_support.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::input_file("input.npy", data, size);
  try {
    (void)cimsim::npy::read(path);
  } catch (const cimsim::InputError&) {
  }
  try {
    (void)cimsim::npy::read_int_matrix(path, "weights");
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
