// Shared parts of the dataset readers: split names, limits and reading a plain or gzip data file.

#include "data/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/error.h"
#include "data/gzip.h"

namespace cimsim::data {

const char* split_name(Split split) { return split == Split::kTrain ? "train" : "test"; }

int64_t samples_to_read(int64_t available, int64_t limit) {
  return limit < 0 ? available : std::min(limit, available);
}

DataFile::DataFile(const std::string& path) : path_(path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a directory; give the path of a data file");
  in_.open(path, std::ios::binary | std::ios::ate);
  if (!in_)
    throw InputError(path + ": cannot open: " + std::strerror(errno) + "; check the path and permissions");
  const std::streamoff end = in_.tellg();
  in_.seekg(0);
  if (end < 0 || !in_)
    throw InputError(path + ": cannot read: " + std::strerror(errno) + "; check that it is a regular file");
  size_ = static_cast<uint64_t>(end);
  const uint64_t magic = std::min<uint64_t>(size_, 2);
  data_.resize(magic);
  in_.read(data_.data(), static_cast<std::streamsize>(magic));
  const bool named_gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (!named_gz && !is_gzip(data_)) return;
  gzip_ = true;
  in_.clear();
  in_.seekg(0);
  data_.clear();
  size_ = 0;
  complete_ = false;
  gz_ = std::make_unique<GzipReader>(in_, path);
}

DataFile::~DataFile() = default;

void DataFile::inflate_to(uint64_t n) {
  constexpr uint64_t kStep = uint64_t{1} << 20;
  while (!complete_ && data_.size() < n) {
    if (dropped_ > 0)
      throw std::logic_error(path_ + ": DataFile::prefix asked for more bytes than size() was told to keep");
    const size_t have = data_.size();
    // Grown a step at a time as data arrives, never by what the caller asks or the trailer says.
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n - have, std::max<uint64_t>(kStep, have)));
    data_.resize(have + want);
    const size_t got = gz_->read(data_.data() + have, want);
    data_.resize(have + got);
    size_ += got;
    if (got < want) complete_ = true;
  }
}

uint64_t DataFile::available(uint64_t n) {
  if (gzip_) inflate_to(n);
  return std::min(n, size_);
}

const uint8_t* DataFile::prefix(uint64_t n) {
  if (gzip_) {
    inflate_to(n);
    if (data_.size() < n)
      throw InputError(path_ + ": " + size_phrase() + ", fewer than the " + std::to_string(n) +
                       " needed; it is truncated");
    return reinterpret_cast<const uint8_t*>(data_.data());
  }
  if (n > size_) n = size_;
  if (data_.size() < n) {
    const size_t have = data_.size();
    data_.resize(n);
    if (!in_.read(data_.data() + have, static_cast<std::streamsize>(n - have)))
      throw InputError(path_ + ": cannot read byte " +
                       std::to_string(in_.gcount() + static_cast<std::streamsize>(have)) + " of " +
                       std::to_string(size_) + ": the file shrank while being read or cannot be read");
  }
  return reinterpret_cast<const uint8_t*>(data_.data());
}

uint64_t DataFile::size(uint64_t keep, uint64_t stop_after) {
  if (!gzip_) return size_;
  inflate_to(std::min(keep, stop_after));
  std::string scratch;
  while (!complete_ && size_ <= stop_after) {
    if (scratch.empty()) scratch.resize(size_t{1} << 16);
    const size_t got = gz_->read(scratch.data(), scratch.size());
    size_ += got;
    dropped_ += got;
    if (got < scratch.size()) complete_ = true;
  }
  return size_;
}

std::string DataFile::size_phrase() const {
  return std::string("the file has ") + (complete_ ? "" : "more than ") + std::to_string(size_) + " bytes" +
         (gzip_ ? " after decompression" : "");
}

std::string find_file(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const std::string& candidate : {name, name + ".gz"}) {
    const fs::path p = fs::path(dir) / candidate;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

}  // namespace cimsim::data
