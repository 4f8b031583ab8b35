"""cimsim.torch: cimsim's CIM layers in PyTorch training scripts (docs/python.md, "cimsim.torch").

    import cimsim, cimsim.torch as ct
    hw = cimsim.HwConfig.load("configs/hw/rram-neurosim-128-4b.yaml")
    model = ct.convert(MyCnn(), hw, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    ct.set_stage(model, "qat")        # stage 1: LSQ-quantized weights and activations; train as usual
    ct.export(model, "out/qat")       # the bundle `cimsim run` and cimsim.calibrate read
    ct.set_stage(model, "cim", calib=cimsim.calibrate(hw, "out/qat"))  # stage 2: on the macros
    ct.export(model, "out/cim")

The layers are the C++ trainer's own modules (`cimsim train`), so a forward here computes what the
trainer computes, and in double precision with set_exact(model) what the simulator computes.
"""

import math
import warnings

import torch
import torch.nn as nn
from torch.nn.cpp import ModuleWrapper

from . import _core
from ._core import InputError

try:
    from . import _torch
except ImportError as e:  # built without LibTorch, or python3-torch of another LibTorch
    raise ImportError(f"cimsim.torch is not available ({e}); install libtorch-dev and python3-torch "
                      "(tools/setup.sh does) and rebuild") from e
from ._torch_graph import layer_graph, pair  # noqa: E402

__all__ = ["AvgPool2d", "CimConv2d", "CimLinear", "FoldableBatchNorm", "GlobalAvgPool2d", "convert", "export",
           "layer_names", "param_groups", "set_exact", "set_stage", "trainer_network"]


class _Tensors:
    """A C++ module's parameters or buffers, all of them by dotted name ("conv.weight"), as the
    wrapper's own: torch sees the layer as one module whose tensors are these."""

    def __init__(self, cpp_module, method):
        self.cpp_module, self.method = cpp_module, method

    def _dict(self):
        return dict(getattr(self.cpp_module, self.method)(True).items())

    def items(self):
        return self._dict().items()

    def keys(self):
        return self._dict().keys()

    def values(self):
        return self._dict().values()

    def __iter__(self):
        return iter(self._dict())

    def __len__(self):
        return len(self._dict())

    def __contains__(self, key):
        return key in self._dict()

    def __getitem__(self, key):
        return self._dict()[key]


class _Layer:
    """What the three C++ layers share in Python: torch.nn.Module's own methods (the C++ module's
    copies, which ModuleWrapper installs, do not follow Python's protocols: fx, state_dict, to),
    the C++ submodules hidden behind one flat set of parameters and buffers."""

    def _as_one_module(self):
        for attr in [a for a in vars(self) if hasattr(nn.Module, a) and a != "forward"]:
            object.__delattr__(self, attr)
        object.__setattr__(self, "_parameters", _Tensors(self.cpp_module, "named_parameters"))
        object.__setattr__(self, "_buffers", _Tensors(self.cpp_module, "named_buffers"))
        object.__setattr__(self, "_modules", {})

    def _apply(self, fn):
        """.to(), .double(), ...: every tensor but a batch norm's eps, which stays double as the
        trainer keeps it (so that folding gives the trainer's scale at any dtype)."""
        for tensor in self._parameters.values():
            tensor.data = fn(tensor.data)
            if tensor.grad is not None:
                tensor.grad.data = fn(tensor.grad.data)
        for name, tensor in self._buffers.items():
            if name.rpartition(".")[2] != "eps":
                tensor.data = fn(tensor.data)
        return self

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        local = dict(self._parameters.items())
        local.update(self._buffers.items())
        with torch.no_grad():
            for name, tensor in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing_keys.append(key)
                elif state_dict[key].shape != tensor.shape:
                    error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{tuple(state_dict[key].shape)}, the shape in the current model is "
                                      f"{tuple(tensor.shape)}.")
                else:
                    tensor.copy_(state_dict[key])
        if strict:
            unexpected_keys.extend(k for k in state_dict if k.startswith(prefix) and k[len(prefix):] not in local)


class _CimLayer(_Layer):
    """The float weight and bias of a CIM layer (bias None without one)."""

    @property
    def weight(self):
        return self.cpp_module.float_weight()

    @property
    def bias(self):
        return self.cpp_module.float_bias()


class CimConv2d(_CimLayer, _torch.CimConv2d):
    """A convolution on CIM macros: torch.nn.Conv2d's arguments (no dilation, zero padding only),
    the integer widths of the hardware it runs on, and whether its inputs can be negative (signed
    inputs run as two passes). Unquantized it is an ordinary convolution; see set_stage."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, groups=1, *,
                 weight_bits=4, input_bits=4, input_signed=False):
        super().__init__(in_channels, out_channels, pair(kernel_size, "kernel_size"), pair(stride, "stride"),
                         pair(padding, "padding"), bool(bias), groups, weight_bits, input_bits, bool(input_signed))
        self._as_one_module()


class CimLinear(_CimLayer, _torch.CimLinear):
    """A fully connected layer on CIM macros: torch.nn.Linear's arguments and the hardware's widths."""

    def __init__(self, in_features, out_features, bias=True, *, weight_bits=4, input_bits=4, input_signed=False):
        super().__init__(in_features, out_features, bool(bias), weight_bits, input_bits, bool(input_signed))
        self._as_one_module()


class FoldableBatchNorm(_Layer, _torch.FoldableBatchNorm):
    """Batch norm (1d or 2d) trained as usual; in eval mode the folded y = x * scale + shift the
    bundle stores, so that an evaluation computes what the simulator's digital unit computes."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(num_features, eps, momentum)
        self._as_one_module()


class AvgPool2d(nn.Module):
    """Average pooling that sums each window in row-major order, as the simulator does (no padding)."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride") if stride is not None else self.kernel_size

    def forward(self, x):
        return _torch.avgpool_ordered(x, self.kernel_size, self.stride)


class GlobalAvgPool2d(nn.Module):
    """nn.AdaptiveAvgPool2d(1) summing in the simulator's order: [B, C, H, W] -> [B, C, 1, 1]."""

    def forward(self, x):
        return _torch.global_avgpool_ordered(x)


class _Kinds:
    """cimsim.torch's classes, as the layer graph (_torch_graph.py) tells them apart."""
    conv, linear, batchnorm = _torch.CimConv2d, _torch.CimLinear, _torch.FoldableBatchNorm
    avgpool, global_avgpool = AvgPool2d, GlobalAvgPool2d
    cim = (_torch.CimConv2d, _torch.CimLinear)
    leaves = (ModuleWrapper, AvgPool2d, GlobalAvgPool2d)


class _Conversion:
    """What convert() recorded about a model: the hardware and the input the network sees."""

    def __init__(self, hw, input_shape, mean, std):
        self.hw, self.input_shape, self.mean, self.std = hw, input_shape, mean, std
        self.bits = _hw_bits(hw)
        self.input_negative = any(m > 0 for m in mean)  # (pixel / 255 - mean) / std below 0


def _graph(model, conversion):
    """The model's layer graph (_torch_graph.layer_graph) and its warnings."""
    return layer_graph(model, _Kinds, conversion.input_shape, conversion.input_negative, conversion.bits)


def _conversion(model):
    conversion = getattr(model, "_cimsim_conversion", None)
    if conversion is None:
        raise InputError(f"{type(model).__name__} was not converted; call cimsim.torch.convert(model, hw, "
                         "input_shape=..., mean=..., std=...) first")
    return conversion


def _hw_bits(hw):
    macro = hw.to_dict()["macro"]
    return macro["weight_bits"], macro["input_bits"]


def _replace(model, path, module):
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def _cim_module(layer, bits):
    """The cimsim.torch layer for a torch layer of the graph, with its weights, bias and statistics,
    its dtype and training mode; None for a layer that stays."""
    m = layer["module"]
    if isinstance(m, nn.Conv2d):
        new = CimConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.bias is not None,
                        m.groups, weight_bits=bits[0], input_bits=bits[1], input_signed=layer["input_signed"])
    elif isinstance(m, nn.Linear):
        new = CimLinear(m.in_features, m.out_features, m.bias is not None, weight_bits=bits[0],
                        input_bits=bits[1], input_signed=layer["input_signed"])
    elif isinstance(m, nn.modules.batchnorm._BatchNorm):
        new = FoldableBatchNorm(m.num_features, m.eps, m.momentum).to(m.weight.dtype)
        with torch.no_grad():
            for name in ("weight", "bias"):
                new._parameters[name].copy_(getattr(m, name))
            for name in ("running_mean", "running_var"):
                new._buffers[name].copy_(getattr(m, name))
        return new.train(m.training)
    elif isinstance(m, nn.AvgPool2d):
        return AvgPool2d(m.kernel_size, m.stride).train(m.training)
    elif isinstance(m, nn.AdaptiveAvgPool2d):
        return GlobalAvgPool2d().train(m.training)
    else:
        return None
    new = new.to(m.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(m.weight)
        if m.bias is not None:
            new.bias.copy_(m.bias)
    return new.train(m.training)


def convert(model, hw, *, input_shape, mean, std):
    """Replaces, in place, the model's nn.Conv2d and nn.Linear with CimConv2d and CimLinear (weights
    copied), its batch norms with FoldableBatchNorm and its average pools with ones that sum in the
    simulator's order, and returns the model.

    hw: a cimsim.HwConfig or a config path; the layers take its macro.weight_bits and
    macro.input_bits, and set_stage(model, "cim") puts them on its macros. input_shape [C, H, W],
    mean and std (C entries, or one for all): the network sees (pixel / 255 - mean) / std, as the
    bundle records it; a layer whose input can be negative (the image when a mean is above 0, or a
    tensor not after a ReLU) gets signed inputs. The forward must be traceable by torch.fx and use
    only layers the model bundle has (docs/model-bundle.md); anything else raises InputError.
    """
    if isinstance(hw, str):
        hw = _core.HwConfig.load(hw)
    if not isinstance(hw, _core.HwConfig):
        raise InputError(f"hw = {hw!r}: give a cimsim.HwConfig or a hardware config path")
    input_shape = [int(v) for v in input_shape]
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise InputError(f"input_shape = {input_shape}: give [channels, height, width], each 1 or more")
    mean, std = [float(v) for v in mean], [float(v) for v in std]
    for what, values in (("mean", mean), ("std", std)):
        if len(values) == 1:
            values *= input_shape[0]
        if len(values) != input_shape[0]:
            raise InputError(f"{what} has {len(values)} entries for {input_shape[0]} channels; give one per "
                             "channel or one for all")
    if min(std) <= 0:
        raise InputError(f"std = {std}: every entry must be above 0")
    conversion = _Conversion(hw, input_shape, mean, std)
    layers, notes = _graph(model, conversion)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    for layer in layers:
        if "module" in layer:
            new = _cim_module(layer, conversion.bits)
            if new is not None:
                _replace(model, layer["path"], new)
    model._cimsim_conversion = conversion
    return model


def _converted_graph(model):
    """(conversion, layers) of a converted model whose layers are all cimsim.torch's."""
    conversion = _conversion(model)
    layers, _ = _graph(model, conversion)
    unconverted = [layer["path"] for layer in layers
                   if "module" in layer and isinstance(layer["module"], (nn.Conv2d, nn.Linear, nn.AvgPool2d,
                                                                         nn.AdaptiveAvgPool2d,
                                                                         nn.modules.batchnorm._BatchNorm))]
    if unconverted:
        raise InputError(f"{type(model).__name__}: {', '.join(unconverted)} were added after convert(); call "
                         "cimsim.torch.convert(model, ...) again")
    return conversion, layers


def _network(conversion, layers, name, classes=0):
    """The trainer's network (training/network.h) over the model's own layers."""
    modules = [layer["module"].cpp_module if isinstance(layer.get("module"), ModuleWrapper) else None
               for layer in layers]
    return _torch.Network(name, conversion.input_shape, conversion.mean, conversion.std, classes,
                          conversion.bits[0], conversion.bits[1], [layer.bundle() for layer in layers], modules)


def _cim_layers(layers):
    return [layer for layer in layers if isinstance(layer.get("module"), _Kinds.cim)]


def layer_names(model):
    """{module path: bundle layer name} of the model's CIM layers and batch norms: the names that
    calibrations, --stats and the exported bundle use."""
    _, layers = _converted_graph(model)
    return {layer["path"]: layer["name"] for layer in layers if isinstance(layer.get("module"), ModuleWrapper)}


def set_stage(model, stage, *, calib=None, hw_stats=None, feedback="cells", learn_intervals=True):
    """The stage the converted model trains in, as `cimsim train --stage` sets it (docs/training.md):

    "fp32": ordinary float layers. "qat" (stage 1): LSQ-quantized weights and activations (weight
    steps start from the weights now, activation steps on the first training batch). "cim"
    (stage 2): quantized, and every product on the convert() hardware's macros, the hardware's
    programming variation injected in training mode, each layer's ADC interval learned; calib (a
    cimsim.Calibration or a calibration file, from cimsim.calibrate on an exported stage-1 bundle)
    starts the intervals, hw_stats (a --stats file of cimsim run) injects what the simulator
    measured instead (feedback "cells" or "partial_sums", as cim.feedback), learn_intervals=False
    keeps the intervals fixed. A layer on the macros stays there; set_stage("cim") again keeps its
    interval unless calib gives one.
    """
    conversion, layers = _converted_graph(model)
    net = _network(conversion, layers, type(model).__name__)
    cim = _cim_layers(layers)
    on_hardware = [layer["name"] for layer in cim if layer["module"].state()["on_hardware"]]
    if stage in ("fp32", "qat"):
        if on_hardware:
            raise InputError(f"set_stage({stage!r}): the layers are on the macros already (stage cim); convert a "
                             "fresh model to train an earlier stage")
        if calib is not None or hw_stats is not None:
            raise InputError("calib and hw_stats are used only by stage 'cim'")
        net.set_quantized(stage == "qat")
        return model
    if stage != "cim":
        raise InputError(f"stage {stage!r}: give 'fp32', 'qat' or 'cim'")
    if feedback not in ("cells", "partial_sums"):
        raise InputError(f"feedback {feedback!r}: give 'cells' or 'partial_sums'")
    if isinstance(calib, str):
        calib = _core.Calibration.load(calib)
    if calib is not None and not isinstance(calib, _core.Calibration):
        raise InputError(f"calib = {calib!r}: give a cimsim.Calibration or a calibration file")
    net.set_quantized(True)
    net.put_on_hardware(conversion.hw, calib, str(hw_stats or ""), feedback)
    for layer in cim:
        layer["module"]._parameters["adc_interval"].requires_grad_(bool(learn_intervals))
    if calib is None:
        full = [name for name in net.full_range_layers(conversion.hw) if name not in on_hardware]
        if full:
            warnings.warn(f"set_stage('cim'): the ADC intervals of {', '.join(full)} start at the full range, "
                          "where few of the ADC's levels are used; export the stage-1 model, run cimsim.calibrate "
                          "on it and pass calib=", stacklevel=2)
    return model


def set_exact(model, exact=True):
    """Stage cim's products in the contract's order in double precision (the simulator's bits; use
    with model.double()) or, exact=False, in the fast order (training's)."""
    conversion, layers = _converted_graph(model)
    _network(conversion, layers, type(model).__name__).set_exact(bool(exact))
    return model


def param_groups(model, weight_decay=0.0):
    """Parameter groups for a torch.optim optimizer as the trainer makes them: weights and biases
    with `weight_decay`, the quantizer steps and ADC intervals without."""
    conversion, layers = _converted_graph(model)
    net = _network(conversion, layers, type(model).__name__)
    return [{"params": net.other_parameters(), "weight_decay": weight_decay},
            {"params": net.step_parameters(), "weight_decay": 0.0}]


def export(model, dir):
    """Writes the quantized model as a model bundle in `dir` (docs/model-bundle.md; replaced
    atomically) and returns it as a cimsim.Bundle: integer weights and steps from stage 1, and
    after stage cim each layer's learned ADC interval. `cimsim run` on it computes the model's
    set_exact double-precision forward, logit for logit."""
    conversion, layers = _converted_graph(model)
    states = [(layer["name"], layer["module"].state()) for layer in _cim_layers(layers)]
    if not all(state["quantized"] for _, state in states):
        raise InputError(f"export: {type(model).__name__} is not quantized; call cimsim.torch.set_stage(model, "
                         "'qat') and train it first")
    unset = [name for name, state in states if not state["initialized"]]
    if unset:
        raise InputError(f"export: the quantizer steps of {', '.join(unset)} were never set (a layer's input step "
                         "is set by its first training batch); train the model in stage 'qat' first")
    classes = math.prod(layers[-1]["shape"][1:])
    return _network(conversion, layers, type(model).__name__, classes).export(str(dir))


def trainer_network(model=None, *, bundle=None):
    """The C++ trainer's network: over the model's layers (shared, not copied), or, with bundle=DIR,
    the network `cimsim train --from DIR` starts from (double precision, eval mode, the bundle's
    weights). Its forward(images) is the trainer's; for comparisons."""
    if bundle is not None:
        return _torch.Network.load(str(bundle))
    conversion, layers = _converted_graph(model)
    return _network(conversion, layers, type(model).__name__)
