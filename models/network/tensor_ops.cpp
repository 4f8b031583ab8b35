#include "network/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace cimsim {

Tensor normalised_images(const data::Dataset& data, int64_t first, int count, const std::vector<double>& mean,
                         const std::vector<double>& std) {
  const int c = int(data.channels), h = int(data.height), w = int(data.width);
  Tensor t(count, c, h, w);
  for (int b = 0; b < count; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int i = 0; i < h * w; ++i)
        t.data[(std::size_t(b) * c + ch) * std::size_t(h * w) + std::size_t(i)] =
            (data.input(first + b, ch * h * w + i) - mean[std::size_t(ch)]) / std[std::size_t(ch)];
  return t;
}

int32_t quantize_input(double t, double scale, int bits) {
  const double top = double((1 << bits) - 1);
  return int32_t(std::min(std::max(std::nearbyint(t / scale), 0.0), top));
}

int32_t quantize_signed(double t, double scale, int bits) {
  const double top = double((1 << bits) - 1);
  return int32_t(std::min(std::max(std::nearbyint(t / scale), -top), top));
}

int32_t quantize_part(double t, double scale, int bits, InputPart part) {
  switch (part) {
    case InputPart::kPositive:
      return std::max(quantize_signed(t, scale, bits), 0);
    case InputPart::kNegative:
      return std::max(-quantize_signed(t, scale, bits), 0);
    default:
      return quantize_input(t, scale, bits);
  }
}

namespace {

std::vector<int32_t> quantize_all(const Tensor& input, double scale, int bits, InputPart part) {
  std::vector<int32_t> q(input.data.size());
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = quantize_part(input.data[i], scale, bits, part);
  return q;
}

// For output pixel (oy, ox): the offset within one image of each im2col column (c_in, k_h, k_w),
// or -1 where the window covers padding.
void window_offsets(const Tensor& input, const ConvGeometry& g, int oy, int ox,
                    std::vector<int64_t>& offsets) {
  offsets.clear();
  for (int c = 0; c < input.channels; ++c) {
    for (int i = 0; i < g.kernel_h; ++i) {
      const int y = oy * g.stride_h - g.pad_h + i;
      for (int j = 0; j < g.kernel_w; ++j) {
        const int x = ox * g.stride_w - g.pad_w + j;
        const bool inside = y >= 0 && y < input.height && x >= 0 && x < input.width;
        offsets.push_back(inside ? (int64_t(c) * input.height + y) * input.width + x : -1);
      }
    }
  }
}

}  // namespace

IntMatrix im2col_quantized(const Tensor& input, const ConvGeometry& g, double scale, int bits,
                           bool pixel_major, InputPart part) {
  const int oh = g.out_h(input.height), ow = g.out_w(input.width);
  const int k = input.channels * g.kernel_h * g.kernel_w;
  IntMatrix rows(Eigen::Index(input.batch) * oh * ow, k);
  const std::vector<int32_t> q = quantize_all(input, scale, bits, part);  // once per input element
  const int64_t image = int64_t(input.per_image());
  std::vector<int64_t> offsets;
  for (int oy = 0; oy < oh; ++oy) {
    for (int ox = 0; ox < ow; ++ox) {
      window_offsets(input, g, oy, ox, offsets);
      const Eigen::Index pixel = Eigen::Index(oy) * ow + ox;
      for (int b = 0; b < input.batch; ++b) {
        int32_t* row =
            rows.row(pixel_major ? pixel * input.batch + b : Eigen::Index(b) * oh * ow + pixel).data();
        const int32_t* src = q.data() + b * image;
        for (int col = 0; col < k; ++col)
          row[col] = offsets[std::size_t(col)] < 0 ? 0 : src[offsets[std::size_t(col)]];
      }
    }
  }
  return rows;
}

InputMatrix im2col_input_matrix(const Tensor& input, const ConvGeometry& g, double scale, int bits,
                                InputPart part) {
  const int oh = g.out_h(input.height), ow = g.out_w(input.width);
  const int k = input.channels * g.kernel_h * g.kernel_w;
  const Eigen::Index batch = input.batch;
  InputMatrix rows(batch * oh * ow, k);
  std::vector<uint16_t> q(input.data.size());
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = uint16_t(quantize_part(input.data[i], scale, bits, part));
    std::vector<int64_t> offsets;
    const int64_t image = int64_t(input.per_image());
#pragma omp for schedule(static)
    for (int pixel = 0; pixel < oh * ow; ++pixel) {
      window_offsets(input, g, pixel / ow, pixel % ow, offsets);
      for (int col = 0; col < k; ++col) {
        uint16_t* out = rows.col(col).data() + pixel * batch;
        const int64_t at = offsets[std::size_t(col)];
        if (at < 0) {
          std::fill(out, out + batch, uint16_t(0));
        } else {
          for (Eigen::Index b = 0; b < batch; ++b) out[b] = q[std::size_t(b * image + at)];
        }
      }
    }
  }
  return rows;
}

InputMatrix flatten_input_matrix(const Tensor& input, double scale, int bits, InputPart part) {
  const Eigen::Index f = Eigen::Index(input.per_image());
  InputMatrix rows(input.batch, f);
#pragma omp parallel for schedule(static)
  for (Eigen::Index i = 0; i < f; ++i) {
    for (int b = 0; b < input.batch; ++b)
      rows(b, i) = uint16_t(quantize_part(input.data[std::size_t(b * f + i)], scale, bits, part));
  }
  return rows;
}

IntMatrix flatten_quantized(const Tensor& input, double scale, int bits, InputPart part) {
  const std::size_t f = input.per_image();
  IntMatrix rows(input.batch, Eigen::Index(f));
  for (int b = 0; b < input.batch; ++b) {
    for (std::size_t i = 0; i < f; ++i)
      rows(b, Eigen::Index(i)) = quantize_part(input.data[b * f + i], scale, bits, part);
  }
  return rows;
}

Tensor affine_from_mvm(const Eigen::MatrixXd& out, int batch, int out_h, int out_w,
                       const std::vector<double>& weight_scale, double input_scale,
                       const std::vector<double>& bias, bool pixel_major) {
  const int n = int(out.cols());
  Tensor t(batch, n, out_h, out_w);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    for (int y = 0; y < out_h; ++y) {
      for (int x = 0; x < out_w; ++x) {
        const Eigen::Index pixel = Eigen::Index(y) * out_w + x;
        const Eigen::Index r = pixel_major ? pixel * batch + b : Eigen::Index(b) * out_h * out_w + pixel;
        for (int o = 0; o < n; ++o) {
          t.at(b, o, y, x) = out(r, o) * weight_scale[std::size_t(o)] * input_scale + bias[std::size_t(o)];
        }
      }
    }
  }
  return t;
}

Tensor relu(const Tensor& t) {
  Tensor r = t;
  for (double& v : r.data) v = std::max(v, 0.0);
  return r;
}

Tensor batchnorm(const Tensor& t, const std::vector<double>& scale, const std::vector<double>& shift) {
  Tensor r = t;
  const std::size_t plane = std::size_t(t.height) * t.width;
  for (int b = 0; b < t.batch; ++b) {
    for (int c = 0; c < t.channels; ++c) {
      double* p = r.data.data() + (std::size_t(b) * t.channels + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) p[i] = p[i] * scale[std::size_t(c)] + shift[std::size_t(c)];
    }
  }
  return r;
}

namespace {
template <typename Reduce>
Tensor pool(const Tensor& t, const ConvGeometry& g, double init, Reduce reduce, bool average) {
  const int oh = g.out_h(t.height), ow = g.out_w(t.width);
  Tensor r(t.batch, t.channels, oh, ow);
  for (int b = 0; b < t.batch; ++b) {
    for (int c = 0; c < t.channels; ++c) {
      for (int oy = 0; oy < oh; ++oy) {
        for (int ox = 0; ox < ow; ++ox) {
          double acc = init;
          for (int i = 0; i < g.kernel_h; ++i) {
            const int y = oy * g.stride_h - g.pad_h + i;
            for (int j = 0; j < g.kernel_w; ++j) {
              const int x = ox * g.stride_w - g.pad_w + j;
              if (y >= 0 && y < t.height && x >= 0 && x < t.width) acc = reduce(acc, t.at(b, c, y, x));
            }
          }
          r.at(b, c, oy, ox) = average ? acc / double(g.kernel_h * g.kernel_w) : acc;
        }
      }
    }
  }
  return r;
}
}  // namespace

Tensor maxpool(const Tensor& t, const ConvGeometry& g) {
  return pool(
      t, g, -std::numeric_limits<double>::infinity(), [](double a, double v) { return std::max(a, v); },
      false);
}

Tensor avgpool(const Tensor& t, const ConvGeometry& g) {
  ConvGeometry unpadded = g;
  unpadded.pad_h = unpadded.pad_w = 0;
  return pool(
      t, unpadded, 0.0, [](double a, double v) { return a + v; }, true);
}

Tensor global_avgpool(const Tensor& t) {
  ConvGeometry whole;
  whole.kernel_h = whole.stride_h = t.height;
  whole.kernel_w = whole.stride_w = t.width;
  return avgpool(t, whole);
}

Tensor flatten(const Tensor& t) {
  Tensor r = t;
  r.channels = int(t.per_image());
  r.height = r.width = 1;
  return r;
}

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.batch != b.batch || a.channels != b.channels || a.height != b.height || a.width != b.width) {
    throw std::invalid_argument("add: tensors of different shapes");
  }
  Tensor r = a;
  for (std::size_t i = 0; i < r.data.size(); ++i) r.data[i] += b.data[i];
  return r;
}

Tensor concat(const std::vector<const Tensor*>& parts) {
  int channels = 0;
  for (const Tensor* p : parts) {
    if (p->batch != parts[0]->batch || p->height != parts[0]->height || p->width != parts[0]->width)
      throw std::invalid_argument("concat: tensors of different batch or spatial sizes");
    channels += p->channels;
  }
  Tensor r(parts[0]->batch, channels, parts[0]->height, parts[0]->width);
  double* out = r.data.data();
  for (int b = 0; b < r.batch; ++b) {
    for (const Tensor* p : parts) {
      const std::size_t n = p->per_image();
      std::copy_n(p->data.data() + std::size_t(b) * n, n, out);
      out += n;
    }
  }
  return r;
}

Tensor clip(const Tensor& t, double lo, double hi) {
  Tensor r = t;
  for (double& v : r.data) v = std::min(std::max(v, lo), hi);
  return r;
}

}  // namespace cimsim
