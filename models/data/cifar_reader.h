// Reads CIFAR-10 and CIFAR-100 binary batches, plain or gzip-compressed, into a Dataset.
//
// The format ("binary version" on Alex Krizhevsky's CIFAR page, https://www.cs.toronto.edu/~kriz/cifar.html):
// a file is a sequence of fixed-size records with no header: the label byte(s), then 3072 pixel bytes, the
// 1024 red, then 1024 green, then 1024 blue values of a 32 x 32 image in row-major order (so already
// C x H x W). CIFAR-10: 1 label byte (0..9); data_batch_1.bin .. data_batch_5.bin (train, 10000 records
// each) and test_batch.bin. CIFAR-100: 2 label bytes, coarse (0..19) then fine (0..99); train.bin (50000)
// and test.bin (10000). The archives extract to cifar-10-batches-bin/ and cifar-100-binary/.
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace cimsim::data {

// Reads the first `limit` samples of a split as 3 x 32 x 32 images, from the files in `dir` or in its
// subdirectory cifar-10-batches-bin/ (cifar-100-binary/). Every file of the split must exist, but only
// those the limit needs are read; each file read must be a whole number of records and every label read
// in range. Names the dataset "cifar10/train", "cifar100-fine/test", "cifar100-coarse/train" and so on.
Dataset load_cifar10(const std::string& dir, Split split, int64_t limit = kAll);
Dataset load_cifar100(const std::string& dir, Split split, int64_t limit = kAll, bool fine_labels = true);

}  // namespace cimsim::data
