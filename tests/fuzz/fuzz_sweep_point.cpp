// A sweep directory's point record and statistics (tools/sweep_results.h read_point_record, which
// sweep-merge and the results tables use): the input is an archive (fuzz_support.h) of point.json
// and stats.json, placed as DIR/points/000000/. Damaged records must read as "no record" (null).
#include <cstdint>
#include <filesystem>

#include "fuzz_support.h"
#include "sweep_results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  const std::string dir = cimsim::fuzz::fresh_dir("sweep");
  const std::string point = cimsim::cli::point_dir(dir, 0);
  fs::create_directories(point);
  for (const auto& [name, content] : cimsim::fuzz::unpack_files(data, size))
    cimsim::fuzz::write_file(point + "/" + name, content.data(), content.size());
  (void)cimsim::cli::read_point_record(dir, 0, "fuzz");
  return 0;
}

// libsystemc (linked for the simulator code the CLI sources use) needs an sc_main; libFuzzer's main
// runs instead, and no simulation is elaborated.
extern "C" int sc_main(int, char**) { return 0; }
