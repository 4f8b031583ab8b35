#include "data/npy_images.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/npy.h"

namespace cimsim::data {

Dataset load_npy_images(const std::string& images_path, const std::string& labels_path, int64_t limit) {
  const npy::Array images = npy::read(images_path);
  check_image_array(images, images_path);
  const npy::Array labels = npy::read(labels_path);
  Dataset d = dataset_of_arrays(images, images_path, &labels, labels_path, limit);
  d.name = "npy:" + images_path;
  return d;
}

void check_image_array(const npy::Array& images, const std::string& images_path) {
  if (images.shape.size() != 4 || images.size() == 0) {
    throw InputError(images_path + ": expected a non-empty N x C x H x W array of images; save them with "
                                   "np.save(path, x) where x.shape is (N, C, H, W) (add a channel axis "
                                   "for grey images: x[:, None])");
  }
  const bool pixels = images.descr == "|u1";
  const bool floats = images.descr.size() == 3 && images.descr[1] == 'f';
  if (!pixels && !floats) {
    throw InputError(images_path + ": images of dtype " + images.descr +
                     "; save uint8 pixels (0..255) or float32 values (x.astype(np.float32))");
  }
}

Dataset dataset_of_arrays(const npy::Array& images, const std::string& images_path, const npy::Array* labels,
                          const std::string& labels_path, int64_t limit) {
  check_image_array(images, images_path);
  if (labels) {
    if (labels->shape.size() != 1 || !labels->integral) {
      throw InputError(labels_path + ": expected a 1-D integer array of class labels (shape (N,)), got dtype " +
                       labels->descr + " with " + std::to_string(labels->shape.size()) + " dimensions");
    }
    if (labels->shape[0] != images.shape[0]) {
      throw InputError(labels_path + ": " + std::to_string(labels->shape[0]) + " labels for " +
                       std::to_string(images.shape[0]) + " images in " + images_path +
                       "; give one label per image");
    }
  }
  const bool pixels = images.descr == "|u1";
  Dataset d;
  d.name = images_path;
  d.count = samples_to_read(images.shape[0], limit);
  d.channels = images.shape[1];
  d.height = images.shape[2];
  d.width = images.shape[3];
  const std::size_t n = std::size_t(d.count * d.image_size());
  if (pixels) {
    d.images.resize(n);
    for (std::size_t i = 0; i < n; ++i) d.images[i] = uint8_t(images.values[i]);
  } else {
    d.values.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = images.values[i];
      if (!std::isfinite(v) || std::fabs(v) > 1e30) {
        throw InputError(images_path + ": element " + std::to_string(i) + " is " + std::to_string(v) +
                         "; images must be finite (|x| <= 1e30)");
      }
      d.values[i] = float(v);
    }
  }
  if (!labels) return d;
  int32_t top = 0;
  for (int64_t i = 0; i < d.count; ++i) {
    const double v = labels->values[std::size_t(i)];
    if (v < 0 || v >= 2147483647.0)
      throw InputError(labels_path + ": label " + std::to_string(i) + " is " + std::to_string(int64_t(v)) +
                       "; labels are class indices from 0");
    d.labels.push_back(int32_t(v));
    top = std::max(top, int32_t(v));
  }
  d.num_classes = top + 1;
  return d;
}

}  // namespace cimsim::data
