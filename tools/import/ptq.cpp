#include "import/ptq.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cimsim::onnx_import {
namespace {

constexpr std::size_t kSample = std::size_t(1) << 20;  // calibration values kept per layer
constexpr int kBatch = 32;                               // images per float evaluation

// Keeps an evenly strided sample of each CIM layer's input values, and their largest magnitude.
class InputSampler : public CimInputObserver {
 public:
  InputSampler(std::size_t layers, int64_t images)
      : images_(images), seen_(layers, 0), samples_(layers), max_(layers, 0.0) {}
  void observe(std::size_t layer, const Tensor& in) override {
    const int64_t total = int64_t(in.per_image()) * images_;
    const int64_t stride = std::max<int64_t>(1, (total + int64_t(kSample) - 1) / int64_t(kSample));
    std::vector<double>& s = samples_[layer];
    for (double v : in.data) {
      max_[layer] = std::max(max_[layer], std::fabs(v));
      if (seen_[layer]++ % stride == 0) s.push_back(v);
    }
  }
  std::vector<double>& sample(std::size_t layer) { return samples_[layer]; }
  double max(std::size_t layer) const { return max_[layer]; }

 private:
  int64_t images_;
  std::vector<int64_t> seen_;
  std::vector<std::vector<double>> samples_;
  std::vector<double> max_;
};

// Squared error of quantizing `values` with step s to integers in [lo, hi].
double quant_error(const std::vector<double>& values, double s, double lo, double hi) {
  double e = 0;
  for (double v : values) {
    const double q = std::min(std::max(std::nearbyint(v / s), lo), hi) * s - v;
    e += q * q;
  }
  return e;
}

// The input step of a layer from its calibration sample: range c / (2^bits - 1).
double input_step(std::vector<double>& sample, double max_abs, bool is_signed, const PtqOptions& o) {
  const double top = double((1 << o.input_bits) - 1);
  if (max_abs == 0 || sample.empty()) return 1.0;
  std::vector<double> magnitude(sample.size());
  for (std::size_t i = 0; i < sample.size(); ++i) magnitude[i] = std::fabs(sample[i]);
  double range = max_abs;
  if (o.input_method == "percentile") {
    const std::size_t rank = std::min(
        magnitude.size() - 1,
        std::size_t(std::max(0.0, std::ceil(o.percentile / 100.0 * double(magnitude.size())) - 1.0)));
    std::nth_element(magnitude.begin(), magnitude.begin() + std::ptrdiff_t(rank), magnitude.end());
    range = magnitude[rank] > 0 ? magnitude[rank] : max_abs;
  } else {
    // mse: the range among max * 0.97^i, i = 0..99, with the least squared error on the sample.
    double best = -1;
    for (int i = 0; i < 100; ++i) {
      const double c = max_abs * std::pow(0.97, i), s = c / top;
      const double e = quant_error(sample, s, is_signed ? -top : 0.0, top);
      if (best < 0 || e < best) {
        best = e;
        range = c;
      }
    }
  }
  return range / top;
}

// Per-output-channel weight steps of `w` ([out, rest] C order).
std::vector<double> weight_steps(const std::vector<double>& w, int out, const PtqOptions& o) {
  const double top = double((1 << (o.weight_bits - 1)) - 1);
  const std::size_t per = w.size() / std::size_t(out);
  std::vector<double> steps(std::size_t(out), 1.0);
  for (std::size_t c = 0; c < std::size_t(out); ++c) {
    const std::vector<double> row(w.begin() + std::ptrdiff_t(c * per), w.begin() + std::ptrdiff_t((c + 1) * per));
    double max_abs = 0;
    for (double v : row) max_abs = std::max(max_abs, std::fabs(v));
    if (max_abs == 0) continue;
    steps[c] = max_abs / top;
    if (o.weight_method == "mse") {
      double best = quant_error(row, steps[c], -top, top);
      for (int i = 1; i <= 70; ++i) {  // clip at max * (1 - i / 100), down to 0.30 max
        const double s = max_abs * (1.0 - 0.01 * i) / top;
        const double e = quant_error(row, s, -top, top);
        if (e < best) {
          best = e;
          steps[c] = s;
        }
      }
    }
  }
  return steps;
}

// Quantizes CIM layer i of `graph` into `l` (its bundle layer) and reports it.
PtqLayer quantize_layer(const FloatGraph& graph, std::size_t i, InputSampler& sampler, const PtqOptions& o,
                        BundleLayer& l) {
  const FloatLayer& f = graph.layers[i];
  const double w_top = double((1 << (o.weight_bits - 1)) - 1);
  const int src = l.inputs[0];
  PtqLayer report;
  report.name = l.name;
  const int n = l.outputs();
  std::vector<double> steps = f.weight_steps;
  if (steps.size() == 1) steps.assign(std::size_t(n), steps[0]);
  report.from_model = !steps.empty() || f.input_step > 0;
  if (steps.empty()) steps = weight_steps(f.weight, n, o);
  // Integers in the file layout, then the dense (block-diagonal) K x N matrix.
  const std::size_t per = f.weight.size() / std::size_t(n);
  std::vector<int> q(f.weight.size());
  double err = 0, norm = 0;
  for (std::size_t k = 0; k < f.weight.size(); ++k) {
    const double s = steps[k / per];
    const double unclamped = std::nearbyint(f.weight[k] / s);
    if (!f.weight_steps.empty() && std::fabs(unclamped) > w_top) {
      int bits = 2;
      while (double((1 << (bits - 1)) - 1) < std::fabs(unclamped) && bits < 16) ++bits;
      throw InputError("layer " + l.name + ": the model's own (DequantizeLinear) weights reach " +
                       std::to_string(int64_t(unclamped)) + ", beyond " + std::to_string(o.weight_bits) +
                       "-bit weights; import with --weight-bits " + std::to_string(bits) + " or more");
    }
    const double v = std::min(std::max(unclamped, -w_top), w_top);
    q[k] = int(v);
    err += (v * s - f.weight[k]) * (v * s - f.weight[k]);
    norm += f.weight[k] * f.weight[k];
  }
  report.weight_error = norm > 0 ? std::sqrt(err / norm) : 0.0;
  l.weight.setZero(Eigen::Index(l.weight_rows()), n);
  for (int o_ch = 0; o_ch < n; ++o_ch)
    for (std::size_t k = 0; k < per; ++k)
      l.weight(Eigen::Index(l.first_row(o_ch) + int64_t(k)), o_ch) = q[std::size_t(o_ch) * per + k];
  l.weight_scale = steps;
  l.bias = f.bias;
  l.input_signed = src < 0 ? !graph.input_nonnegative : !graph.layers[std::size_t(src)].nonnegative;
  const double max_abs = sampler.max(i);
  l.input_scale = f.input_step > 0 ? f.input_step : input_step(sampler.sample(i), max_abs, l.input_signed, o);
  const double range = l.input_scale * double((1 << o.input_bits) - 1);
  int64_t beyond = 0;
  for (double v : sampler.sample(i)) beyond += std::fabs(v) > range * (1 + 1e-12) ? 1 : 0;
  report.clipped = sampler.sample(i).empty() ? 0.0 : double(beyond) / double(sampler.sample(i).size());
  report.input_signed = l.input_signed;
  report.input_scale = l.input_scale;
  report.input_max = max_abs;
  return report;
}

}  // namespace

PtqResult quantize_graph(const FloatGraph& graph, const data::Dataset& calibration, const PtqOptions& o) {
  PtqResult r;
  r.images = calibration.count;
  const std::size_t layers = graph.layers.size();
  InputSampler sampler(layers, calibration.count);
  for (int64_t first = 0; first < calibration.count; first += kBatch) {
    const int count = int(std::min<int64_t>(kBatch, calibration.count - first));
    const Tensor in = normalised_images(calibration, first, count, o.mean, o.std);
    const std::vector<Tensor> outs = evaluate_float(graph, in, &sampler);
    const Tensor& logits = outs.back();
    for (int b = 0; b < count; ++b) {
      int best = 0;
      for (int k = 1; k < logits.channels; ++k)
        if (logits.data[std::size_t(b) * logits.per_image() + std::size_t(k)] >
            logits.data[std::size_t(b) * logits.per_image() + std::size_t(best)])
          best = k;
      if (first + b < int64_t(calibration.labels.size()) && calibration.labels[std::size_t(first + b)] == best)
        ++r.float_correct;
    }
  }

  ModelBundle& b = r.bundle;
  b.format = kBundleFormat;
  b.version = kBundleVersion;
  b.name = o.name;
  b.input.shape = graph.input_shape;
  b.input.mean = o.mean;
  b.input.std = o.std;
  b.classes = graph.classes;
  b.bits = BundleBits{o.weight_bits, o.input_bits};
  for (std::size_t i = 0; i < layers; ++i) {
    BundleLayer l = graph.layers[i].layer;
    if (l.is_cim()) r.layers.push_back(quantize_layer(graph, i, sampler, o, l));
    b.layers.push_back(std::move(l));
  }
  return r;
}

}  // namespace cimsim::onnx_import
