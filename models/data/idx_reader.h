// Reads MNIST and Fashion-MNIST: IDX image and label files, plain or gzip-compressed, into a Dataset.
//
// The IDX format (Yann LeCun's MNIST page, http://yann.lecun.com/exdb/mnist/): big-endian 32-bit
// integers. An images file is the magic 0x00000803 (unsigned bytes, 3 dimensions), the image count,
// rows and columns, then count x rows x columns pixels in row-major order. A labels file is the magic
// 0x00000801, the count, then one byte per label. Fashion-MNIST (Zalando Research) uses the same format
// and file names: {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte, often as .gz.
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace cimsim::data {

// Where Debian's dataset-fashion-mnist package installs the four .gz files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads the first `limit` samples of an IDX images/labels pair as 1 x rows x columns images. The counts
// of the two files must agree, both headers must match the file sizes exactly (however small the
// limit), and every label read must lie in [0, num_classes).
Dataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t limit = kAll,
                 const std::string& name = "idx", int32_t num_classes = 10);

// Reads a split from `dir`, which holds the files under their standard names (plain or .gz).
// Names the dataset "mnist/train", "fashion-mnist/test" and so on.
Dataset load_mnist(const std::string& dir, Split split, int64_t limit = kAll);
Dataset load_fashion_mnist(const std::string& dir = kFashionMnistDir, Split split = Split::kTest,
                           int64_t limit = kAll);

}  // namespace cimsim::data
