"""The model bundle's layer graph (docs/model-bundle.md) of a PyTorch model, for cimsim.torch.

The forward is traced with torch.fx (cimsim.torch's layers and pools are leaves) and run once on a
[2, C, H, W] batch of zeros (every module in eval mode, no gradients) so that every tensor's
shape is known. Each traced operation becomes one bundle layer, is passed through
(dropout, identity) or is a shape computation (size, shape); anything else raises InputError
naming the operation and what to use.
"""

import math
import operator

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.cpp import ModuleWrapper

from ._core import InputError


def pair(value, what):
    """(a, b) of an int or a pair of ints."""
    result = (value, value) if isinstance(value, int) else tuple(value)
    if len(result) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in result):
        raise InputError(f"{what} = {value!r}: give an int or a pair of ints")
    return result


class Layer(dict):
    """One layer: the bundle's keys (name, type, inputs, geometry, input_signed), and beside them
    `module` and `path` (its module, if any), `signed` (its output can be negative) and `shape`."""

    BUNDLE_KEYS = ("name", "type", "inputs", "in_channels", "out_channels", "kernel", "stride", "padding",
                   "groups", "in_features", "out_features", "channels", "clip_min", "clip_max", "input_signed")

    def bundle(self):
        return {k: v for k, v in self.items() if k in self.BUNDLE_KEYS}


class _Tracer(torch.fx.Tracer):
    def __init__(self, leaves):
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, m, qualified_name):
        return isinstance(m, self.leaves) or super().is_leaf_module(m, qualified_name)


class _Shapes(torch.fx.Interpreter):
    """Runs a traced forward, recording each tensor's shape in its node's meta["shape"]."""

    node = None  # the node running (for messages)

    def run_node(self, n):
        self.node = n.name
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["shape"] = list(result.shape)
        return result


def _traced(model, input_shape, leaves):
    """The fx graph of `model` with every tensor node's output shape (meta["shape"])."""
    name = type(model).__name__
    try:
        graph = _Tracer(leaves).trace(model)
    except Exception as e:  # anything torch.fx cannot follow (data-dependent control flow, ...)
        raise InputError(f"{name}: torch.fx cannot trace its forward ({type(e).__name__}: {e}); cimsim.torch needs "
                         "a forward without data-dependent control flow") from e
    shapes = _Shapes(torch.fx.GraphModule(model, graph))
    param = next(model.parameters(), None)
    example = torch.zeros([2] + list(input_shape), dtype=param.dtype if param is not None else torch.float32)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            shapes.run(example)
    except Exception as e:
        cause = str(e).split("\n\nWhile executing")[0]
        raise InputError(f"{name}: its forward fails at {shapes.node} on a [2, {', '.join(map(str, input_shape))}] "
                         f"batch of zeros ({type(e).__name__}: {cause}); check input_shape and the forward") from e
    finally:
        for m, training in modes:
            m.training = training
    return graph


def _shape(node):
    return node.meta.get("shape") if isinstance(node, torch.fx.Node) else None


def _args(node, names, defaults=None):
    """node's arguments by name (positional, then keyword), with defaults."""
    out = dict(defaults or {})
    out.update(zip(names, node.args))
    out.update(node.kwargs)
    return out


_RELU = {F.relu, torch.relu}
_ADD = {operator.add, operator.iadd, torch.add}
_CLIP = {F.relu6, F.hardtanh, torch.clamp}
_FLATTEN = {torch.flatten}
_FLATTEN_METHODS = {"flatten", "view", "reshape"}


class _Builder:
    def __init__(self, model, kinds, bits, input_shape, input_negative):
        self.model, self.kinds, self.bits = model, kinds, bits
        self.input_shape, self.input_negative = list(input_shape), input_negative
        self.layers, self.warnings = [], []
        self.index = {}  # fx node -> layer index (-1: the input)
        self.seen = {}  # id(module) -> the path of its first call (conv, linear, batch norm)

    def where(self, node, what):
        return f"{type(self.model).__name__}: {what} ({node.name})"

    def source(self, value, where):
        if not isinstance(value, torch.fx.Node) or value not in self.index:
            raise InputError(f"{where}: reads {value!r}, not a tensor computed from the network's input; the "
                             "bundle's layers take no constants or tensor attributes")
        return self.index[value]

    def signed(self, i):
        return self.input_negative if i < 0 else self.layers[i]["signed"]

    def add(self, node, type_, inputs, signed, **keys):
        layer = Layer(name=node.name, type=type_, inputs=inputs, **keys)
        layer["signed"], layer["shape"] = signed, _shape(node)
        self.layers.append(layer)
        self.index[node] = len(self.layers) - 1
        return layer

    def maxpool(self, node, x, where, kernel, stride, padding, dilation, ceil_mode, return_indices):
        if dilation not in (1, (1, 1)) or ceil_mode or return_indices:
            raise InputError(f"{where}: dilation, ceil_mode or return_indices set; the bundle's maxpool has none "
                             "of them")
        kernel = pair(kernel, f"{where}: kernel_size")
        stride = pair(stride, f"{where}: stride") if stride is not None else kernel
        self.add(node, "maxpool", [x], self.signed(x), kernel=list(kernel), stride=list(stride),
                 padding=list(pair(padding, f"{where}: padding")))

    def flatten(self, node, x, where):
        before, after = self.layer_shape(x), _shape(node)
        if not (after and len(after) == 2 and after[0] == before[0] and after[1] == math.prod(before[1:])):
            raise InputError(f"{where}: gives shape {after} from {before}; the bundle flattens to [batch, "
                             "features] only (flatten(1), view(x.size(0), -1))")
        self.add(node, "flatten", [x], self.signed(x))

    def layer_shape(self, i):
        return [2] + self.input_shape if i < 0 else self.layers[i]["shape"]

    def cim_signed(self, m, signed_in, where):
        """A CIM layer's input_signed: whether its input can be negative; a cimsim.torch layer keeps its
        own (a warning when negative inputs would quantize to 0) and must have the hardware's widths."""
        if not isinstance(m, self.kinds.cim):
            return signed_in
        state = m.state()
        if self.bits is not None and (state["weight_bits"], state["input_bits"]) != self.bits:
            raise InputError(f"{where}: weight_bits {state['weight_bits']}, input_bits {state['input_bits']} but the "
                             f"hardware has macro.weight_bits {self.bits[0]}, macro.input_bits {self.bits[1]}; "
                             "make them equal")
        if signed_in and not state["input_signed"]:
            self.warnings.append(f"{where}: its input can be negative but the layer was made with "
                                 "input_signed=False, so negative inputs quantize to 0; make it with input_signed=True")
        return state["input_signed"]

    def module_layer(self, node, m):
        where = self.where(node, f"{node.target} ({type(m).__name__})")
        x = self.source(_args(node, ["input"]).get("input"), where)
        signed_in, kinds = self.signed(x), self.kinds
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm, ModuleWrapper)):
            if id(m) in self.seen:
                raise InputError(f"{where}: the module is called a second time (first as {self.seen[id(m)]}); a "
                                 "bundle layer has its own weights: use one module per call")
            self.seen[id(m)] = node.target
        if isinstance(m, (nn.Conv2d, kinds.conv)):
            if isinstance(m, nn.Conv2d):
                if m.dilation != (1, 1) or m.padding_mode != "zeros" or isinstance(m.padding, str):
                    raise InputError(f"{where}: dilation {m.dilation}, padding {m.padding!r} ({m.padding_mode}); "
                                     "CIM convolutions take dilation 1 and numeric zero padding")
                geometry = dict(in_channels=m.in_channels, out_channels=m.out_channels, kernel=list(m.kernel_size),
                                stride=list(m.stride), padding=list(m.padding), groups=m.groups)
            else:
                state = m.state()
                geometry = {k: state[k] for k in ("in_channels", "out_channels", "kernel", "stride", "padding",
                                                  "groups")}
            layer = self.add(node, "conv2d", [x], True, **geometry, input_signed=self.cim_signed(m, signed_in, where))
        elif isinstance(m, (nn.Linear, kinds.linear)):
            if isinstance(m, nn.Linear):
                geometry = dict(in_features=m.in_features, out_features=m.out_features)
            else:
                state = m.state()
                geometry = dict(in_features=state["in_features"], out_features=state["out_features"])
            layer = self.add(node, "linear", [x], True, **geometry, input_signed=self.cim_signed(m, signed_in, where))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, kinds.batchnorm)):
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                if not (m.affine and m.track_running_stats) or m.momentum is None:
                    raise InputError(f"{where}: affine={m.affine}, track_running_stats={m.track_running_stats}, "
                                     f"momentum={m.momentum}; the bundle folds a batch norm with affine parameters "
                                     "and running statistics of a momentum (the defaults)")
                channels = m.num_features
            else:
                channels = m.channels()
            layer = self.add(node, "batchnorm", [x], True, channels=channels)
        elif isinstance(m, nn.ReLU):
            layer = self.add(node, "relu", [x], False)
        elif isinstance(m, (nn.ReLU6, nn.Hardtanh)):
            lo, hi = (0.0, 6.0) if isinstance(m, nn.ReLU6) else (float(m.min_val), float(m.max_val))
            layer = self.add(node, "clip", [x], signed_in and lo < 0, clip_min=lo, clip_max=hi)
        elif isinstance(m, nn.MaxPool2d):
            self.maxpool(node, x, where, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
                         m.return_indices)
            layer = self.layers[-1]
        elif isinstance(m, (nn.AvgPool2d, kinds.avgpool)):
            if isinstance(m, nn.AvgPool2d) and (m.padding not in (0, (0, 0)) or m.ceil_mode or
                                                m.divisor_override is not None):
                raise InputError(f"{where}: padding, ceil_mode or divisor_override set; the bundle's avgpool has "
                                 "none of them")
            kernel = pair(m.kernel_size, f"{where}: kernel_size")
            stride = pair(m.stride, f"{where}: stride") if m.stride is not None else kernel
            layer = self.add(node, "avgpool", [x], signed_in, kernel=list(kernel), stride=list(stride))
        elif isinstance(m, (nn.AdaptiveAvgPool2d, kinds.global_avgpool)):
            if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size not in (1, (1, 1)):
                raise InputError(f"{where}: output size {m.output_size}; the bundle pools globally only "
                                 "(output size 1)")
            layer = self.add(node, "global_avgpool", [x], signed_in)
        elif isinstance(m, nn.Flatten):
            self.flatten(node, x, where)
            layer = self.layers[-1]
        elif isinstance(m, (nn.Dropout, nn.Identity)):
            self.index[node] = x
            return
        else:
            raise InputError(f"{where}: a module the model bundle has no layer for; use Conv2d, Linear, "
                             "BatchNorm, ReLU, ReLU6, Hardtanh, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), "
                             "Flatten, Dropout or Identity")
        layer["module"], layer["path"] = m, node.target

    def function_layer(self, node):
        fn, method = node.target, node.op == "call_method"
        name = fn if method else getattr(fn, "__name__", repr(fn))
        if _shape(node) is None:  # a shape computation (x.size(0), x.shape[0]): no layer
            return
        where = self.where(node, name)
        if fn is torch.cat:
            a = _args(node, ["tensors", "dim"], {"dim": 0})
            if a["dim"] != 1:
                raise InputError(f"{where}: dim {a['dim']}; the bundle concatenates channels (dim 1)")
            inputs = [self.source(t, where) for t in a["tensors"]]
            self.add(node, "concat", inputs, any(self.signed(i) for i in inputs))
            return
        x = self.source(_args(node, ["input"]).get("input"), where)
        if (method and fn == "relu") or fn in _RELU:
            self.add(node, "relu", [x], False)
        elif (method and fn == "add") or fn in _ADD:
            a = _args(node, ["input", "other", "alpha"], {"alpha": 1})
            if a["alpha"] != 1:
                raise InputError(f"{where}: alpha {a['alpha']}; the bundle's add sums its inputs as they are")
            y = self.source(a.get("other"), where)
            self.add(node, "add", [x, y], self.signed(x) or self.signed(y))
        elif (method and fn in _FLATTEN_METHODS) or fn in _FLATTEN:
            self.flatten(node, x, where)
        elif fn is F.max_pool2d:
            a = _args(node, ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"],
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            self.maxpool(node, x, where, a["kernel_size"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"],
                         a["return_indices"])
        elif fn in _CLIP or (method and fn == "clamp"):
            lo, hi = self.clip_bounds(node, fn, where)
            self.add(node, "clip", [x], self.signed(x) and lo < 0, clip_min=lo, clip_max=hi)
        elif fn is F.dropout or (method and fn == "contiguous"):
            self.index[node] = x
        elif fn in (F.avg_pool2d, F.adaptive_avg_pool2d):
            raise InputError(f"{where}: a functional average pool sums in torch's order; use nn.AvgPool2d or "
                             "nn.AdaptiveAvgPool2d(1) modules, which convert() makes sum in the simulator's")
        else:
            raise InputError(f"{where}: an operation the model bundle has no layer for; use relu, add, cat, "
                             "flatten/view(B, -1), max_pool2d, clamp/hardtanh/relu6 or dropout")

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

    def check_output(self, output):
        name = type(self.model).__name__
        if not isinstance(output, torch.fx.Node):
            raise InputError(f"{name}: its forward returns {type(output).__name__}; the bundle's network returns "
                             "one tensor of logits")
        last = self.source(output, f"{name}: its output")
        if last != len(self.layers) - 1:
            raise InputError(f"{name}: its output is not its last layer's; the bundle's network returns the last "
                             "layer's output")
        used, stack = set(), [last]
        while stack:
            i = stack.pop()
            if i >= 0 and i not in used:
                used.add(i)
                stack.extend(self.layers[i]["inputs"])
        unused = [layer["name"] for i, layer in enumerate(self.layers) if i not in used]
        if unused:
            raise InputError(f"{name}: {', '.join(unused)} do not lead to the output; the bundle would simulate "
                             "them for nothing: remove them from the forward")


def layer_graph(model, kinds, input_shape, input_negative, bits=None):
    """(layers, warnings): the bundle's layer graph of `model`'s forward for [C, H, W] = input_shape
    images, in execution order. kinds: cimsim.torch's classes (conv, linear, batchnorm, avgpool,
    global_avgpool, cim, leaves); bits (weight, input): the widths its CIM layers must have."""
    graph = _traced(model, input_shape, kinds.leaves)
    builder = _Builder(model, kinds, bits, input_shape, input_negative)
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise InputError(f"{type(model).__name__}: forward takes {len(inputs)} tensors; the bundle's network takes "
                         "one image batch")
    builder.index[inputs[0]] = -1
    for node in graph.nodes:
        if node.op == "call_module":
            builder.module_layer(node, model.get_submodule(node.target))
        elif node.op in ("call_function", "call_method"):
            builder.function_layer(node)
        elif node.op == "get_attr":
            raise InputError(f"{type(model).__name__}: forward reads the tensor {node.target} directly; the "
                             "bundle's layers hold all the network's tensors")
        elif node.op == "output":
            builder.check_output(node.args[0])
    return builder.layers, builder.warnings
