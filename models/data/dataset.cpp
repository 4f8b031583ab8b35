// Shared parts of the dataset readers: split names, limits and reading a plain or gzip data file.

#include "data/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

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
  prefix(size_);
  data_ = gunzip(data_, path);
  size_ = data_.size();
  in_.close();
}

const uint8_t* DataFile::prefix(uint64_t n) {
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

std::string DataFile::size_phrase() const {
  return "the file has " + std::to_string(size_) + " bytes" + (gzip_ ? " after decompression" : "");
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
