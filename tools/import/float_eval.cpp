// evaluate_float: the imported network in double before quantization (float_graph.h).
#include <Eigen/Core>

#include "import/float_graph.h"

namespace cimsim::onnx_import {
namespace {

ConvGeometry geometry_of(const BundleLayer& l) {
  return ConvGeometry{l.kernel[0], l.kernel[1], l.stride[0], l.stride[1], l.padding[0], l.padding[1]};
}

// The float weights as the dense K x N matrix the macros would hold (block diagonal when grouped).
Eigen::MatrixXd dense_weights(const FloatLayer& f) {
  const BundleLayer& l = f.layer;
  if (l.type == LayerType::kLinear) {
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
               f.weight.data(), l.out_features, l.in_features)
        .transpose();
  }
  const int64_t file_k = l.rows_per_output();
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(Eigen::Index(l.weight_rows()), l.outputs());
  for (int o = 0; o < l.outputs(); ++o)
    for (int64_t k = 0; k < file_k; ++k) w(Eigen::Index(l.first_row(o) + k), o) = f.weight[std::size_t(o * file_k + k)];
  return w;
}

Tensor cim_float(const FloatLayer& f, const Tensor& in) {
  const BundleLayer& l = f.layer;
  const Eigen::MatrixXd w = dense_weights(f);
  const int n = int(w.cols());
  if (l.type == LayerType::kLinear) {
    Eigen::MatrixXd x(in.batch, Eigen::Index(in.per_image()));
    for (int b = 0; b < in.batch; ++b)
      for (std::size_t k = 0; k < in.per_image(); ++k) x(b, Eigen::Index(k)) = in.data[b * in.per_image() + k];
    const Eigen::MatrixXd y = x * w;
    Tensor t(in.batch, n, 1, 1);
    for (int b = 0; b < in.batch; ++b)
      for (int o = 0; o < n; ++o) t.at(b, o, 0, 0) = y(b, o) + f.bias[std::size_t(o)];
    return t;
  }
  const ConvGeometry g = geometry_of(l);
  const int oh = g.out_h(in.height), ow = g.out_w(in.width);
  const int k = int(w.rows());
  Eigen::MatrixXd cols(Eigen::Index(in.batch) * oh * ow, k);
  for (int b = 0; b < in.batch; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        const Eigen::Index r = (Eigen::Index(b) * oh + oy) * ow + ox;
        int col = 0;
        for (int c = 0; c < in.channels; ++c)
          for (int i = 0; i < g.kernel_h; ++i)
            for (int j = 0; j < g.kernel_w; ++j, ++col) {
              const int y = oy * g.stride_h - g.pad_h + i, x = ox * g.stride_w - g.pad_w + j;
              cols(r, col) = y >= 0 && y < in.height && x >= 0 && x < in.width ? in.at(b, c, y, x) : 0.0;
            }
      }
  const Eigen::MatrixXd y = cols * w;
  Tensor t(in.batch, n, oh, ow);
  for (int b = 0; b < in.batch; ++b)
    for (int o = 0; o < n; ++o)
      for (int p = 0; p < oh * ow; ++p)
        t.at(b, o, p / ow, p % ow) = y(Eigen::Index(b) * oh * ow + p, o) + f.bias[std::size_t(o)];
  return t;
}

}  // namespace

std::vector<Tensor> evaluate_float(const FloatGraph& graph, const Tensor& input, CimInputObserver* observe) {
  std::vector<Tensor> out;
  out.reserve(graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const FloatLayer& f = graph.layers[i];
    const BundleLayer& l = f.layer;
    std::vector<const Tensor*> in;
    for (int src : l.inputs) in.push_back(src < 0 ? &input : &out[std::size_t(src)]);
    switch (l.type) {
      case LayerType::kConv2d:
      case LayerType::kLinear:
        if (observe) observe->observe(i, *in[0]);
        out.push_back(cim_float(f, *in[0]));
        break;
      case LayerType::kBatchNorm:
        out.push_back(batchnorm(*in[0], l.bn_scale, l.bn_shift));
        break;
      case LayerType::kRelu:
        out.push_back(relu(*in[0]));
        break;
      case LayerType::kClip:
        out.push_back(clip(*in[0], l.clip_min, l.clip_max));
        break;
      case LayerType::kMaxPool:
        out.push_back(maxpool(*in[0], geometry_of(l)));
        break;
      case LayerType::kAvgPool:
        out.push_back(avgpool(*in[0], geometry_of(l)));
        break;
      case LayerType::kGlobalAvgPool:
        out.push_back(flatten(global_avgpool(*in[0])));
        break;
      case LayerType::kFlatten:
        out.push_back(flatten(*in[0]));
        break;
      case LayerType::kAdd:
        out.push_back(add(*in[0], *in[1]));
        break;
      case LayerType::kConcat:
        out.push_back(concat(in));
        break;
    }
  }
  return out;
}

}  // namespace cimsim::onnx_import
