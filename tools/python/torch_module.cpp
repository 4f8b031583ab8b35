// The Python module `cimsim._torch` (docs/python.md, "cimsim.torch"): the trainer's own CIM layers
// (training/cim_layers.h) as torch.nn.Modules for python3-torch, and the trainer's network
// (training/network.h) over those same modules, so that a PyTorch script computes, quantizes, puts
// on the macros and exports exactly as `cimsim train` does. Built only with LibTorch; links the
// trainer library, never the simulator.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/python.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bundle/bundle_writer.h"
#include "bundle_io.h"
#include "cim_layers.h"
#include "core/error.h"
#include "network.h"
#include "py_logging.h"
#include "py_types.h"
#include "stage_runner.h"

namespace cimsim::python {
namespace {

namespace py = pybind11;
using train::CimConv2dImpl;
using train::CimLinearImpl;
using train::FoldableBatchNormImpl;
using train::NetworkImpl;
using train::NetworkNode;

void check_positive(const char* what, int64_t value) {
  if (value < 1) throw InputError(std::string(what) + " = " + std::to_string(value) + ": give 1 or more");
}

train::QuantBits quant_bits(int weight_bits, int input_bits, bool input_signed) {
  if (weight_bits < 2 || weight_bits > 16)
    throw InputError("weight_bits = " + std::to_string(weight_bits) +
                     " is outside [2, 16]; give a value in it");
  if (input_bits < 1 || input_bits > 16)
    throw InputError("input_bits = " + std::to_string(input_bits) +
                     " is outside [1, 16]; give a value in it");
  return {weight_bits, input_bits, input_signed};
}

std::shared_ptr<CimConv2dImpl> make_conv(int in_channels, int out_channels, std::array<int, 2> kernel,
                                         std::array<int, 2> stride, std::array<int, 2> padding, bool bias,
                                         int groups, int weight_bits, int input_bits, bool input_signed) {
  check_positive("in_channels", in_channels);
  check_positive("out_channels", out_channels);
  check_positive("groups", groups);
  for (int i = 0; i < 2; ++i) {
    check_positive("kernel_size", kernel[std::size_t(i)]);
    check_positive("stride", stride[std::size_t(i)]);
    if (padding[std::size_t(i)] < 0)
      throw InputError("padding = " + std::to_string(padding[std::size_t(i)]) + ": give 0 or more");
  }
  if (in_channels % groups != 0 || out_channels % groups != 0)
    throw InputError("groups = " + std::to_string(groups) + " must divide both in_channels " +
                     std::to_string(in_channels) + " and out_channels " + std::to_string(out_channels) +
                     "; give a common divisor");
  return std::make_shared<CimConv2dImpl>(in_channels, out_channels, kernel, stride, padding, bias,
                                         quant_bits(weight_bits, input_bits, input_signed), groups);
}

std::shared_ptr<CimLinearImpl> make_linear(int in_features, int out_features, bool bias, int weight_bits,
                                           int input_bits, bool input_signed) {
  check_positive("in_features", in_features);
  check_positive("out_features", out_features);
  return std::make_shared<CimLinearImpl>(in_features, out_features, bias,
                                         quant_bits(weight_bits, input_bits, input_signed));
}

// What a CIM layer reports about itself to Python (the export's graph reads its geometry here).
py::dict cim_state(train::CimLayer& cim, py::dict d) {
  d["weight_bits"] = int(std::log2(double(cim.weight_quantizer->qmax() + 1))) + 1;
  d["input_bits"] = int(std::log2(double(cim.input_quantizer->qmax() + 1)));
  d["input_signed"] = cim.input_signed;
  d["bias"] = cim.float_bias().defined();
  d["quantized"] = cim.quantized;
  d["initialized"] = cim.weight_quantizer->initialized() && cim.input_quantizer->initialized();
  d["on_hardware"] = bool(cim.hardware.mvm);
  d["exact"] = cim.hardware.exact;
  if (cim.hardware.mvm) {
    const torch::Tensor interval = cim.adc_interval.detach().to(torch::kDouble) * cim.hardware.unit;
    d["adc_interval"] = py::make_tuple(interval[0].item<double>(), interval[1].item<double>());
  } else {
    d["adc_interval"] = py::none();
  }
  return d;
}

py::dict conv_geometry(CimConv2dImpl& c) {
  const auto w = c.conv->weight.sizes();
  py::dict d;
  d["type"] = "conv2d";
  d["in_channels"] = w[1] * c.groups;
  d["out_channels"] = w[0];
  d["kernel"] = std::vector<int64_t>{w[2], w[3]};
  d["stride"] = std::vector<int64_t>{(*c.stride)[0], (*c.stride)[1]};
  d["padding"] = std::vector<int64_t>{(*c.padding)[0], (*c.padding)[1]};
  d["groups"] = c.groups;
  return cim_state(c, d);
}

py::dict linear_geometry(CimLinearImpl& l) {
  const auto w = l.linear->weight.sizes();
  py::dict d;
  d["type"] = "linear";
  d["in_features"] = w[1];
  d["out_features"] = w[0];
  return cim_state(l, d);
}

// The layer-graph entry cimsim/torch.py traced: {"name", "type", "inputs", geometry keys}.
BundleLayer layer_of(const py::dict& spec) {
  BundleLayer l;
  l.name = spec["name"].cast<std::string>();
  const std::string type = spec["type"].cast<std::string>();
  const std::optional<LayerType> known = layer_type_of(type);
  if (!known) throw InputError("layer " + l.name + ": unknown type " + type);
  l.type = *known;
  l.inputs = spec["inputs"].cast<std::vector<int>>();
  auto pair = [&](const char* key, std::array<int, 2>& out) {
    if (spec.contains(key)) {
      const auto v = spec[key].cast<std::vector<int>>();
      out = {v.at(0), v.at(1)};
    }
  };
  auto number = [&](const char* key, auto& out) {
    if (spec.contains(key)) out = spec[key].cast<std::remove_reference_t<decltype(out)>>();
  };
  pair("kernel", l.kernel);
  pair("stride", l.stride);
  pair("padding", l.padding);
  number("in_channels", l.in_channels);
  number("out_channels", l.out_channels);
  number("groups", l.groups);
  number("in_features", l.in_features);
  number("out_features", l.out_features);
  number("channels", l.channels);
  number("clip_min", l.clip_min);
  number("clip_max", l.clip_max);
  number("input_signed", l.input_signed);
  return l;
}

// The node of a layer: the cimsim.torch module's C++ object (ModuleWrapper.cpp_module) or None.
NetworkNode node_of(const py::handle& module) {
  NetworkNode node;
  if (module.is_none()) return node;
  if (py::isinstance<CimConv2dImpl>(module))
    node.conv = train::CimConv2d(module.cast<std::shared_ptr<CimConv2dImpl>>());
  else if (py::isinstance<CimLinearImpl>(module))
    node.linear = train::CimLinear(module.cast<std::shared_ptr<CimLinearImpl>>());
  else if (py::isinstance<FoldableBatchNormImpl>(module))
    node.batchnorm = train::FoldableBatchNorm(module.cast<std::shared_ptr<FoldableBatchNormImpl>>());
  else
    throw InputError("network: a layer's module is " + py::repr(module).cast<std::string>() +
                     ", not a cimsim.torch layer");
  return node;
}

// The trainer's network over a graph and its modules (shared with the Python model).
struct Network {
  std::shared_ptr<NetworkImpl> net;
};

Network make_network(const std::string& name, const std::vector<int>& input_shape,
                     const std::vector<double>& mean, const std::vector<double>& std, int classes,
                     int weight_bits, int input_bits, const py::list& layers, const py::list& modules) {
  ModelBundle graph;
  graph.format = kBundleFormat;
  graph.version = kBundleVersion;
  graph.name = name;
  graph.input = BundleInput{input_shape, mean, std};
  graph.classes = classes;
  graph.bits = BundleBits{weight_bits, input_bits};
  for (const py::handle& spec : layers) graph.layers.push_back(layer_of(spec.cast<py::dict>()));
  std::vector<NetworkNode> nodes;
  for (const py::handle& module : modules) nodes.push_back(node_of(module));
  return Network{std::make_shared<NetworkImpl>(std::move(graph), std::move(nodes))};
}

// The network `cimsim train --from DIR` starts from: the bundle's graph with its weights loaded, in
// double precision and eval mode (as the trainer checks an exported bundle).
Network load_network(const std::string& dir) {
  const ModelBundle bundle = load_model_bundle(dir);
  auto net = std::make_shared<NetworkImpl>(bundle);
  net->to(torch::kDouble);
  train::load_bundle_into(*net, bundle);
  net->eval();
  return Network{net};
}

std::shared_ptr<ModelBundle> export_network(Network& n, const std::string& dir) {
  follow_python_log_level();
  const ModelBundle bundle = train::export_bundle(*n.net);
  write_model_bundle_atomically(bundle, dir);
  return std::make_shared<ModelBundle>(load_model_bundle(dir));
}

void put_on_hardware(Network& n, const Hardware& hw, const std::optional<Calibration>& calib,
                     const std::string& hw_stats, const std::string& feedback) {
  follow_python_log_level();
  std::optional<CalibrationFile> file;
  if (calib) file = calib->file;
  const train::FeedbackWording wording{"hw_stats", "feedback='cells'", "pass feedback='partial_sums'"};
  train::put_on_hardware(*n.net, hw.config, hw_stats, feedback, file, calib ? calib->source() : "", wording);
}

template <typename Module>
auto forward_without_gil(Module& m, const torch::Tensor& x) {
  py::gil_scoped_release release;
  return m.forward(x);
}

// A trainer layer as a torch.nn.Module class (a torch.nn.cpp.ModuleWrapper), its forward run
// without the GIL.
template <typename Impl>
torch::python::detail::PyModuleClass<Impl> bind_layer(py::module& m, const char* name) {
  return torch::python::bind_module<Impl, true>(m, name)
      .def("forward", &forward_without_gil<Impl>)
      .def("__call__", &forward_without_gil<Impl>);
}

// The same for a CIM layer, with its float weight and bias.
template <typename Impl>
torch::python::detail::PyModuleClass<Impl> bind_cim_layer(py::module& m, const char* name) {
  return bind_layer<Impl>(m, name)
      .def("float_weight", [](Impl& l) { return l.float_weight(); })
      .def("float_bias", [](Impl& l) { return l.float_bias(); });
}

}  // namespace
}  // namespace cimsim::python

PYBIND11_MODULE(_torch, m) {
  using namespace cimsim;
  using namespace cimsim::python;
  namespace py = pybind11;
  using py::arg;
  m.doc() = "cimsim's trainer layers for PyTorch (use the package: import cimsim.torch)";
  py::module::import("cimsim._core");  // HwConfig, Calibration, Bundle and InputError's translation

  bind_cim_layer<CimConv2dImpl>(m, "CimConv2d")
      .def(py::init(&make_conv), arg("in_channels"), arg("out_channels"), arg("kernel_size"), arg("stride"),
           arg("padding"), arg("bias"), arg("groups"), arg("weight_bits"), arg("input_bits"),
           arg("input_signed"))
      .def("state", &conv_geometry);
  bind_cim_layer<CimLinearImpl>(m, "CimLinear")
      .def(py::init(&make_linear), arg("in_features"), arg("out_features"), arg("bias"), arg("weight_bits"),
           arg("input_bits"), arg("input_signed"))
      .def("state", &linear_geometry);
  bind_layer<FoldableBatchNormImpl>(m, "FoldableBatchNorm")
      .def(py::init([](int channels, double eps, double momentum) {
             check_positive("num_features", channels);
             if (!(eps >= 0)) throw InputError("eps = " + std::to_string(eps) + ": give 0 or more");
             return std::make_shared<FoldableBatchNormImpl>(channels, eps, momentum);
           }),
           arg("num_features"), arg("eps"), arg("momentum"))
      .def("channels", [](FoldableBatchNormImpl& b) { return b.weight.size(0); });

  m.def("avgpool_ordered", &train::avgpool_ordered, arg("x"), arg("kernel"), arg("stride"));
  m.def("global_avgpool_ordered", &train::global_avgpool_ordered, arg("x"));

  py::class_<Network>(m, "Network")
      .def(py::init(&make_network), arg("name"), arg("input_shape"), arg("mean"), arg("std"), arg("classes"),
           arg("weight_bits"), arg("input_bits"), arg("layers"), arg("modules"))
      .def_static("load", &load_network, arg("dir"))
      .def("set_quantized", [](Network& n, bool q) { n.net->set_quantized(q); })
      .def("put_on_hardware", &put_on_hardware, arg("hw"), arg("calib"), arg("hw_stats"), arg("feedback"))
      .def("set_exact", [](Network& n, bool exact) { n.net->set_exact(exact); })
      .def("full_range_layers",
           [](Network& n, const Hardware& hw) { return train::full_range_layers(n.net->graph(), hw.config); })
      .def("step_parameters", [](Network& n) { return n.net->step_parameters(); })
      .def("other_parameters", [](Network& n) { return n.net->other_parameters(); })
      .def("export", &export_network, arg("dir"))
      .def("train", [](Network& n, bool mode) { n.net->train(mode); })
      .def("forward", [](Network& n, const torch::Tensor& images) {
        py::gil_scoped_release release;
        return n.net->forward(images);
      });
}
