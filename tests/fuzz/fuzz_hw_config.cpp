// Hardware YAML and --set overrides (config/hw_config.h): the input is the YAML text; after a NUL
// byte, each further line is one "path=value" override.
#include <cstdint>
#include <string>
#include <vector>

#include "config/hw_config.h"
#include "core/error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    size_t at = nul + 1;
    while (at <= input.size() && overrides.size() < 16) {
      const size_t end = std::min(input.find('\n', at), input.size());
      overrides.push_back(input.substr(at, end - at));
      at = end + 1;
    }
  }
  try {
    const cimsim::HwConfig hw = cimsim::parse_hw_config(yaml, "fuzz.yaml", overrides);
    (void)hw.to_json();
  } catch (const cimsim::InputError&) {
  }
  return 0;
}
