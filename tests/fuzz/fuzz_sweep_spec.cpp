// Sweep file (tools/sweep_spec.h load_sweep): written as DIR/sweeps/fuzz.yaml beside links to the
// shipped configs/hw and configs/models, so the seeds' relative paths (../hw/..) resolve.
#include <cstdint>
#include <filesystem>

#include "core/error.h"
#include "fuzz_support.h"
#include "sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const std::string root = [] {
    const std::string r = cimsim::fuzz::fresh_dir("sweep-root");
    fs::create_directories(r + "/sweeps");
    fs::create_directory_symlink(CIMSIM_SOURCE_DIR "/configs/hw", r + "/hw");
    fs::create_directory_symlink(CIMSIM_SOURCE_DIR "/configs/models", r + "/models");
    return r;
  }();
  const std::string path = cimsim::fuzz::write_file(root + "/sweeps/fuzz.yaml", data, size);
  try {
    (void)cimsim::cli::sweep_json(cimsim::cli::load_sweep(path));
  } catch (const cimsim::InputError&) {
  }
  return 0;
}

// libsystemc (linked for the simulator code the CLI sources use) needs an sc_main; libFuzzer's main
// runs instead, and no simulation is elaborated.
extern "C" int sc_main(int, char**) { return 0; }
