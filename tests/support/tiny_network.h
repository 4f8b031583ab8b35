// A small network with every layer type (conv with rows_per_cycle < k_h k_w, batch norm, residual
// add, pooling, a layer over 3 x 2 macros, global average pooling, linear), random images for it,
// and a plain reference of its logits written from docs/model-bundle.md (ideal cells and
// converter: every MVM is an exact integer product). Shared by the network tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bundle/bundle_writer.h"
#include "bundle/model_bundle.h"
#include "data/dataset.h"

namespace cimsim::testing {

using Image = std::vector<double>;  // C x H x W, C order

struct Shape {
  int c, h, w;
};

inline int q(double t, double s, int bits) {
  return int(std::min(std::max(std::nearbyint(t / s), 0.0), double((1 << bits) - 1)));
}

inline Image ref_conv(const Image& x, Shape in, const BundleLayer& l, int bits, Shape& out) {
  const int kh = l.kernel[0], kw = l.kernel[1], sh = l.stride[0], sw = l.stride[1], ph = l.padding[0],
            pw = l.padding[1];
  out = {l.out_channels, (in.h + 2 * ph - kh) / sh + 1, (in.w + 2 * pw - kw) / sw + 1};
  Image y(std::size_t(out.c * out.h * out.w));
  for (int o = 0; o < out.c; ++o)
    for (int oy = 0; oy < out.h; ++oy)
      for (int ox = 0; ox < out.w; ++ox) {
        long acc = 0;
        for (int c = 0; c < in.c; ++c)
          for (int i = 0; i < kh; ++i)
            for (int j = 0; j < kw; ++j) {
              const int yy = oy * sh - ph + i, xx = ox * sw - pw + j;
              if (yy < 0 || yy >= in.h || xx < 0 || xx >= in.w) continue;
              const int xq = q(x[std::size_t((c * in.h + yy) * in.w + xx)], l.input_scale, bits);
              acc += long(xq) * l.weight((c * kh + i) * kw + j, o);
            }
        y[std::size_t((o * out.h + oy) * out.w + ox)] =
            double(acc) * l.weight_scale[std::size_t(o)] * l.input_scale + l.bias[std::size_t(o)];
      }
  return y;
}

inline std::vector<double> reference_logits(const ModelBundle& m, const Image& image) {
  std::vector<Image> outs;
  std::vector<Shape> shapes;
  const Shape in_shape{m.input.shape[0], m.input.shape[1], m.input.shape[2]};
  for (const BundleLayer& l : m.layers) {
    const Image& x = l.inputs[0] < 0 ? image : outs[std::size_t(l.inputs[0])];
    const Shape s = l.inputs[0] < 0 ? in_shape : shapes[std::size_t(l.inputs[0])];
    Image y;
    Shape o = s;
    switch (l.type) {
      case LayerType::kConv2d:
        y = ref_conv(x, s, l, m.bits.input, o);
        break;
      case LayerType::kLinear: {
        o = {l.out_features, 1, 1};
        for (int n = 0; n < l.out_features; ++n) {
          long acc = 0;
          for (int k = 0; k < l.in_features; ++k)
            acc += long(q(x[std::size_t(k)], l.input_scale, m.bits.input)) * l.weight(k, n);
          y.push_back(double(acc) * l.weight_scale[std::size_t(n)] * l.input_scale + l.bias[std::size_t(n)]);
        }
        break;
      }
      case LayerType::kBatchNorm:
        for (std::size_t i = 0; i < x.size(); ++i) {
          const std::size_t c = i / std::size_t(s.h * s.w);
          y.push_back(x[i] * l.bn_scale[c] + l.bn_shift[c]);
        }
        break;
      case LayerType::kRelu:
        for (double v : x) y.push_back(v > 0 ? v : 0.0);
        break;
      case LayerType::kMaxPool:
      case LayerType::kAvgPool: {
        const int kh = l.kernel[0], kw = l.kernel[1], sh = l.stride[0], sw = l.stride[1];
        const int ph = l.type == LayerType::kMaxPool ? l.padding[0] : 0,
                  pw = l.type == LayerType::kMaxPool ? l.padding[1] : 0;
        o = {s.c, (s.h + 2 * ph - kh) / sh + 1, (s.w + 2 * pw - kw) / sw + 1};
        for (int c = 0; c < s.c; ++c)
          for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox) {
              double acc = l.type == LayerType::kMaxPool ? -INFINITY : 0.0;
              for (int i = 0; i < kh; ++i)
                for (int j = 0; j < kw; ++j) {
                  const int yy = oy * sh - ph + i, xx = ox * sw - pw + j;
                  if (yy < 0 || yy >= s.h || xx < 0 || xx >= s.w) continue;
                  const double v = x[std::size_t((c * s.h + yy) * s.w + xx)];
                  acc = l.type == LayerType::kMaxPool ? std::max(acc, v) : acc + v;
                }
              y.push_back(l.type == LayerType::kMaxPool ? acc : acc / double(kh * kw));
            }
        break;
      }
      case LayerType::kGlobalAvgPool:
        o = {s.c, 1, 1};
        for (int c = 0; c < s.c; ++c) {
          double acc = 0;
          for (int i = 0; i < s.h * s.w; ++i) acc += x[std::size_t(c * s.h * s.w + i)];
          y.push_back(acc / double(s.h * s.w));
        }
        break;
      case LayerType::kFlatten:
        y = x;
        o = {s.c * s.h * s.w, 1, 1};
        break;
      case LayerType::kAdd: {
        const Image& b = outs[std::size_t(l.inputs[1])];
        for (std::size_t i = 0; i < x.size(); ++i) y.push_back(x[i] + b[i]);
        break;
      }
    }
    outs.push_back(y);
    shapes.push_back(o);
  }
  return outs.back();
}

inline void fill(BundleLayer& l, std::mt19937& gen, double weight_scale, double input_scale) {
  std::uniform_int_distribution<int> w(-7, 7);
  std::uniform_real_distribution<double> bias(-0.3, 0.3);
  for (Eigen::Index k = 0; k < l.weight.rows(); ++k)
    for (Eigen::Index n = 0; n < l.weight.cols(); ++n) l.weight(k, n) = w(gen);
  for (auto& s : l.weight_scale) s = weight_scale;
  for (auto& b : l.bias) b = bias(gen);
  l.input_scale = input_scale;
}

// A small bundle that uses every layer type: conv with rows_per_cycle < k_h k_w, batch norm,
// residual add, pooling, a layer over 3 x 2 macros, global average pooling and a linear layer.
inline ModelBundle every_layer_bundle(std::mt19937& gen) {
  BundleBuilder builder("tiny", {2, 6, 6}, 3, BundleBits{4, 4});
  fill(builder.conv2d("conv1", 2, 4, {{3, 3}}, {{1, 1}}, {{1, 1}}), gen, 0.05,
       1.0 / 15);  // 9 > rows_per_cycle
  BundleLayer& bn = builder.batchnorm("bn1", 4);
  bn.bn_scale = {1.5, 0.5, -1.0, 2.0};
  bn.bn_shift = {0.1, -0.2, 0.3, 0.0};
  builder.simple("relu1", LayerType::kRelu);
  fill(builder.conv2d("conv2", 4, 4, {{1, 1}}), gen, 0.04, 0.1);
  builder.add("res", "relu1", "conv2");
  builder.maxpool("pool1", {{2, 2}}, {{2, 2}});
  fill(builder.conv2d("conv3", 4, 6, {{3, 3}}, {{2, 2}}, {{1, 1}}), gen, 0.03,
       0.08);  // 3 row tiles x 2 col tiles
  builder.avgpool("pool2", {{2, 2}}, {{1, 1}});
  builder.simple("gap", LayerType::kGlobalAvgPool);
  builder.simple("flat", LayerType::kFlatten);
  fill(builder.linear("fc", 6, 3), gen, 0.05, 0.05);
  const std::string dir =
      (std::filesystem::path(::testing::TempDir()) / ("net_" + std::to_string(::getpid()))).string();
  builder.write(dir);
  const ModelBundle bundle = load_model_bundle(dir);
  std::filesystem::remove_all(dir);
  return bundle;
}

inline data::Dataset random_images(std::mt19937& gen) {
  data::Dataset images;
  images.name = "random";
  images.count = 5;
  images.channels = 2;
  images.height = images.width = 6;
  images.num_classes = 3;
  std::uniform_int_distribution<int> px(0, 255);
  for (int i = 0; i < 5 * 72; ++i) images.images.push_back(uint8_t(px(gen)));
  images.labels = {0, 1, 2, 0, 1};
  return images;
}

}  // namespace cimsim::testing
