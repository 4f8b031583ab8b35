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

import operator
import warnings

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.cpp import ModuleWrapper

from . import _core
from ._core import InputError

try:
    from . import _torch
except ImportError as e:  # built without LibTorch, or python3-torch of another LibTorch
    raise ImportError(f"cimsim.torch is not available ({e}); install libtorch-dev and python3-torch "
                      "(tools/setup.sh does) and rebuild") from e

__all__ = ["AvgPool2d", "CimConv2d", "CimLinear", "FoldableBatchNorm", "GlobalAvgPool2d", "convert", "export",
           "layer_names", "param_groups", "set_exact", "set_stage", "trainer_network"]


def _pair(value, what):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise InputError(f"{what} = {value!r}: give an int or a pair of ints")
    return pair


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
        super().__init__(in_channels, out_channels, _pair(kernel_size, "kernel_size"), _pair(stride, "stride"),
                         _pair(padding, "padding"), bool(bias), groups, weight_bits, input_bits, bool(input_signed))
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
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride") if stride is not None else self.kernel_size

    def forward(self, x):
        return _torch.avgpool_ordered(x, self.kernel_size, self.stride)


class GlobalAvgPool2d(nn.Module):
    """nn.AdaptiveAvgPool2d(1) summing in the simulator's order: [B, C, H, W] -> [B, C, 1, 1]."""

    def forward(self, x):
        return _torch.global_avgpool_ordered(x)


_CIM = (_torch.CimConv2d, _torch.CimLinear)
_OURS = (ModuleWrapper, AvgPool2d, GlobalAvgPool2d)


class _Conversion:
    """What convert() recorded about a model: the hardware and the input the network sees."""

    def __init__(self, hw, input_shape, mean, std):
        self.hw, self.input_shape, self.mean, self.std = hw, input_shape, mean, std


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, m, qualified_name):
        return isinstance(m, _OURS) or super().is_leaf_module(m, qualified_name)


def _trace(model):
    try:
        return _Tracer().trace(model)
    except Exception as e:  # anything torch.fx cannot follow (data-dependent control flow, ...)
        raise InputError(f"{type(model).__name__}: torch.fx cannot trace its forward ({type(e).__name__}: {e}); "
                         "cimsim.torch needs a forward without data-dependent control flow") from e


class _Entry(dict):
    """One entry of the layer graph: the bundle's keys (name, type, inputs, geometry), and beside them
    the module (`module`, `path`) and whether its output can be negative (`signed`)."""


def _kernel_args(kernel, stride, padding, where):
    kernel = _pair(kernel, f"{where}: kernel_size")
    stride = _pair(stride, f"{where}: stride") if stride is not None else kernel
    return {"kernel": list(kernel), "stride": list(stride), "padding": list(_pair(padding, f"{where}: padding"))}


def _args(node, names, defaults):
    """node's arguments by name (positional then keyword), with defaults."""
    out = dict(defaults)
    out.update(zip(names, node.args))
    out.update(node.kwargs)
    return out


_RELU = {F.relu, torch.relu}
_ADD = {operator.add, operator.iadd, torch.add}
_FLATTEN_METHODS = {"flatten", "view", "reshape"}


class _GraphBuilder:
    """The layer graph of a traced model in the bundle's terms (docs/model-bundle.md)."""

    def __init__(self, model, hw_bits, input_negative):
        self.model, self.bits, self.input_negative = model, hw_bits, input_negative
        self.layers = []
        self.index = {}  # fx node -> layer index (-1: the input)

    def source(self, node, where):
        if not isinstance(node, torch.fx.Node) or node not in self.index:
            raise InputError(f"{where}: reads {node!r}, not a tensor computed from the network's input; the "
                             "bundle's layers take no constants or tensor attributes")
        return self.index[node]

    def signed(self, i):
        return self.input_negative if i < 0 else self.layers[i]["signed"]

    def add(self, node, type_, inputs, signed, **keys):
        layer = _Entry(name=node.name, type=type_, inputs=inputs, **keys)
        layer["signed"] = signed
        self.layers.append(layer)
        self.index[node] = len(self.layers) - 1
        return layer

    def cim_signed(self, m, signed_in, where):
        """A CIM layer's input_signed: whether its input can be negative; a cimsim.torch layer keeps its own
        (a warning when negative inputs would clip at 0), and its widths must be the hardware's."""
        if not isinstance(m, _CIM):
            return signed_in
        state = m.state()
        if self.bits is not None and (state["weight_bits"], state["input_bits"]) != self.bits:
            raise InputError(f"{where}: weight_bits {state['weight_bits']}, input_bits {state['input_bits']} but the "
                             f"hardware has macro.weight_bits {self.bits[0]}, macro.input_bits {self.bits[1]}; "
                             "make them equal")
        if signed_in and not state["input_signed"]:
            warnings.warn(f"{where}: its input can be negative but the layer was made with input_signed=False, so "
                          "negative inputs quantize to 0; make it with input_signed=True", stacklevel=4)
        return state["input_signed"]

    def alias(self, node, where):
        self.index[node] = self.source(node.args[0], where)

    def module_layer(self, node, m):
        where = f"{type(self.model).__name__}.{node.target} ({type(m).__name__})"
        x = self.source(node.args[0], where)
        signed_in = self.signed(x)
        if isinstance(m, (nn.Conv2d, _torch.CimConv2d)):
            if isinstance(m, nn.Conv2d):
                if m.dilation != (1, 1) or m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise InputError(f"{where}: dilation {m.dilation}, padding {m.padding!r} ({m.padding_mode}); "
                                     "CIM convolutions take dilation 1 and numeric zero padding")
                geometry = dict(in_channels=m.in_channels, out_channels=m.out_channels, kernel=list(m.kernel_size),
                                stride=list(m.stride), padding=list(m.padding), groups=m.groups)
            else:
                geometry = {k: m.state()[k] for k in ("in_channels", "out_channels", "kernel", "stride", "padding",
                                                      "groups")}
            layer = self.add(node, "conv2d", [x], True, **geometry, input_signed=self.cim_signed(m, signed_in, where))
        elif isinstance(m, (nn.Linear, _torch.CimLinear)):
            if isinstance(m, nn.Linear):
                geometry = dict(in_features=m.in_features, out_features=m.out_features)
            else:
                state = m.state()
                geometry = dict(in_features=state["in_features"], out_features=state["out_features"])
            layer = self.add(node, "linear", [x], True, **geometry, input_signed=self.cim_signed(m, signed_in, where))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, _torch.FoldableBatchNorm)):
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and not (m.affine and m.track_running_stats):
                raise InputError(f"{where}: affine={m.affine}, track_running_stats={m.track_running_stats}; "
                                 "the bundle folds a batch norm with both (the defaults)")
            channels = m.num_features if isinstance(m, nn.modules.batchnorm._BatchNorm) else m.channels()
            layer = self.add(node, "batchnorm", [x], True, channels=channels)
        elif isinstance(m, nn.ReLU):
            layer = self.add(node, "relu", [x], False)
        elif isinstance(m, (nn.ReLU6, nn.Hardtanh)):
            lo, hi = (0.0, 6.0) if isinstance(m, nn.ReLU6) else (float(m.min_val), float(m.max_val))
            layer = self.add(node, "clip", [x], signed_in and lo < 0, clip_min=lo, clip_max=hi)
        elif isinstance(m, nn.MaxPool2d):
            if m.dilation not in (1, (1, 1)) or m.ceil_mode or m.return_indices:
                raise InputError(f"{where}: dilation, ceil_mode or return_indices set; the bundle's maxpool has "
                                 "none of them")
            layer = self.add(node, "maxpool", [x], signed_in, **_kernel_args(m.kernel_size, m.stride, m.padding,
                                                                             where))
        elif isinstance(m, (nn.AvgPool2d, AvgPool2d)):
            if isinstance(m, nn.AvgPool2d) and (m.padding not in (0, (0, 0)) or m.ceil_mode):
                raise InputError(f"{where}: padding or ceil_mode set; the bundle's avgpool has neither")
            layer = self.add(node, "avgpool", [x], signed_in, **_kernel_args(m.kernel_size, m.stride, 0, where))
            del layer["padding"]
        elif isinstance(m, (nn.AdaptiveAvgPool2d, GlobalAvgPool2d)):
            if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
                raise InputError(f"{where}: output size {m.output_size}; the bundle pools globally only "
                                 "(output size 1)")
            layer = self.add(node, "global_avgpool", [x], signed_in)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise InputError(f"{where}: start_dim {m.start_dim}, end_dim {m.end_dim}; give nn.Flatten()")
            layer = self.add(node, "flatten", [x], signed_in)
        elif isinstance(m, (nn.Dropout, nn.Identity)):
            self.alias(node, where)
            return
        else:
            raise InputError(f"{where}: a module the model bundle has no layer for; use Conv2d, Linear, "
                             "BatchNorm, ReLU, ReLU6, Hardtanh, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), "
                             "Flatten, Dropout or Identity")
        layer["module"], layer["path"] = m, node.target

    def function_layer(self, node):
        fn = node.target
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", repr(fn))
        where = f"{type(self.model).__name__}: {name} ({node.name})"
        method = node.op == "call_method"
        if method and fn == "size":  # x.size(0) of a view(x.size(0), -1): no layer
            return
        x = self.source(node.args[0], where) if fn not in (torch.cat,) else None
        if (method and fn == "relu") or fn in _RELU:
            self.add(node, "relu", [x], False)
        elif (method and fn == "add") or fn in _ADD:
            y = self.source(node.args[1], where)
            self.add(node, "add", [x, y], self.signed(x) or self.signed(y))
        elif fn is torch.cat:
            args = _args(node, ["tensors", "dim"], {"dim": 0})
            if args["dim"] != 1:
                raise InputError(f"{where}: dim {args['dim']}; the bundle concatenates channels (dim 1)")
            inputs = [self.source(t, where) for t in args["tensors"]]
            self.add(node, "concat", inputs, any(self.signed(i) for i in inputs))
        elif (method and fn in _FLATTEN_METHODS) or fn is torch.flatten:
            self.flatten(node, x, where)
        elif fn is F.max_pool2d:
            a = _args(node, ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode"],
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False})
            if a["dilation"] not in (1, (1, 1)) or a["ceil_mode"] or a.get("return_indices"):
                raise InputError(f"{where}: dilation, ceil_mode or return_indices set; the bundle's maxpool has "
                                 "none of them")
            self.add(node, "maxpool", [x], self.signed(x), **_kernel_args(a["kernel_size"], a["stride"],
                                                                          a["padding"], where))
        elif fn in (F.relu6, F.hardtanh) or fn is torch.clamp or (method and fn == "clamp"):
            lo, hi = self.clip_bounds(node, fn, where)
            self.add(node, "clip", [x], self.signed(x) and lo < 0, clip_min=lo, clip_max=hi)
        elif fn is F.dropout or (method and fn == "contiguous"):
            self.alias(node, where)
        elif fn in (F.avg_pool2d, F.adaptive_avg_pool2d):
            raise InputError(f"{where}: a functional average pool sums in torch's order; use nn.AvgPool2d or "
                             "nn.AdaptiveAvgPool2d(1) modules, which convert() makes sum in the simulator's")
        else:
            raise InputError(f"{where}: an operation the model bundle has no layer for; use relu, add, cat, "
                             "flatten/view(B, -1), max_pool2d, clamp/hardtanh/relu6 or dropout")

    def flatten(self, node, x, where):
        fn = node.target
        if fn in ("flatten",) or fn is torch.flatten:
            a = _args(node, ["input", "start_dim", "end_dim"], {"start_dim": 0, "end_dim": -1})
            ok = a["start_dim"] == 1 and a["end_dim"] == -1
        else:  # view / reshape to [B, -1] or [-1, F]
            shape = node.args[1:] if len(node.args) > 2 else (node.args[1] if len(node.args) == 2 else ())
            shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
            ok = len(shape) == 2 and (shape[1] == -1 or shape[0] == -1)
        if not ok:
            raise InputError(f"{where}: reshapes to {node.args[1:]}; the bundle flattens to [batch, features] "
                             "only (flatten(1), view(x.size(0), -1))")
        self.add(node, "flatten", [x], self.signed(x))

    @staticmethod
    def clip_bounds(node, fn, where):
        if fn is F.relu6:
            return 0.0, 6.0
        if fn is F.hardtanh:
            a = _args(node, ["input", "min_val", "max_val"], {"min_val": -1.0, "max_val": 1.0})
            lo, hi = a["min_val"], a["max_val"]
        else:
            a = _args(node, ["input", "min", "max"], {"min": None, "max": None})
            lo, hi = a["min"], a["max"]
        if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or not lo < hi:
            raise InputError(f"{where}: bounds {lo!r}, {hi!r}; the bundle's clip needs both, numbers, min < max")
        return float(lo), float(hi)


def _layer_graph(model, input_negative, bits=None):
    """The layer graph of `model`'s forward, in execution order, each entry an _Entry; `bits` (weight,
    input): the widths its cimsim.torch layers must have."""
    graph = _trace(model)
    builder = _GraphBuilder(model, bits, input_negative)
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise InputError(f"{type(model).__name__}: forward takes {len(inputs)} tensors; the bundle's network "
                         "takes one image batch")
    builder.index[inputs[0]] = -1
    output = None
    for node in graph.nodes:
        if node.op == "call_module":
            builder.module_layer(node, model.get_submodule(node.target))
        elif node.op in ("call_function", "call_method"):
            builder.function_layer(node)
        elif node.op == "get_attr":
            raise InputError(f"{type(model).__name__}: forward reads the tensor {node.target} directly; "
                             "the bundle's layers hold all the network's tensors")
        elif node.op == "output":
            output = node.args[0]
    last = builder.source(output, f"{type(model).__name__}: its output") if output is not None else None
    if not builder.layers or last != len(builder.layers) - 1:
        raise InputError(f"{type(model).__name__}: its output is not its last layer's; the bundle's network "
                         "returns the last layer's output")
    return builder.layers


def _conversion(model):
    conversion = getattr(model, "_cimsim_conversion", None)
    if conversion is None:
        raise InputError(f"{type(model).__name__} was not converted; call cimsim.torch.convert(model, hw, "
                         "input_shape=..., mean=..., std=...) first")
    return conversion


def _hw_bits(hw):
    macro = hw.to_dict()["macro"]
    return macro["weight_bits"], macro["input_bits"]


def _negative_input(mean):
    return any(m > 0 for m in mean)


def _replace(model, path, module):
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def _with_dtype(new, dtype):
    """`new` with its floating-point parameters in `dtype` (a ModuleWrapper's own `to` returns None)."""
    if dtype != torch.float32:
        new._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)
    return new


def _cim_module(layer, bits):
    """The cimsim.torch layer for a torch layer of the graph, with its weights, bias and statistics."""
    m = layer["module"]
    if isinstance(m, nn.Conv2d):
        new = CimConv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.bias is not None,
                        m.groups, weight_bits=bits[0], input_bits=bits[1], input_signed=layer["input_signed"])
    elif isinstance(m, nn.Linear):
        new = CimLinear(m.in_features, m.out_features, m.bias is not None, weight_bits=bits[0],
                        input_bits=bits[1], input_signed=layer["input_signed"])
    elif isinstance(m, nn.modules.batchnorm._BatchNorm):
        new = _with_dtype(FoldableBatchNorm(m.num_features, m.eps, 0.1 if m.momentum is None else m.momentum),
                          m.weight.dtype)
        with torch.no_grad():
            for name in ("weight", "bias"):
                new._parameters[name].copy_(getattr(m, name))
            for name in ("running_mean", "running_var"):
                new._buffers[name].copy_(getattr(m, name))
        return new
    elif isinstance(m, nn.AvgPool2d):
        return AvgPool2d(m.kernel_size, m.stride)
    elif isinstance(m, nn.AdaptiveAvgPool2d):
        return GlobalAvgPool2d()
    else:
        return None
    new = _with_dtype(new, m.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(m.weight)
        if m.bias is not None:
            new.bias.copy_(m.bias)
    return new


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
    bits = _hw_bits(hw)
    for layer in _layer_graph(model, _negative_input(mean), bits):
        if "module" in layer and not isinstance(layer["module"], _OURS):
            new = _cim_module(layer, bits)
            if new is not None:
                new.train(layer["module"].training)
                _replace(model, layer["path"], new)
    model._cimsim_conversion = _Conversion(hw, input_shape, mean, std)
    return model


def _network(model, *, classes=0):
    """The trainer's network (training/network.h) over the model's own layers."""
    conversion = _conversion(model)
    bits = _hw_bits(conversion.hw)
    layers = _layer_graph(model, _negative_input(conversion.mean), bits)
    unconverted = [layer["path"] for layer in layers
                   if layer["type"] in ("conv2d", "linear", "batchnorm") and not isinstance(layer["module"], _OURS)]
    if unconverted:
        raise InputError(f"{type(model).__name__}: {', '.join(unconverted)} were added after convert(); "
                         "call cimsim.torch.convert(model, ...) again")
    specs = [{k: v for k, v in layer.items() if k not in ("module", "path", "signed")} for layer in layers]
    modules = [layer["module"].cpp_module if isinstance(layer.get("module"), ModuleWrapper) else None
               for layer in layers]
    return _torch.Network(type(model).__name__, conversion.input_shape, conversion.mean, conversion.std, classes,
                          bits[0], bits[1], specs, modules)


def layer_names(model):
    """{module path: bundle layer name} of the model's CIM layers and batch norms: the names that
    calibrations, --stats and the exported bundle use."""
    conversion = _conversion(model)
    return {layer["path"]: layer["name"] for layer in _layer_graph(model, _negative_input(conversion.mean))
            if "module" in layer and isinstance(layer["module"], ModuleWrapper)}


def set_stage(model, stage, *, calib=None, hw_stats=None, feedback="cells", learn_intervals=True):
    """The stage the converted model trains in, as `cimsim train --stage` sets it (docs/training.md):

    "fp32": ordinary float layers. "qat" (stage 1): LSQ-quantized weights and activations (weight
    steps start from the weights now, activation steps on the first training batch). "cim"
    (stage 2): quantized, and every product on the convert() hardware's macros, the hardware's
    programming variation injected in training mode, each layer's ADC interval learned; calib (a
    cimsim.Calibration or a calibration file, from cimsim.calibrate on an exported stage-1 bundle)
    starts the intervals, hw_stats (a --stats file of cimsim run) injects what the simulator
    measured instead (feedback "cells" or "partial_sums", as cim.feedback), learn_intervals=False
    keeps the intervals fixed. A model on the macros stays there.
    """
    conversion = _conversion(model)
    net = _network(model)
    on_hardware = [name for name, state in _cim_states(model) if state["on_hardware"]]
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
    if not learn_intervals:
        net.freeze_adc_intervals()
    if calib is None:
        full = net.full_range_layers(conversion.hw)
        if full:
            warnings.warn(f"set_stage('cim'): the ADC intervals of {', '.join(full)} start at the full range, "
                          "where few of the ADC's levels are used; export the stage-1 model, run cimsim.calibrate "
                          "on it and pass calib=", stacklevel=2)
    return model


def _cim_states(model):
    """(layer name, state) of each CIM layer of the model's graph."""
    conversion = _conversion(model)
    return [(layer["name"], layer["module"].state()) for layer in _layer_graph(model, _negative_input(conversion.mean))
            if isinstance(layer.get("module"), _CIM)]


def set_exact(model, exact=True):
    """Stage cim's products in the contract's order in double precision (the simulator's bits; use
    with model.double()) or, exact=False, in the fast order (training's)."""
    _network(model).set_exact(bool(exact))
    return model


def param_groups(model, weight_decay=0.0):
    """Parameter groups for a torch.optim optimizer as the trainer makes them: weights and biases
    with `weight_decay`, the quantizer steps and ADC intervals without."""
    net = _network(model)
    return [{"params": net.other_parameters(), "weight_decay": weight_decay},
            {"params": net.step_parameters(), "weight_decay": 0.0}]


def _classes(model, conversion):
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros([1] + conversion.input_shape, dtype=param.dtype))
    finally:
        model.train(was_training)
    return int(out.reshape(1, -1).shape[1])


def export(model, dir):
    """Writes the quantized model as a model bundle in `dir` (docs/model-bundle.md; replaced
    atomically) and returns it as a cimsim.Bundle: integer weights and steps from stage 1, and
    after stage cim each layer's learned ADC interval. `cimsim run` on it computes the model's
    set_exact double-precision forward, logit for logit."""
    conversion = _conversion(model)
    states = _cim_states(model)
    if not all(state["quantized"] for _, state in states):
        raise InputError(f"export: {type(model).__name__} is not quantized; call cimsim.torch.set_stage(model, "
                         "'qat') and train it first")
    unset = [name for name, state in states if not state["initialized"]]
    if unset:
        raise InputError(f"export: the quantizer steps of {', '.join(unset)} were never set (a layer's input step "
                         "is set by its first training batch); train the model in stage 'qat' first")
    net = _network(model, classes=_classes(model, conversion))
    return net.export(str(dir))


def trainer_network(model=None, *, bundle=None):
    """The C++ trainer's network: over the model's layers (shared, not copied), or, with bundle=DIR,
    the network `cimsim train --from DIR` starts from (double precision, the bundle's weights). Its
    forward(images) is the trainer's; for comparisons."""
    if bundle is not None:
        return _torch.Network.load(str(bundle))
    return _network(model)
