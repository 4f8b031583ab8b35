// gzip decompression (data/gzip.h): in memory, and streamed from a .gz data file read in part.
#include <cstdint>

#include "core/error.h"
#include "data/dataset.h"
#include "data/gzip.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    (void)cimsim::data::gunzip(bytes, "fuzz.gz");
  } catch (const cimsim::InputError&) {
  }
  const std::string path = cimsim::fuzz::input_file("input.gz", data, size);
  try {
    cimsim::data::DataFile file(path);
    const uint64_t n = file.available(16);
    (void)file.prefix(n);
    (void)file.size(64);
    (void)file.size_phrase();
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
