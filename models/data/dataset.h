// The in-memory image dataset that the network runner and the trainer share, and the file access the
// readers have in common. The readers: idx_reader.h (MNIST, Fashion-MNIST) and cifar_reader.h
// (CIFAR-10, CIFAR-100); every file may be plain or gzip-compressed.
#pragma once

#include <cstdint>
#include <fstream>
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

// A data file read from its start. A gzip file (named *.gz, or starting with the magic bytes 1f 8b) is
// decompressed whole when opened; a plain file is read only as far as prefix() is asked to, so a reader
// with a limit reads only what it needs, yet size() is always the whole (decompressed) size for checking
// against a header. All failures are InputErrors naming the path.
class DataFile {
 public:
  explicit DataFile(const std::string& path);
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  bool gzip() const { return gzip_; }
  // The first n bytes of the (decompressed) content; n <= size().
  const uint8_t* prefix(uint64_t n);
  // "the file has 1234 bytes" or, for gzip, "the file has 1234 bytes after decompression".
  std::string size_phrase() const;

 private:
  std::string path_;
  std::ifstream in_;
  std::string data_;
  uint64_t size_ = 0;
  bool gzip_ = false;
};

// dir/name if it is a file, else dir/name.gz if that is, else "".
std::string find_file(const std::string& dir, const std::string& name);

}  // namespace cimsim::data
