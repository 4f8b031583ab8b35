// CIFAR-10 and CIFAR-100 binary batches (data/cifar_reader.h), plain or gzip: the input is an
// archive (fuzz_support.h) of test_batch.bin[.gz] and/or test.bin[.gz].
#include <cstdint>

#include "core/error.h"
#include "data/cifar_reader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = cimsim::fuzz::unpack_into("cifar", data, size);
  namespace d = cimsim::data;
  try {
    (void)d::load_cifar10(dir, d::Split::kTest, 3);
  } catch (const cimsim::InputError&) {
  }
  try {
    (void)d::load_cifar100(dir, d::Split::kTest, d::kAll, true);
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
