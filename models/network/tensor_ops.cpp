#include "network/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace cimsim {

int32_t quantize_input(double t, double scale, int bits) {
  const double top = double((1 << bits) - 1);
  return int32_t(std::min(std::max(std::nearbyint(t / scale), 0.0), top));
}

IntMatrix im2col_quantized(const Tensor& input, const ConvGeometry& g, double scale, int bits,
                           bool pixel_major) {
  const int oh = g.out_h(input.height), ow = g.out_w(input.width);
  const int k = input.channels * g.kernel_h * g.kernel_w;
  IntMatrix rows(Eigen::Index(input.batch) * oh * ow, k);
  // Quantize once per input element, then gather.
  std::vector<int32_t> q(input.data.size());
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = quantize_input(input.data[i], scale, bits);
  for (int b = 0; b < input.batch; ++b) {
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        const Eigen::Index pixel = Eigen::Index(oy) * ow + ox;
        int32_t* row =
            rows.row(pixel_major ? pixel * input.batch + b : Eigen::Index(b) * oh * ow + pixel).data();
        for (int c = 0; c < input.channels; ++c) {
          for (int i = 0; i < g.kernel_h; ++i) {
            const int y = oy * g.stride_h - g.pad_h + i;
            for (int j = 0; j < g.kernel_w; ++j) {
              const int x = ox * g.stride_w - g.pad_w + j;
              const bool inside = y >= 0 && y < input.height && x >= 0 && x < input.width;
              *row++ = inside
                           ? q[((std::size_t(b) * input.channels + c) * input.height + y) * input.width + x]
                           : 0;
            }
          }
        }
      }
    }
  }
  return rows;
}

IntMatrix flatten_quantized(const Tensor& input, double scale, int bits) {
  const std::size_t f = input.per_image();
  IntMatrix rows(input.batch, Eigen::Index(f));
  for (int b = 0; b < input.batch; ++b) {
    for (std::size_t i = 0; i < f; ++i)
      rows(b, Eigen::Index(i)) = quantize_input(input.data[b * f + i], scale, bits);
  }
  return rows;
}

Tensor affine_from_mvm(const Eigen::MatrixXd& out, int batch, int out_h, int out_w,
                       const std::vector<double>& weight_scale, double input_scale,
                       const std::vector<double>& bias, bool pixel_major) {
  const int n = int(out.cols());
  Tensor t(batch, n, out_h, out_w);
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

}  // namespace cimsim
