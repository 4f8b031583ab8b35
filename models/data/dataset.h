// The in-memory image dataset that the network runner and the trainer share, and the file access the
// readers have in common. The readers: idx_reader.h (MNIST, Fashion-MNIST) and cifar_reader.h
// (CIFAR-10, CIFAR-100); every file may be plain or gzip-compressed.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace cimsim::data {

enum class Split { kTrain, kTest };

const char* split_name(Split split);  // "train" or "test"

// Readers take a limit: read the first `limit` samples (fewer if the split has fewer); kAll, or any
// negative value, reads them all.
inline constexpr int64_t kAll = -1;
int64_t samples_to_read(int64_t available, int64_t limit);

// Labelled images: `images` holds count x channels x height x width uint8 pixels, contiguous, in
// N x C x H x W (C) order; labels[i] is the class of image i, in [0, num_classes). Float images
// (npy_images.h) are held in `values` instead, `images` then empty.
struct Dataset {
  std::string name;  // e.g. "fashion-mnist/test", "cifar100-fine/train"
  int64_t count = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int32_t num_classes = 0;
  std::vector<uint8_t> images;
  std::vector<float> values;
  std::vector<int32_t> labels;

  int64_t image_size() const { return channels * height * width; }  // pixels per image
  bool is_float() const { return !values.empty(); }
  const uint8_t* image(int64_t i) const { return images.data() + i * image_size(); }  // uint8 images
  // Element k of image i as the network input before normalisation: pixel / 255 in double, or the
  // float value widened to double.
  double input(int64_t i, int64_t k) const {
    const int64_t at = i * image_size() + k;
    return is_float() ? double(values[std::size_t(at)]) : double(images[std::size_t(at)]) / 255.0;
  }
};

// A data file read from its start, plain or gzip (named *.gz, or starting with the magic bytes
// 1f 8b), only as far as the reader asks: a gzip file is decompressed incrementally, and only the
// bytes a reader may use are kept in memory (a header's shape times the limit), so a small corrupt or
// hostile .gz cannot make it allocate more. All failures are InputErrors naming the path.
class GzipReader;
class DataFile {
 public:
  explicit DataFile(const std::string& path);
  ~DataFile();
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;
  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  // min(n, the (decompressed) size): a gzip file is inflated no further than its first n bytes.
  uint64_t available(uint64_t n);
  // The first n bytes of the (decompressed) content; n <= available(n).
  const uint8_t* prefix(uint64_t n);
  // The whole (decompressed) size, to check against a header. A gzip file is inflated to its end to
  // count it (a corrupt or truncated stream throws), keeping only its first `keep` bytes for later
  // prefix() calls; once more than `stop_after` bytes are counted it stops there and returns that
  // count (size_phrase() then says "more than").
  uint64_t size(uint64_t keep, uint64_t stop_after = UINT64_MAX);
  // "the file has 1234 bytes" or, for gzip, "the file has 1234 bytes after decompression".
  std::string size_phrase() const;

 private:
  void inflate_to(uint64_t n);  // gzip: keep decompressing into data_ until it holds n bytes or the end

  std::string path_;
  std::ifstream in_;
  std::string data_;
  uint64_t size_ = 0;  // plain: the file's size; gzip: the decompressed bytes seen so far
  bool gzip_ = false;
  bool complete_ = true;    // gzip: the end of the stream was reached, size_ is the whole size
  uint64_t dropped_ = 0;    // gzip: bytes counted past data_ and not kept
  std::unique_ptr<GzipReader> gz_;
};

// dir/name if it is a file, else dir/name.gz if that is, else "".
std::string find_file(const std::string& dir, const std::string& name);

}  // namespace cimsim::data
