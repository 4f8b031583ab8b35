#include "bundle_io.h"

#include <algorithm>
#include <filesystem>

#include "bundle/bundle_writer.h"
#include "core/error.h"

namespace cimsim::train {
namespace {

namespace fs = std::filesystem;

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kDouble).contiguous().reshape({-1});
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// [out, K] integers (K in c_in, k_h, k_w order) into the bundle's K x N matrix.
Eigen::MatrixXi integer_matrix(const torch::Tensor& w_int) {
  const torch::Tensor rows = w_int.detach().to(torch::kLong).reshape({w_int.size(0), -1}).t().contiguous();
  Eigen::MatrixXi m(rows.size(0), rows.size(1));
  const int64_t* p = rows.data_ptr<int64_t>();
  for (Eigen::Index k = 0; k < m.rows(); ++k)
    for (Eigen::Index n = 0; n < m.cols(); ++n) m(k, n) = int(p[k * m.cols() + n]);
  return m;
}

// The K x N bundle matrix as float weights [out, K] * step, in `like`'s dtype and shape.
torch::Tensor float_weight(const Eigen::MatrixXi& m, const std::vector<double>& scale,
                           const torch::Tensor& like_grouped) {
  // A grouped conv's K rows cover every input channel: [out, in, k_h, k_w], the blocks taken by the caller.
  std::vector<int64_t> sizes = like_grouped.sizes().vec();
  if (sizes.size() == 4) sizes[1] = m.rows() / (sizes[2] * sizes[3]);
  const torch::Tensor like = torch::empty(sizes, like_grouped.options());
  torch::Tensor w = torch::empty({m.cols(), m.rows()}, torch::kDouble);
  double* p = w.data_ptr<double>();
  for (Eigen::Index n = 0; n < m.cols(); ++n)
    for (Eigen::Index k = 0; k < m.rows(); ++k) p[n * m.rows() + k] = double(m(k, n)) * scale[std::size_t(n)];
  return w.reshape(like.sizes()).to(like.dtype());
}

torch::Tensor from_vector(const std::vector<double>& v, const torch::Tensor& like) {
  return torch::tensor(v, torch::kDouble).to(like.dtype());
}

void fill_cim(BundleLayer& l, CimLayer& cim) {
  LsqQuantizerImpl &wq = *cim.weight_quantizer, &xq = *cim.input_quantizer;
  const torch::Tensor& bias = cim.float_bias();
  const torch::Tensor& adc_interval = cim.adc_interval;
  const CimHardware& hardware = cim.hardware;
  if (!wq.initialized() || !xq.initialized()) {
    throw InputError("layer " + l.name +
                     ": its quantizers were never initialised; export a network trained with --stage qat");
  }
  const auto* conv = dynamic_cast<const CimConv2dImpl*>(&cim);
  const int64_t groups = conv ? conv->groups : 1;
  l.weight = integer_matrix(block_diagonal(cim.integer_weight(), groups));
  l.weight_scale = to_vector(wq.step().clamp_min(kMinStep));
  l.input_scale = to_vector(xq.step().clamp_min(kMinStep))[0];
  l.bias = bias.defined() ? to_vector(bias) : std::vector<double>(l.weight_scale.size(), 0.0);
  // adc: full until stage cim has learned the layer's interval, then [lo, hi].
  l.has_adc = true;
  l.adc = AdcInterval{};
  if (hardware.mvm) {
    // The same double products the exact forward uses (cim_product).
    const double lo = adc_interval[0].item<double>() * hardware.unit;
    const double hi = adc_interval[1].item<double>() * hardware.unit;
    if (!(hi > lo)) throw InputError("layer " + l.name + ": its learned ADC interval collapsed (hi <= lo)");
    l.adc = AdcInterval{false, lo, hi};
  }
}

std::string describe(const BundleLayer& l) {
  std::string s = std::string(layer_type_name(l.type)) + " '" + l.name + "'";
  if (l.type == LayerType::kConv2d)
    s += " " + std::to_string(l.in_channels) + "->" + std::to_string(l.out_channels) + " kernel " +
         std::to_string(l.kernel[0]) + "x" + std::to_string(l.kernel[1]);
  if (l.type == LayerType::kLinear)
    s += " " + std::to_string(l.in_features) + "->" + std::to_string(l.out_features);
  if (l.type == LayerType::kBatchNorm) s += " " + std::to_string(l.channels);
  return s;
}

// Same name, type, inputs and geometry (the fields a layer type does not use are equal defaults).
bool same_layer(const BundleLayer& a, const BundleLayer& b) {
  return a.name == b.name && a.type == b.type && a.inputs == b.inputs && a.in_channels == b.in_channels &&
         a.out_channels == b.out_channels && a.in_features == b.in_features &&
         a.out_features == b.out_features && a.channels == b.channels && a.kernel == b.kernel &&
         a.stride == b.stride && a.padding == b.padding && a.groups == b.groups &&
         a.input_signed == b.input_signed && a.clip_min == b.clip_min && a.clip_max == b.clip_max;
}

}  // namespace

ModelBundle export_bundle(NetworkImpl& net) {
  if (!net.quantized()) throw InputError("export: the network is not quantized; export after --stage qat");
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();  // the quantizers must not (re)initialise from the weights here
  ModelBundle b = net.graph();
  for (std::size_t i = 0; i < b.layers.size(); ++i) {
    BundleLayer& l = b.layers[i];
    NetworkNode& n = net.nodes()[i];
    if (CimLayer* cim = n.cim()) fill_cim(l, *cim);
    if (n.batchnorm) {
      l.bn_scale = to_vector(n.batchnorm->fold_scale());
      l.bn_shift = to_vector(n.batchnorm->fold_shift());
    }
  }
  net.train(was_training);
  return b;
}

void load_bundle_into(NetworkImpl& net, const ModelBundle& bundle) {
  const ModelBundle& g = net.graph();
  const std::string where = bundle.manifest.empty() ? bundle.name : bundle.manifest;
  // At other bits (e.g. an 8-bit import trained at 4 bits) only the float weights carry over; the
  // quantizers start afresh (weights from their values, inputs on the first training batch).
  const bool same_bits = bundle.bits.weight == g.bits.weight && bundle.bits.input == g.bits.input;
  if (bundle.input.shape != g.input.shape || bundle.input.mean != g.input.mean ||
      bundle.input.std != g.input.std)
    throw InputError(where +
                     ": input shape, mean or std differ from the experiment's data; use the same data set");
  for (std::size_t i = 0; i < std::max(bundle.layers.size(), g.layers.size()); ++i) {
    if (i >= bundle.layers.size() || i >= g.layers.size() || !same_layer(bundle.layers[i], g.layers[i])) {
      throw InputError(where + ": layer " + std::to_string(i) + " is " +
                       (i < bundle.layers.size() ? describe(bundle.layers[i]) : "missing") +
                       " but the experiment's network has " +
                       (i < g.layers.size() ? describe(g.layers[i]) : "none") +
                       "; use the experiment the bundle was trained with");
    }
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < bundle.layers.size(); ++i) {
    const BundleLayer& l = bundle.layers[i];
    NetworkNode& n = net.nodes()[i];
    if (l.is_cim()) {
      CimLayer& cim = *n.cim();
      torch::Tensor weight = cim.float_weight(), bias = cim.float_bias();
      LsqQuantizerImpl &wq = *cim.weight_quantizer, &xq = *cim.input_quantizer;
      const torch::Tensor dense = float_weight(l.weight, l.weight_scale, weight);
      weight.copy_(diagonal_blocks(dense, l.groups));
      if (same_bits) {
        wq.set_step(from_vector(l.weight_scale, weight));
        xq.set_step(torch::full({1}, l.input_scale, torch::kDouble).to(weight.dtype()));
      }
      // A layer's own interval starts stage cim's learned one (set_hardware).
      std::optional<AdcInterval>& bundle_adc = cim.bundle_adc;
      bundle_adc.reset();
      if (l.has_adc) bundle_adc = l.adc;
      if (bias.defined()) {
        bias.copy_(from_vector(l.bias, bias));
      } else if (std::any_of(l.bias.begin(), l.bias.end(), [](double v) { return v != 0; })) {
        throw InputError(where + ": layer " + l.name +
                         " has a bias, which the network folds into the batch norm after it; "
                         "export the bundle from this trainer");
      }
    }
    if (n.batchnorm)
      n.batchnorm->set_folded(from_vector(l.bn_scale, n.batchnorm->weight),
                              from_vector(l.bn_shift, n.batchnorm->weight));
  }
  net.set_quantized(true);
}

}  // namespace cimsim::train
