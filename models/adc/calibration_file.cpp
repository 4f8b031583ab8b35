#include "adc/calibration_file.h"

#include <spdlog/fmt/fmt.h>
#include <yaml-cpp/yaml.h>

#include <memory>

#include "bundle/model_bundle.h"
#include "config/yaml_section.h"
#include "core/error.h"
#include "io/text_file.h"

namespace cimsim {
namespace {

// A YAML scalar as the emitter writes it: quoted and escaped when the text needs it (a '"' in a
// path, a layer named "*fc3"), so the file reads back as written.
std::string yaml_scalar(const std::string& text, bool always_quoted = false) {
  YAML::Emitter e;
  if (always_quoted) e << YAML::DoubleQuoted;
  e << text;
  return e.c_str();
}

}  // namespace

std::string calibration_yaml(const CalibrationFile& file) {
  std::string out =
      "# ADC intervals chosen by cimsim calibrate (docs/calibration.md); apply with cimsim run --calib\n";
  out += fmt::format("method: {}\n", calibration_method_name(file.method));
  if (file.method == CalibrationMethod::kPercentile)
    out += fmt::format("percentile: {:.17g}\n", file.percentile);
  if (file.zero_level) out += "zero_level: true\n";
  out += fmt::format("adc_bits: {}\nimages: {}\n", file.adc_bits, file.images);
  out += fmt::format("hw: {}\nmodel: {}\ndata: {}\nlayers:\n", yaml_scalar(file.hw, true),
                     yaml_scalar(file.model, true), yaml_scalar(file.data, true));
  for (const LayerCalibration& l : file.layers) {
    out += fmt::format(
        "  {}: {{lo: {:.17g}, hi: {:.17g}, clip_low: {:.17g}, clip_high: {:.17g}, mse: {:.17g}, "
        "full_range_mse: {:.17g}}}\n",
        yaml_scalar(l.name), l.lo, l.hi, l.clip_low, l.clip_high, l.mse, l.full_range_mse);
  }
  return out;
}

CalibrationFile load_calibration(const std::string& path) {
  const std::string text = read_text_file(
      path, "cannot read the calibration file; check the path (cimsim calibrate --out writes it)");
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  YamlSection root(load_yaml_text(text, path), "", source);
  root.declare({"method", "percentile", "zero_level", "adc_bits", "images", "hw", "model", "data", "layers"});
  CalibrationFile f;
  f.method = parse_calibration_method(root.choice("method", calibration_method_names()));
  f.percentile = f.method == CalibrationMethod::kPercentile ? root.real("percentile", 1e-9, 100.0) : 0.0;
  f.zero_level = root.boolean_or("zero_level", false);
  f.adc_bits = root.integer("adc_bits", 1, 16);
  f.images = root.integer("images", 1, 1 << 30);
  f.hw = root.text("hw");
  f.model = root.text("model");
  f.data = root.text("data");
  YamlSection layers = root.child("layers");
  for (const auto& kv : layers.node()) {
    const std::string name = kv.first.Scalar();
    YamlSection l = layers.child(name);
    l.declare({"lo", "hi", "clip_low", "clip_high", "mse", "full_range_mse"});
    LayerCalibration c;
    c.name = name;
    c.lo = l.real("lo", -1e12, 1e12);
    c.hi = l.real("hi", -1e12, 1e12);
    if (c.hi <= c.lo)
      l.fail("hi", fmt::format("{} is not above lo = {}", c.hi, c.lo), "recalibrate, or set hi > lo");
    c.clip_low = l.real("clip_low", 0.0, 1.0);
    c.clip_high = l.real("clip_high", 0.0, 1.0);
    c.mse = l.real("mse", 0.0, 1e30);
    c.full_range_mse = l.real("full_range_mse", 0.0, 1e30);
    l.finish();
    f.layers.push_back(c);
  }
  if (f.layers.empty())
    root.fail("layers", "lists no layer", "recalibrate: cimsim calibrate writes every CIM layer");
  layers.finish();
  root.finish();
  return f;
}

std::vector<std::string> calibration_overrides(const CalibrationFile& file) {
  std::vector<std::string> out;
  for (const LayerCalibration& l : file.layers)
    out.push_back(fmt::format("adc.layers.{}={{lo: {:.17g}, hi: {:.17g}}}", l.name, l.lo, l.hi));
  return out;
}

void check_calibration_applies(const CalibrationFile& calib, const std::string& path, const HwConfig& hw,
                               const ModelBundle& bundle) {
  if (calib.adc_bits != hw.macro.adc_bits) {
    throw InputError(path + ": the intervals were chosen for adc_bits " + std::to_string(calib.adc_bits) +
                     ", the hardware has " + std::to_string(hw.macro.adc_bits) +
                     "; recalibrate with cimsim calibrate on this hardware");
  }
  for (const LayerCalibration& l : calib.layers) {
    if (!bundle.is_cim_layer(l.name)) {
      throw InputError(path + ": layer '" + l.name + "' is not a CIM layer of model '" + bundle.name +
                       "'; calibrate this model, or remove the layer from the file");
    }
  }
}

std::map<std::string, AdcInterval> calibration_intervals(const CalibrationFile& file) {
  std::map<std::string, AdcInterval> out;
  for (const LayerCalibration& l : file.layers) out[l.name] = AdcInterval{false, l.lo, l.hi};
  return out;
}

}  // namespace cimsim
