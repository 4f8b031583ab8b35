// Model bundle (bundle/model_bundle.h): manifest and tensors. The input is an archive of files
// (fuzz_support.h: model.yaml and its .npy tensors) unpacked into a directory that is then loaded.
#include <cstdint>

#include "bundle/model_bundle.h"
#include "core/error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = cimsim::fuzz::unpack_into("bundle", data, size);
  try {
    (void)cimsim::load_model_bundle(dir);
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
