// Images and labels as .npy files (data/npy_images.h): the input is an archive (fuzz_support.h)
// holding "images.npy" and "labels.npy".
#include <cstdint>

#include "core/error.h"
#include "data/npy_images.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = cimsim::fuzz::unpack_into("npyimg", data, size);
  for (const int64_t limit : {int64_t{2}, int64_t{-1}}) {
    try {
      (void)cimsim::data::load_npy_images(dir + "/images.npy", dir + "/labels.npy", limit);
    } catch (const cimsim::InputError&) {
    }
  }
  return 0;
}
