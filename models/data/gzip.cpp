// gzip decompression: a filtering_istreambuf inflates the compressed stream in 64 KiB chunks (zlib
// does the work; no per-byte stream calls), as far as the reader asks.

#include "data/gzip.h"

#include <algorithm>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <sstream>

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

struct GzipReader::Impl {
  std::string path;
  bio::filtering_istreambuf in;
  bool done = false;
};

GzipReader::GzipReader(std::istream& compressed, const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (std::char_traits<char>::eq_int_type(compressed.peek(), std::char_traits<char>::eof()))
    corrupt(path, "the file is empty");
  impl_->in.push(bio::gzip_decompressor(bio::zlib::default_window_bits, kChunk), kChunk);
  impl_->in.push(compressed, kChunk);
}

GzipReader::~GzipReader() = default;

size_t GzipReader::read(char* out, size_t n) {
  size_t used = 0;
  try {
    while (used < n && !impl_->done) {
      const std::streamsize got = impl_->in.sgetn(out + used, static_cast<std::streamsize>(n - used));
      if (got <= 0) {
        impl_->done = true;
        break;
      }
      used += static_cast<size_t>(got);
    }
  } catch (const bio::gzip_error& e) {
    corrupt(impl_->path, describe(e));
  } catch (const std::ios_base::failure& e) {
    corrupt(impl_->path, e.what());
  }
  return used;
}

namespace {

// All of the reader's data, the string grown by doubling as it arrives: no allocation is sized
// from the (untrusted) trailer.
std::string read_all(GzipReader& reader) {
  std::string out(kChunkBytes, '\0');
  size_t used = 0;
  for (;;) {
    used += reader.read(out.data() + used, out.size() - used);
    if (used < out.size()) break;
    out.resize(2 * out.size());
  }
  out.resize(used);
  return out;
}

}  // namespace

std::string gunzip(const std::string& compressed, const std::string& path) {
  std::istringstream source(compressed);
  GzipReader reader(source, path);
  return read_all(reader);
}

std::string gunzip_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a directory; give the path of a .gz file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path + ": cannot open: " + std::strerror(errno) + "; check the path and permissions");
  GzipReader reader(in, path);
  return read_all(reader);
}

}  // namespace cimsim::data
