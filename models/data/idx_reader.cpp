// IDX reader (format: Yann LeCun's MNIST page); see idx_reader.h.

#include "data/idx_reader.h"

#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace cimsim::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr uint32_t kMaxSide = 65535;
constexpr const char* kRefetch = "; download it again";

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw InputError(path + ": " + msg);
}

uint32_t big_endian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Header fields of one IDX file, checked against the file's magic and size.
struct IdxHeader {
  uint32_t count = 0, rows = 1, cols = 1;
};

// Reads and checks the header; `limit` (samples_to_read) bounds what is kept of a gzip file while
// its whole size is checked.
IdxHeader read_header(DataFile& file, bool images, int64_t limit) {
  const uint32_t want = images ? kImagesMagic : kLabelsMagic, other = images ? kLabelsMagic : kImagesMagic;
  const char* what = images ? "images" : "labels";
  const uint64_t header_size = images ? 16 : 8;
  const auto too_short = [&] {
    fail(file.path(), "too short for an IDX " + std::string(what) + " header (" +
                          std::to_string(header_size) + " bytes): " + file.size_phrase() +
                          "; it is truncated or not an IDX file" + kRefetch);
  };
  if (file.available(4) < 4) too_short();
  const uint32_t magic = big_endian32(file.prefix(4));
  if (magic == other)
    fail(file.path(), "is an IDX " + std::string(images ? "labels" : "images") + " file (magic " +
                          hex(other) + ") where " + (images ? "an" : "a") + " " + what + " file (magic " +
                          hex(want) + ") was expected; are the images and labels paths swapped?");
  if (magic != want)
    fail(file.path(), "not an IDX " + std::string(what) + " file: its magic number is " + hex(magic) +
                          ", not " + hex(want) + "; give an MNIST-format *-" + what +
                          (images ? "-idx3" : "-idx1") + "-ubyte file, plain or .gz");
  if (file.available(header_size) < header_size) too_short();
  const uint8_t* p = file.prefix(header_size);
  IdxHeader h;
  h.count = big_endian32(p + 4);
  if (images) {
    h.rows = big_endian32(p + 8);
    h.cols = big_endian32(p + 12);
    if (h.rows == 0 || h.cols == 0 || h.rows > kMaxSide || h.cols > kMaxSide)
      fail(file.path(), "the header gives images of " + std::to_string(h.rows) + " x " +
                            std::to_string(h.cols) + " pixels; each side must be 1.." +
                            std::to_string(kMaxSide) + ": the header is corrupt" + kRefetch);
  }
  const uint64_t item = uint64_t{h.rows} * h.cols;  // < 2^32, so count * item < 2^64
  const uint64_t need = h.count * item;
  const uint64_t keep = header_size + static_cast<uint64_t>(samples_to_read(h.count, limit)) * item;
  // Counting stops just past the size the header gives: anything longer is wrong however long.
  const uint64_t body = file.size(keep, header_size + need) - header_size;
  if (body != need)
    fail(file.path(),
         "the header says " + std::to_string(h.count) + " " + what +
             (images ? " of " + std::to_string(h.rows) + " x " + std::to_string(h.cols) + " pixels" : "") +
             ", " + std::to_string(header_size + need) + " bytes in all, but " + file.size_phrase() +
             (body < need ? "; it is truncated" : "; it has data past the end") + kRefetch);
  return h;
}

std::string missing_message(const std::string& dir, const std::string& images, const std::string& labels,
                            bool fashion) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool have_dir = fs::is_directory(dir, ec);
  std::string msg = dir + (have_dir ? ": " : ": no such directory; ") + "looked for " + images +
                    "[.gz] and " + labels + "[.gz] in it";
  if (have_dir) {
    const bool no_images = find_file(dir, images).empty(), no_labels = find_file(dir, labels).empty();
    msg += no_images && no_labels ? ", but neither is there"
                                  : ", but " + (no_images ? images : labels) + " is not there";
  }
  if (fashion)
    return msg + "; `apt-get install dataset-fashion-mnist` provides Fashion-MNIST in " + kFashionMnistDir +
           ", or give the directory holding the four files of github.com/zalandoresearch/fashion-mnist";
  return msg +
         "; give the directory holding the four MNIST files from Yann LeCun's MNIST page "
         "(Fashion-MNIST: `apt-get install dataset-fashion-mnist`)";
}

Dataset load_idx_dir(const std::string& dir, Split split, int64_t limit, const std::string& dataset,
                     bool fashion) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  const std::string images = prefix + "-images-idx3-ubyte", labels = prefix + "-labels-idx1-ubyte";
  const std::string images_path = find_file(dir, images), labels_path = find_file(dir, labels);
  if (images_path.empty() || labels_path.empty())
    throw InputError(missing_message(dir, images, labels, fashion));
  return load_idx(images_path, labels_path, limit, dataset + "/" + split_name(split), 10);
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t limit,
                 const std::string& name, int32_t num_classes) {
  DataFile images(images_path), labels(labels_path);
  const IdxHeader ih = read_header(images, true, limit), lh = read_header(labels, false, limit);
  if (ih.count != lh.count)
    throw InputError(images_path + " holds " + std::to_string(ih.count) + " images but " + labels_path +
                     " holds " + std::to_string(lh.count) +
                     " labels; give the labels file of the same split (train or t10k)");

  Dataset d;
  d.name = name;
  d.count = samples_to_read(ih.count, limit);
  d.channels = 1;
  d.height = ih.rows;
  d.width = ih.cols;
  d.num_classes = num_classes;
  const uint64_t pixels = static_cast<uint64_t>(d.count) * static_cast<uint64_t>(d.image_size());
  const uint8_t* src = images.prefix(16 + pixels) + 16;
  d.images.assign(src, src + pixels);
  const uint8_t* lab = labels.prefix(8 + static_cast<uint64_t>(d.count)) + 8;
  d.labels.resize(static_cast<size_t>(d.count));
  for (int64_t i = 0; i < d.count; ++i) {
    d.labels[i] = lab[i];
    if (d.labels[i] >= num_classes)
      fail(labels_path, "label " + std::to_string(d.labels[i]) + " of sample " + std::to_string(i) +
                            " is out of range: " + name + " has classes 0.." +
                            std::to_string(num_classes - 1) + "; the file is corrupt or of another dataset");
  }
  return d;
}

Dataset load_mnist(const std::string& dir, Split split, int64_t limit) {
  return load_idx_dir(dir, split, limit, "mnist", false);
}

Dataset load_fashion_mnist(const std::string& dir, Split split, int64_t limit) {
  return load_idx_dir(dir, split, limit, "fashion-mnist", true);
}

}  // namespace cimsim::data
