// ONNX importer (tools/import): the model file read (onnx_model.h), then lowered to the float graph
// (float_graph.h) as `cimsim import` does before quantizing.
#include <cstdint>

#include "core/error.h"
#include "fuzz_support.h"
#include "import/float_graph.h"
#include "import/onnx_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::input_file("model.onnx", data, size);
  try {
    const auto model = cimsim::onnx_import::read_onnx_model(path);
    (void)cimsim::onnx_import::lower_onnx(model, true);
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
