// Images and labels from two NumPy files (`--data npy:IMAGES.npy,LABELS.npy`): images N x C x H x W
// of uint8 (pixels, taken as pixel / 255 like the other data sets) or float32 / float64 (values used
// as they are, before the bundle's mean and std; float64 is rounded to float32), labels N integers in
// [0, 2^31). docs/model-bundle.md, "Images".
#pragma once

#include <string>

#include "dataset.h"
#include "io/npy.h"

namespace cimsim::data {

// The first min(limit, N) images (limit < 0: all). Every problem is an InputError naming the file.
Dataset load_npy_images(const std::string& images_path, const std::string& labels_path, int64_t limit);

// The same from arrays in memory (the Python module's), named in messages by `images_path` and
// `labels_path`; without labels, an unlabelled set (num_classes 0). The data set's name is
// `images_path`.
Dataset dataset_of_arrays(const npy::Array& images, const std::string& images_path, const npy::Array* labels,
                          const std::string& labels_path, int64_t limit);

// InputError unless `images` is a non-empty N x C x H x W array of uint8 or float values.
void check_image_array(const npy::Array& images, const std::string& images_path);

}  // namespace cimsim::data
