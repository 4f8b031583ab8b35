// CIFAR binary batch reader (format: Alex Krizhevsky's CIFAR page); see cifar_reader.h.

#include "data/cifar_reader.h"

#include <cstring>
#include <filesystem>
#include <limits>
#include <vector>

#include "core/error.h"

namespace cimsim::data {
namespace {

constexpr int64_t kSide = 32, kPixels = 3 * kSide * kSide;
constexpr const char* kGetIt =
    "download the binary version (cifar-10-binary.tar.gz or cifar-100-binary.tar.gz) from "
    "https://www.cs.toronto.edu/~kriz/cifar.html and extract it there";

// What distinguishes the two datasets.
struct Layout {
  const char* title;   // "CIFAR-10"
  const char* subdir;  // what the archive extracts to
  std::vector<std::string> files;
  std::vector<int32_t> label_ranges;     // one per label byte, which precede the pixels of a record
  std::vector<const char*> label_kinds;  // what each label byte is
  size_t label_used;                     // the index of the one returned as the label
};

[[noreturn]] void missing(const std::string& root, const std::string& file, const Layout& layout,
                          const std::string& name) {
  throw InputError(root + "/" + file + ": missing (nor " + file + ".gz), though " + layout.files[0] +
                   " is there; the " + name + " split needs all of its files; " + kGetIt);
}

// `dir` itself if it holds the first file, else dir/subdir if that does; else an InputError.
std::string resolve_dir(const std::string& dir, const Layout& layout) {
  namespace fs = std::filesystem;
  std::string sub = (fs::path(dir) / layout.subdir).string();
  if (!find_file(dir, layout.files[0]).empty()) return dir;
  if (!find_file(sub, layout.files[0]).empty()) return sub;
  std::string names;
  for (const auto& f : layout.files) names += (names.empty() ? "" : ", ") + f;
  std::error_code ec;
  throw InputError(dir + (fs::is_directory(dir, ec) ? ": " : ": no such directory; ") + "looked for the " +
                   layout.title + " files " + names + " (each plain or .gz) in it and in " + sub + ", but " +
                   layout.files[0] + " is not there; " + kGetIt);
}

Dataset load_cifar(const std::string& dir, const Layout& layout, int32_t num_classes, int64_t limit,
                   const std::string& name) {
  const std::string root = resolve_dir(dir, layout);
  std::vector<std::string> paths;
  for (const auto& f : layout.files) {
    paths.push_back(find_file(root, f));
    if (paths.back().empty()) missing(root, f, layout, name);
  }
  const auto label_bytes = static_cast<int64_t>(layout.label_ranges.size());
  const int64_t record = label_bytes + kPixels;

  Dataset d;
  d.name = name;
  d.channels = 3;
  d.height = kSide;
  d.width = kSide;
  d.num_classes = num_classes;
  const int64_t want = limit < 0 ? std::numeric_limits<int64_t>::max() : limit;
  for (size_t f = 0; f < paths.size() && d.count < want; ++f) {
    DataFile file(paths[f]);
    // Only the records that will be read are kept in memory; the rest of a gzip file is counted.
    const uint64_t wanted = static_cast<uint64_t>(want - d.count);
    const uint64_t keep = wanted > UINT64_MAX / static_cast<uint64_t>(record) ? UINT64_MAX
                                                                            : wanted * static_cast<uint64_t>(record);
    const auto bytes = static_cast<int64_t>(file.size(keep));
    if (bytes == 0 || bytes % record != 0)
      throw InputError(paths[f] + ": " + file.size_phrase() + ", not a positive multiple of the " +
                       std::to_string(record) + "-byte " + layout.title + " record (" +
                       std::to_string(label_bytes) + " label byte" + (label_bytes == 1 ? "" : "s") +
                       " + 3072 pixels); it is truncated or not a " + layout.title +
                       " binary batch (the Python and MATLAB versions are not read); " + kGetIt);
    const int64_t take = samples_to_read(bytes / record, want - d.count);
    const uint8_t* src = file.prefix(static_cast<uint64_t>(take * record));
    d.images.resize(static_cast<size_t>((d.count + take) * kPixels));
    d.labels.resize(static_cast<size_t>(d.count + take));
    for (int64_t i = 0; i < take; ++i, src += record) {
      // Every label byte is checked, the unused one too: out of range means a corrupt file.
      for (size_t b = 0; b < layout.label_ranges.size(); ++b)
        if (src[b] >= layout.label_ranges[b])
          throw InputError(paths[f] + ": " + layout.label_kinds[b] + " " + std::to_string(src[b]) +
                           " of record " + std::to_string(i) + " is out of range 0.." +
                           std::to_string(layout.label_ranges[b] - 1) + "; the file is corrupt or not a " +
                           layout.title + " binary batch; " + kGetIt);
      d.labels[d.count + i] = src[layout.label_used];
      std::memcpy(d.images.data() + (d.count + i) * kPixels, src + label_bytes, kPixels);
    }
    d.count += take;
  }
  return d;
}

}  // namespace

Dataset load_cifar10(const std::string& dir, Split split, int64_t limit) {
  Layout layout{"CIFAR-10", "cifar-10-batches-bin", {"test_batch.bin"}, {10}, {"label"}, 0};
  if (split == Split::kTrain) {
    layout.files.clear();
    for (int i = 1; i <= 5; ++i) layout.files.push_back("data_batch_" + std::to_string(i) + ".bin");
  }
  return load_cifar(dir, layout, 10, limit, std::string("cifar10/") + split_name(split));
}

Dataset load_cifar100(const std::string& dir, Split split, int64_t limit, bool fine_labels) {
  const Layout layout{"CIFAR-100",
                      "cifar-100-binary",
                      {split == Split::kTrain ? "train.bin" : "test.bin"},
                      {20, 100},
                      {"coarse label", "fine label"},
                      fine_labels ? size_t{1} : size_t{0}};
  return load_cifar(dir, layout, fine_labels ? 100 : 20, limit,
                    std::string("cifar100-") + (fine_labels ? "fine/" : "coarse/") + split_name(split));
}

}  // namespace cimsim::data
