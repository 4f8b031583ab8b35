// Shared helpers of the libFuzzer harnesses (docs/testing.md). A loader that takes paths gets the
// fuzz input written to files in one temporary directory per process, removed at exit; a harness
// whose loader reads several files unpacks the input as a small archive (unpack_files).
#pragma once

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace cimsim::fuzz {

// The loaders' warnings (spdlog) would flood the fuzzer's output: off in every harness.
inline const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

// This process's scratch directory (on /dev/shm when there is one), empty at first use.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("cimsim-fuzz-" + std::to_string(getpid()));
    fs::remove_all(d, ec);
    fs::create_directories(d);
    std::atexit([] { std::error_code e; fs::remove_all(scratch_dir(), e); });
    return d;
  }();
  return dir;
}

// A fresh, empty subdirectory `name` of the scratch directory.
inline std::string fresh_dir(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path d = scratch_dir() / name;
  std::filesystem::remove_all(d, ec);
  std::filesystem::create_directories(d);
  return d.string();
}

inline std::string write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Writes the input to scratch file `name` and returns its path.
inline std::string input_file(const std::string& name, const uint8_t* data, size_t size) {
  return write_file((scratch_dir() / name).string(), data, size);
}

// The archive of the multi-file harnesses (tools/fuzz_corpus.py writes the seeds): entries of
//   name bytes, '\0', 4-byte little-endian length, that many content bytes
// until the input ends; a truncated entry gets what is left. Names are reduced to one plain path
// component (the harness never writes outside its directory); empty names are skipped.
inline std::vector<std::pair<std::string, std::string>> unpack_files(const uint8_t* data, size_t size) {
  std::vector<std::pair<std::string, std::string>> files;
  size_t at = 0;
  while (at < size && files.size() < 64) {
    std::string name;
    while (at < size && data[at] != 0) name += static_cast<char>(data[at++]);
    ++at;
    uint32_t len = 0;
    for (int i = 0; i < 4 && at < size; ++i, ++at) len |= uint32_t{data[at]} << (8 * i);
    const size_t take = std::min<size_t>(len, at < size ? size - at : 0);
    std::string content(reinterpret_cast<const char*>(data) + std::min(at, size), take);
    at += take;
    std::string clean;
    for (char c : name)
      if (c != '/' && c != '\\' && c != '\0') clean += c;
    if (clean.empty() || clean == "." || clean == ".." || clean.size() > 100) continue;
    files.emplace_back(clean, std::move(content));
  }
  return files;
}

// Unpacks the input into the fresh directory `name`; returns its path.
inline std::string unpack_into(const std::string& name, const uint8_t* data, size_t size) {
  const std::string dir = fresh_dir(name);
  for (const auto& [file, content] : unpack_files(data, size))
    write_file(dir + "/" + file, content.data(), content.size());
  return dir;
}

}  // namespace cimsim::fuzz
