// Decompressing gzip data (.gz files, RFC 1952) into memory, with Boost.Iostreams' gzip_decompressor
// (zlib). Used by the dataset readers, which accept every data file plain or gzip-compressed.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <string>

namespace cimsim::data {

// True if `bytes` starts with the gzip magic bytes 1f 8b.
bool is_gzip(const std::string& bytes);

// Decompresses a gzip stream (one or more members) incrementally, a caller-chosen amount at a time,
// so that a reader keeps only what it needs however large the decompressed data is (a .gz file's
// recorded length, ISIZE, is never trusted). `path` only names the source in messages: a stream
// that is empty, not gzip, corrupt, truncated or followed by other data throws InputError naming
// `path` and what is wrong with it, when read() reaches the fault.
class GzipReader {
 public:
  GzipReader(std::istream& compressed, const std::string& path);  // reads from `compressed`, kept by reference
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  // Up to n decompressed bytes into `out`: how many; fewer than n only at the end of the data.
  size_t read(char* out, size_t n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decompresses a whole gzip stream (one or more members) held in memory. `path` only names the source
// in messages: a stream that is not gzip, corrupt, truncated or followed by other data throws
// InputError naming `path` and what is wrong with it.
std::string gunzip(const std::string& compressed, const std::string& path);

// Reads the gzip file at `path` and decompresses it whole; InputError if it cannot be read or is corrupt.
std::string gunzip_file(const std::string& path);

}  // namespace cimsim::data
