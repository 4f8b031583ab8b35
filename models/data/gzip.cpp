// gzip decompression into memory: the compressed file is read whole, then inflated through a
// filtering_istreambuf in 64 KiB chunks (zlib does the work; no per-byte stream calls).

#include "data/gzip.h"

#include <algorithm>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>

#include "core/error.h"

namespace cimsim::data {
namespace {

namespace bio = boost::iostreams;

constexpr std::streamsize kChunk = std::streamsize{1} << 16;
constexpr size_t kChunkBytes = size_t{1} << 16;

[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
  throw InputError(path + ": corrupt gzip file: " + why + "; download or compress it again (`gzip -t " +
                   path + "` checks a .gz file)");
}

std::string describe(const bio::gzip_error& e) {
  switch (e.error()) {
    case bio::gzip::bad_header:
      return "a gzip header was expected (magic bytes 1f 8b) but not found: the file is not gzip-compressed, "
             "or other data follows the compressed stream";
    case bio::gzip::bad_footer:
      return "the stream ends before its gzip footer: the file is truncated";
    case bio::gzip::bad_crc:
      return "the CRC-32 of the decompressed data does not match the one recorded in the file";
    case bio::gzip::bad_length:
      return "the decompressed length does not match the one recorded in the file";
    case bio::gzip::bad_method:
      return "it uses a compression method other than deflate";
    default:
      if (e.zlib_error_code() == bio::zlib::buf_error)
        return "the compressed data ends in the middle of a block: the file is truncated";
      return "zlib reports invalid compressed data (zlib error " + std::to_string(e.zlib_error_code()) + ")";
  }
}

}  // namespace

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(const std::string& compressed, const std::string& path) {
  if (compressed.empty()) corrupt(path, "the file is empty");
  // Start at the size the last member's trailer records (mod 2^32), bounded by deflate's ratio limit
  // of about 1032:1; exact for the usual one-member file, so the output is usually allocated once.
  std::string out;
  if (compressed.size() >= 18) {
    uint64_t isize = 0;
    for (size_t i = 0; i < 4; ++i)
      isize |= uint64_t{static_cast<unsigned char>(compressed[compressed.size() - 4 + i])} << (8 * i);
    out.resize(static_cast<size_t>(std::min<uint64_t>(isize, 1032 * uint64_t{compressed.size()})));
  }
  try {
    bio::filtering_istreambuf in;
    in.push(bio::gzip_decompressor(bio::zlib::default_window_bits, kChunk), kChunk);
    in.push(bio::array_source(compressed.data(), compressed.size()), kChunk);
    size_t used = 0;
    for (;;) {
      // Read straight into the string (one copy out of zlib's buffer); when it is full and more data
      // follows, double it.
      if (used == out.size()) {
        if (std::char_traits<char>::eq_int_type(in.sgetc(), std::char_traits<char>::eof())) break;
        out.resize(std::max(2 * out.size(), used + kChunkBytes));
      }
      const std::streamsize got =
          in.sgetn(out.data() + used, static_cast<std::streamsize>(out.size() - used));
      if (got <= 0) break;
      used += static_cast<size_t>(got);
    }
    out.resize(used);
  } catch (const bio::gzip_error& e) {
    corrupt(path, describe(e));
  } catch (const std::ios_base::failure& e) {
    corrupt(path, e.what());
  }
  return out;
}

std::string gunzip_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a directory; give the path of a .gz file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw InputError(path + ": cannot open: " + std::strerror(errno) + "; check the path and permissions");
  const std::streamoff size = in.tellg();
  std::string compressed(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  in.seekg(0);
  if (size < 0 || !in.read(compressed.data(), static_cast<std::streamsize>(compressed.size())))
    throw InputError(path + ": cannot read: " + std::strerror(errno) + "; check that it is a regular file");
  return gunzip(compressed, path);
}

}  // namespace cimsim::data
