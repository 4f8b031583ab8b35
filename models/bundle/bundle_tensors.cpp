// Tensor loading of a model bundle: reads each .npy a layer names, checks dtype, shape against the
// manifest's sizes, finiteness, the weight range of bits.weight and positive scales, and stores the
// values in the simulator's layouts (weights as the K x N matrix, rows ordered c_in, k_h, k_w).

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "bundle/bundle_detail.h"
#include "core/error.h"
#include "io/npy.h"

namespace cimsim::bundle_detail {
namespace {

namespace fs = std::filesystem;

enum class Kind { kInteger, kFloat };

// Reads the tensors of one layer; every message names the file, then the manifest key using it.
class TensorReader {
 public:
  TensorReader(const ModelBundle& b, const YamlSection& s) : bundle_(b), section_(s) {}

  // The values of `file` (from manifest key `key`), checked for dtype, shape and finiteness.
  // `axes` names the expected dimensions for messages, e.g. "[out_channels, in_channels, k_h, k_w]".
  std::vector<double> read(const std::string& key, const std::string& file, Kind kind,
                           const std::vector<int64_t>& shape, const std::string& axes) {
    key_ = key;
    shape_ = shape;
    path_ = (fs::path(bundle_.dir) / file).string();
    std::error_code ec;
    if (!fs::exists(path_, ec))
      fail("the tensor file does not exist", "export it, or fix the file name in the manifest");
    npy::Array a;
    try {
      a = npy::read(path_);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + reference());
    }
    const bool marked = !a.descr.empty() &&
                        (a.descr[0] == '<' || a.descr[0] == '>' || a.descr[0] == '|' || a.descr[0] == '=');
    const char code = a.descr.size() > (marked ? 1u : 0u) ? a.descr[marked ? 1 : 0] : '?';
    if (kind == Kind::kInteger && code != 'i') {
      fail(
          "has dtype " + a.descr + " but " + key + " must hold signed integers (int8, int16, int32 or int64)",
          "save the quantized weights with arr.astype(np.int8)");
    }
    if (kind == Kind::kFloat && code != 'f') {
      fail("has dtype " + a.descr + " but " + key + " must be float32 or float64",
           "save with arr.astype(np.float32)");
    }
    if (a.shape != shape) {
      fail("expected shape " + shape_text(shape) + " " + axes + " from the manifest, found " +
               shape_text(a.shape),
           "export the tensor again or fix the layer's sizes in the manifest");
    }
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      if (!std::isfinite(a.values[i])) {
        fail("element " + index_text(i) + " is " + (std::isnan(a.values[i]) ? "NaN" : "infinite"),
             "export finite values (check the training run)");
      }
    }
    return std::move(a.values);
  }

  // Fails unless every value is positive (scales are quantization steps).
  void positive(const std::vector<double>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!(v[i] > 0)) {
        std::ostringstream text;
        text << "element " << index_text(i) << " = " << v[i] << " is not positive";
        fail(text.str(), "a scale is a quantization step: export positive values");
      }
    }
  }

  void weight_range(const std::vector<double>& v, int bits) {
    const double bound = std::ldexp(1.0, bits - 1) - 1;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (std::fabs(v[i]) > bound) {
        std::ostringstream text;
        text << "element " << index_text(i) << " = " << v[i] << " lies outside [" << -bound << ", " << bound
             << "], the range of bits.weight = " << bits;
        fail(text.str(), "quantize the weights to bits.weight, or raise bits.weight");
      }
    }
  }

  [[noreturn]] void fail(const std::string& problem, const std::string& fix) const {
    throw InputError(path_ + ": " + problem + "; " + fix + reference());
  }

 private:
  std::string reference() const {
    return " (" + section_.key_path(key_) + " at " + section_.where(key_) + ")";
  }
  // The C-order multi-index of flat element i of the last shape read, e.g. "[3, 0, 4, 1]".
  std::string index_text(std::size_t i) const {
    std::vector<int64_t> index(shape_.size());
    auto rest = static_cast<int64_t>(i);
    for (std::size_t d = shape_.size(); d-- > 0;) {
      index[d] = rest % shape_[d];
      rest /= shape_[d];
    }
    return shape_text(index);
  }

  const ModelBundle& bundle_;
  const YamlSection& section_;
  std::string key_;
  std::string path_;
  std::vector<int64_t> shape_;
};

// Per-output float vector from a file, or `number` repeated when no file is given.
std::vector<double> per_output(TensorReader& r, const std::string& key, const std::string& file,
                               double number, int n, const std::string& axes) {
  if (file.empty()) return std::vector<double>(std::size_t(n), number);
  return r.read(key, file, Kind::kFloat, {n}, axes);
}

void load_cim(BundleLayer& l, const LayerFiles& f, const ModelBundle& b, TensorReader& r) {
  const bool conv = l.type == LayerType::kConv2d;
  const int n = l.outputs();
  const int64_t file_k = l.rows_per_output();  // rows of output o in the file
  const std::vector<int64_t> shape = conv ? std::vector<int64_t>{n, l.in_channels / l.groups, l.kernel[0], l.kernel[1]}
                                          : std::vector<int64_t>{n, l.in_features};
  const std::vector<double> w =
      r.read("weight", f.weight, Kind::kInteger, shape,
             conv ? (l.groups > 1 ? "[out_channels, in_channels / groups, k_h, k_w]"
                                  : "[out_channels, in_channels, k_h, k_w]")
                  : "[out_features, in_features]");
  r.weight_range(w, b.bits.weight);
  // File element [o, c, i, j] sits at o * file_k + (c * k_h + i) * k_w + j: row (c, i, j) of column o,
  // c counted from the first input channel of o's group; the other rows of the column are 0.
  l.weight.setZero(static_cast<Eigen::Index>(l.weight_rows()), n);
  for (int o = 0; o < n; ++o)
    for (int64_t row = 0; row < file_k; ++row)
      l.weight(static_cast<Eigen::Index>(l.first_row(o) + row), o) = static_cast<int>(w[std::size_t(o * file_k + row)]);

  const std::string out_axis = conv ? "[out_channels]" : "[out_features]";
  l.weight_scale = per_output(r, "weight_scale", f.weight_scale, f.weight_scale_value, n, out_axis);
  if (!f.weight_scale.empty()) r.positive(l.weight_scale);
  l.bias = per_output(r, "bias", f.bias, 0.0, n, out_axis);
}

}  // namespace

void load_layer_tensors(BundleLayer& l, const LayerFiles& f, const ModelBundle& b, const YamlSection& s) {
  TensorReader r(b, s);
  if (l.is_cim()) load_cim(l, f, b, r);
  if (l.type == LayerType::kBatchNorm) {
    l.bn_scale = r.read("scale", f.bn_scale, Kind::kFloat, {l.channels}, "[channels]");
    l.bn_shift = r.read("shift", f.bn_shift, Kind::kFloat, {l.channels}, "[channels]");
  }
}

}  // namespace cimsim::bundle_detail
