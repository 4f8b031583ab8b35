// The Python module `cimsim._core` (docs/python.md): the simulator library's hardware configs,
// model bundles, calibration files, one-layer MVMs, network runs and calibration, with NumPy
// arrays in and out. Every error is a cimsim.InputError (a ValueError) with the message the
// command line prints; the GIL is released while a simulation runs.
#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <tuple>

#include "adc/calibration_file.h"
#include "adc/layer_interval.h"
#include "bundle/shape_only.h"
#include "cli_common.h"
#include "core/error.h"
#include "data/npy_images.h"
#include "io/output_files.h"
#include "model_calibration.h"
#include "model_run.h"
#include "mvm_run.h"
#include "py_arrays.h"
#include "py_json.h"
#include "py_logging.h"
#include "py_types.h"
#include "report_handler.h"
#include "simulation_session.h"

// libsystemc refers to the program's sc_main, found in the module when Python loads it (so exported
// despite the module's hidden visibility); the module never calls SystemC's own main.
extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) { return 0; }

namespace cimsim::python {
namespace {

struct RunResult {
  NetworkReport report;
  RunStats stats;
  bool labelled = false;
};

// --set strings of a dict {key: value}, a list of "key=value" strings, or None.
std::vector<std::string> override_strings(const py::object& overrides) {
  std::vector<std::string> out;
  if (overrides.is_none()) return out;
  if (py::isinstance<py::dict>(overrides)) {
    for (const auto& [key, value] : overrides.cast<py::dict>()) {
      std::string text;
      if (py::isinstance<py::bool_>(value))
        text = value.cast<bool>() ? "true" : "false";
      else if (py::isinstance<py::str>(value))
        text = value.cast<std::string>();
      else if (py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value))
        text = py::repr(value).cast<std::string>();
      else  // lists and dicts: JSON, which YAML reads as a flow sequence or mapping
        text = py::module_::import("json").attr("dumps")(value).cast<std::string>();
      out.push_back(py::str(key).cast<std::string>() + "=" + text);
    }
    return out;
  }
  if (py::isinstance<py::str>(overrides))
    throw InputError(
        "overrides: give a dict {'macro.adc_bits': 4} or a list ['macro.adc_bits=4'], not one string");
  for (const auto& item : overrides) {
    if (!py::isinstance<py::str>(item))
      throw InputError("overrides: every item of the list must be a 'dotted.key=value' string; got " +
                       py::repr(item).cast<std::string>());
    out.push_back(item.cast<std::string>());
  }
  return out;
}

Hardware load_hardware(const std::string& path, const py::object& overrides) {
  Hardware hw{path, override_strings(overrides), {}};
  hw.config = load_hw_config(path, hw.overrides);
  return hw;
}

void check_range(const char* name, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi)
    throw InputError(std::string(name) + " = " + std::to_string(value) + " is outside [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]; give a value in that range");
}

// images: a data set name as `cimsim run --data` takes it, or an N x C x H x W array (uint8 pixels,
// or float values) with optional labels.
data::Dataset dataset_of(const py::object& images, const py::object& labels, const std::string& split,
                         int64_t limit, std::string& spec) {
  if (py::isinstance<py::str>(images)) {
    if (!labels.is_none())
      throw InputError("labels: a named data set (" + images.cast<std::string>() +
                       ") brings its own labels; pass labels only with an image array");
    if (split != "train" && split != "test")
      throw InputError("split '" + split + "': give 'test' or 'train'");
    spec = images.cast<std::string>();
    return cli::load_data(spec, split, limit);
  }
  spec = "array";
  const npy::Array image_array = npy_array(py::array::ensure(images), "images");
  if (labels.is_none()) return data::dataset_of_arrays(image_array, "images", nullptr, "labels", limit);
  const npy::Array label_array = npy_array(py::array::ensure(labels), "labels");
  return data::dataset_of_arrays(image_array, "images", &label_array, "labels", limit);
}

// `cimsim run --model arch:NAME[:WIDTH]`'s network: the architecture for `input_shape` images and
// `classes` outputs, seeded random weights at the hardware's bits (models/bundle/shape_only.h).
std::shared_ptr<ModelBundle> architecture(const std::string& name, const Hardware& hw,
                                          const std::vector<int>& input_shape, int classes, double width,
                                          uint64_t seed) {
  if (input_shape.size() != 3 || *std::min_element(input_shape.begin(), input_shape.end()) < 1)
    throw InputError("input_shape: give [channels, height, width], each 1 or more");
  check_range("classes", classes, 2, 1 << 20);
  return std::make_shared<ModelBundle>(
      shape_only_architecture(name, width, input_shape, classes, bundle_bits(hw.config.macro), seed));
}

// A named data set's images (N x C x H x W: uint8 pixels, or float32 values) and labels (int64), as
// `cimsim run --data NAME` reads them.
py::tuple load_images(const std::string& name, const std::string& split, int64_t limit) {
  std::string spec;
  const data::Dataset d = dataset_of(py::str(name), py::none(), split, limit, spec);
  const std::vector<py::ssize_t> shape{d.count, d.channels, d.height, d.width};
  py::array images = d.is_float() ? py::array(py::array_t<float>(shape, d.values.data()))
                                  : py::array(py::array_t<uint8_t>(shape, d.images.data()));
  py::array_t<int64_t> labels(d.count);
  std::copy(d.labels.begin(), d.labels.end(), labels.mutable_data());
  return py::make_tuple(images, labels);
}

// The progress hook of a run: Ctrl-C (a pending KeyboardInterrupt) ends it, then the caller's
// callback, if any, gets (images done, images in all).
std::function<void(int64_t, int64_t)> progress_hook(const py::object* callback) {
  return [callback](int64_t done, int64_t count) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!callback->is_none()) (*callback)(done, count);
  };
}

RunResult run(const Hardware& hw, const ModelBundle& bundle, const py::object& images,
              const py::object& labels, const std::string& split, int64_t limit, uint64_t seed, int64_t batch,
              const std::optional<Calibration>& calib, bool histograms, const py::object& progress,
              const std::string& trace, const std::string& trace_window, const std::string& trace_adcs) {
  follow_python_log_level();
  check_range("batch", batch, 1, 1 << 16);
  HwConfig config = hw.config;
  if (calib) {
    config = load_hw_config(hw.path, interval_overrides(&calib->file, hw.overrides));
    check_calibration_applies(calib->file, calib->source(), config, bundle);
  }
  std::string spec;
  const data::Dataset data = dataset_of(images, labels, split, limit, spec);
  NetworkOptions options;
  options.seed = seed;
  options.batch = int(batch);
  options.histograms = histograms;
  options.progress = progress_hook(&progress);
  // A trace as `cimsim run --trace` writes it: staged, and in place only when the run succeeded.
  OutputFiles outputs;
  options.outputs = &outputs;
  options.trace_path = trace;
  std::tie(options.trace_from, options.trace_to) = cli::parse_trace_window(trace, trace_window);
  std::tie(options.trace_adcs, options.trace_all_adcs) = cli::parse_trace_adcs(trace, trace_adcs, config);
  RunResult result;
  result.labelled = !data.labels.empty();
  {
    py::gil_scoped_release release;
    SimulationSession session;
    cli::ModelRunResult run =
        cli::run_model(config, bundle, data, options, {hw.path, bundle.dir, spec, split}, false);
    result.report = std::move(run.report);
    result.stats = std::move(run.stats);
  }
  outputs.commit();
  return result;
}

Calibration calibrate(const Hardware& hw, const ModelBundle& bundle, const py::object& images,
                      const py::object& labels, const std::string& split, int64_t limit,
                      const std::string& method, double percentile, bool zero_level, uint64_t seed,
                      int64_t batch) {
  follow_python_log_level();
  check_range("batch", batch, 1, 1 << 16);
  if (!(percentile >= 50.0 && percentile <= 100.0))
    throw InputError("percentile = " + std::to_string(percentile) +
                     " is outside [50, 100]; give the percent of the partial sums to keep");
  std::vector<std::string> overrides = hw.overrides;
  overrides.push_back(cli::kCalibrationOverride);
  const HwConfig config = load_hw_config(hw.path, overrides);
  std::string spec;
  const data::Dataset data = dataset_of(images, labels, split, limit, spec);
  cli::CalibrationSetup setup;
  setup.method = method;
  setup.percentile = percentile;
  setup.zero_level = zero_level;
  setup.seed = seed;
  setup.batch = int(batch);
  setup.hw = hw.path;
  setup.model = bundle.dir;
  setup.data = spec == "array" ? "array" : spec + " " + split;
  Calibration out;
  {
    py::gil_scoped_release release;
    SimulationSession session;
    out.file = cli::calibrate_model(config, bundle, data, setup);
  }
  return out;
}

py::tuple mvm(const Hardware& hw, const py::array& weights, const py::array& inputs, uint64_t seed,
              int64_t batch, const std::string& layer) {
  follow_python_log_level();
  check_range("batch", batch, 1, 1 << 20);
  const Eigen::MatrixXi w = weight_matrix(weights, "W");
  IntMatrix storage;
  const Eigen::Map<const IntMatrix> x = input_matrix(inputs, "X", storage);
  validate_mvm_operands(hw.config, w, x, "W", "X");
  cli::warn_if_implausible_device(hw.config);
  cli::warn_if_network_only_keys(hw.config);
  MvmOptions options;
  options.seed = seed;
  options.batch = int(batch);
  options.layer_name = layer;
  Eigen::MatrixXd y;
  LayerReport report;
  {
    py::gil_scoped_release release;
    SimulationSession session;
    report = run_mvm(hw.config, w, x, y, options);
    cli::warn_if_misconfigured(report, hw.config);
  }
  return py::make_tuple(py::cast(std::move(y)), to_python(to_json_record(report.figures())));
}

py::dict calibration_layers(const CalibrationFile& file) {
  py::dict layers;
  for (const LayerCalibration& l : file.layers)
    layers[py::str(l.name)] = py::dict(py::arg("lo") = l.lo, py::arg("hi") = l.hi,
                                       py::arg("clip_low") = l.clip_low, py::arg("clip_high") = l.clip_high,
                                       py::arg("mse") = l.mse, py::arg("full_range_mse") = l.full_range_mse);
  return layers;
}

void save_calibration(const Calibration& c, const std::string& path) {
  OutputFiles outputs;
  cli::write_calibration(outputs.stage(path), path, c.file);
  outputs.commit();
}

py::list bundle_layers(const ModelBundle& b) {
  py::list layers;
  for (const BundleLayer& l : b.layers) {
    py::dict d;
    d["name"] = l.name;
    d["type"] = layer_type_name(l.type);
    d["cim"] = l.is_cim();
    d["inputs"] = l.inputs;
    if (l.is_cim()) d["weight_shape"] = py::make_tuple(l.weight.rows(), l.weight.cols());
    layers.append(d);
  }
  return layers;
}

}  // namespace
}  // namespace cimsim::python

PYBIND11_MODULE(_core, m) {
  using namespace cimsim;
  using namespace cimsim::python;
  m.doc() = "cimsim's simulator library (use the package: import cimsim)";
  install_report_handler(false);
  route_logs_to_python();
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(input_error.ptr(), e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(input_error.ptr(), filesystem_error_message(e).c_str());
    }
  });

  py::class_<Hardware>(m, "HwConfig")
      .def_static("load", &load_hardware, py::arg("path"), py::arg("overrides") = py::none())
      .def_readonly("path", &Hardware::path)
      .def_readonly("overrides", &Hardware::overrides)
      .def_property_readonly("name", [](const Hardware& h) { return h.config.name; })
      .def(
          "with_overrides",
          [](const Hardware& h, const py::object& more) {
            std::vector<std::string> all = h.overrides;
            for (std::string& s : override_strings(more)) all.push_back(std::move(s));
            Hardware out{h.path, all, load_hw_config(h.path, all)};
            return out;
          },
          py::arg("overrides"))
      .def("to_dict", [](const Hardware& h) { return to_python(h.config.to_json()); })
      .def("__repr__", [](const Hardware& h) {
        return "<cimsim.HwConfig '" + h.config.name + "' from " + h.path +
               (h.overrides.empty() ? std::string()
                                    : " with " + std::to_string(h.overrides.size()) + " overrides") +
               ">";
      });

  py::class_<ModelBundle, std::shared_ptr<ModelBundle>>(m, "Bundle")
      .def_static(
          "load",
          [](const std::string& dir) { return std::make_shared<ModelBundle>(load_model_bundle(dir)); },
          py::arg("dir"))
      .def_static("architecture", &architecture, py::arg("name"), py::arg("hw"), py::arg("input_shape"),
                  py::arg("classes"), py::arg("width"), py::arg("seed"))
      .def(
          "shape_only",
          [](const ModelBundle& b, const Hardware& hw, uint64_t seed) {
            auto out = std::make_shared<ModelBundle>(b);
            randomize_weights(*out, bundle_bits(hw.config.macro), seed);
            return out;
          },
          py::arg("hw"), py::arg("seed"))
      .def_readonly("dir", &ModelBundle::dir)
      .def_readonly("name", &ModelBundle::name)
      .def_readonly("classes", &ModelBundle::classes)
      .def_property_readonly("input_shape",
                             [](const ModelBundle& b) { return py::tuple(py::cast(b.input.shape)); })
      .def_property_readonly("layers", &bundle_layers)
      .def("__repr__", [](const ModelBundle& b) {
        return "<cimsim.Bundle '" + b.name + "' (" + std::to_string(b.layers.size()) + " layers) from " +
               b.dir + ">";
      });

  py::class_<Calibration>(m, "Calibration")
      .def_static(
          "load",
          [](const std::string& path) {
            return Calibration{path, load_calibration(path)};
          },
          py::arg("path"))
      .def_property_readonly("layers", [](const Calibration& c) { return calibration_layers(c.file); })
      .def_property_readonly(
          "method", [](const Calibration& c) { return std::string(calibration_method_name(c.file.method)); })
      .def_property_readonly("adc_bits", [](const Calibration& c) { return c.file.adc_bits; })
      .def_property_readonly("images", [](const Calibration& c) { return c.file.images; })
      .def_property_readonly("zero_level", [](const Calibration& c) { return c.file.zero_level; })
      .def("to_yaml", [](const Calibration& c) { return calibration_yaml(c.file); })
      .def("save", &save_calibration, py::arg("path"));

  py::class_<RunResult>(m, "RunResult")
      .def_property_readonly(
          "logits", [](const RunResult& r) -> const Eigen::MatrixXd& { return r.report.logits; },
          py::return_value_policy::reference_internal)
      .def_property_readonly("predictions",
                             [](const RunResult& r) { return py::array(py::cast(r.report.predictions)); })
      .def_property_readonly("images", [](const RunResult& r) { return r.report.images; })
      .def_property_readonly("correct",
                             [](const RunResult& r) -> py::object {
                               return r.labelled ? py::object(py::int_(r.report.correct)) : py::none();
                             })
      .def_property_readonly("accuracy",
                             [](const RunResult& r) -> py::object {
                               return r.labelled ? py::object(py::float_(r.report.accuracy())) : py::none();
                             })
      .def_property_readonly("cycles_per_image", [](const RunResult& r) { return r.report.cycles_per_image; })
      .def_property_readonly("latency_cycles", [](const RunResult& r) { return r.report.latency_cycles; })
      .def_property_readonly("energy_per_image_pj",
                             [](const RunResult& r) { return r.stats.energy_per_image_pj; })
      .def_property_readonly("images_per_second",
                             [](const RunResult& r) { return r.stats.images_per_second; })
      .def_property_readonly("stats", [](const RunResult& r) { return to_python(to_json_record(r.stats)); })
      .def_property_readonly("layers", [](const RunResult& r) -> py::object {
        return to_python(to_json_record(r.stats).at("layers"));
      });

  m.def("mvm", &mvm, py::arg("hw"), py::arg("W"), py::arg("X"), py::arg("seed") = 1, py::arg("batch") = 4096,
        py::arg("layer") = "mvm");
  m.def("run", &run, py::arg("hw"), py::arg("bundle"), py::arg("images"), py::arg("labels"), py::arg("split"),
        py::arg("limit"), py::arg("seed"), py::arg("batch"), py::arg("calib"), py::arg("histograms"),
        py::arg("progress"), py::arg("trace"), py::arg("trace_window"), py::arg("trace_adcs"));
  m.def("load_images", &load_images, py::arg("name"), py::arg("split"), py::arg("limit"));
  m.def("calibrate", &calibrate, py::arg("hw"), py::arg("bundle"), py::arg("images"), py::arg("labels"),
        py::arg("split"), py::arg("limit"), py::arg("method"), py::arg("percentile"), py::arg("zero_level"),
        py::arg("seed"), py::arg("batch"));
  m.attr("version") = cli::kCimsimVersion;
}
