// IDX images/labels pair (data/idx_reader.h), each file plain or gzip: the input is an archive
// (fuzz_support.h) holding "images" and "labels"; read whole and with a limit of 2 samples.
#include <cstdint>

#include "core/error.h"
#include "data/idx_reader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = cimsim::fuzz::unpack_into("idx", data, size);
  for (const int64_t limit : {int64_t{2}, cimsim::data::kAll}) {
    try {
      (void)cimsim::data::load_idx(dir + "/images", dir + "/labels", limit);
    } catch (const cimsim::InputError&) {
    }
  }
  return 0;
}
