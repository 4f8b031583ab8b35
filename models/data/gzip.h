// Decompressing gzip data (.gz files, RFC 1952) into memory, with Boost.Iostreams' gzip_decompressor
// (zlib). Used by the dataset readers, which accept every data file plain or gzip-compressed.
#pragma once

#include <cstddef>
#include <string>

namespace cimsim::data {

// True if `bytes` starts with the gzip magic bytes 1f 8b.
bool is_gzip(const std::string& bytes);

// Decompresses a whole gzip stream (one or more members) held in memory. `path` only names the source
// in messages: a stream that is not gzip, corrupt, truncated or followed by other data throws
// InputError naming `path` and what is wrong with it.
std::string gunzip(const std::string& compressed, const std::string& path);

// Reads the gzip file at `path` and decompresses it whole; InputError if it cannot be read or is corrupt.
std::string gunzip_file(const std::string& path);

}  // namespace cimsim::data
