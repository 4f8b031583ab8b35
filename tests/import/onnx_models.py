"""Small ONNX models built with onnx.helper for the import tests (no PyTorch needed), and a numpy
reference of a quantized bundle (docs/model-bundle.md) to compare `cimsim run` against."""
import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper


def _init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


class Builder:
    """Appends nodes and float32 initializers with seeded random values."""

    def __init__(self, seed=1):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def weight(self, name, shape, scale=0.3):
        self.inits.append(_init(name, (self.rng.standard_normal(shape) * scale).astype(np.float32)))
        return name

    def const(self, name, array):
        self.inits.append(_init(name, array))
        return name

    def node(self, op, inputs, name=None, **attrs):
        self.count += 1
        name = name or f"/{op.lower()}{self.count}/{op}"
        out = f"{name}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, cin, cout, k, name, stride=1, pad=None, group=1, bias=True):
        pad = k // 2 if pad is None else pad
        w = self.weight(f"{name}.weight", (cout, cin // group, k, k))
        ins = [x, w] + ([self.weight(f"{name}.bias", (cout,), 0.1)] if bias else [])
        return self.node("Conv", ins, name=f"/{name}/Conv", kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group)

    def bn(self, x, c, name):
        g = self.const(f"{name}.weight", (1 + 0.1 * self.rng.standard_normal(c)).astype(np.float32))
        b = self.const(f"{name}.bias", (0.1 * self.rng.standard_normal(c)).astype(np.float32))
        m = self.const(f"{name}.running_mean", (0.1 * self.rng.standard_normal(c)).astype(np.float32))
        v = self.const(f"{name}.running_var", (1 + 0.1 * self.rng.random(c)).astype(np.float32))
        return self.node("BatchNormalization", [x, g, b, m, v], name=f"/{name}/BatchNormalization", epsilon=1e-5)

    def relu6(self, x):
        lo = self.const(f"c{self.count}_min", np.array(0, np.float32))
        hi = self.const(f"c{self.count}_max", np.array(6, np.float32))
        return self.node("Clip", [x, lo, hi])

    def model(self, x_name, shape, out, path, opset=13):
        graph = helper.make_graph(
            self.nodes, "test", [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, ["batch"] + list(shape))],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 10])], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        onnx.checker.check_model(m)
        onnx.save(m, path)
        return m


def torch_flatten_chain(b, x):
    """x.view(x.size(0), -1) as torch.onnx.export writes it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    shape = b.node("Shape", [x])
    idx = b.const(f"idx{b.count}", np.array(0, np.int64))
    batch = b.node("Gather", [shape, idx], axis=0)
    axes = b.const(f"axes{b.count}", np.array([0], np.int64))
    batch1 = b.node("Unsqueeze", [batch, axes])
    minus1 = b.const(f"m1_{b.count}", np.array([-1], np.int64))
    target = b.node("Concat", [batch1, minus1], axis=0)
    return b.node("Reshape", [x, target])


def mobilenet_block(path, seed=1):
    """Stem conv + BN + ReLU6, an inverted residual (pointwise, depthwise, pointwise, Add), a Concat of
    the block's output with the stem, global average pooling, a Dropout and a Gemm classifier."""
    b = Builder(seed)
    x = "input"
    stem = b.relu6(b.bn(b.conv(x, 3, 8, 3, "stem", bias=False), 8, "stem_bn"))
    e = b.relu6(b.conv(stem, 8, 16, 1, "expand"))
    d = b.relu6(b.conv(e, 16, 16, 3, "depthwise", group=16))
    p = b.conv(d, 16, 8, 1, "project")
    res = b.node("Add", [p, stem])
    cat = b.node("Concat", [res, stem], axis=1)
    pool = b.node("GlobalAveragePool", [cat])
    flat = torch_flatten_chain(b, pool)
    drop = b.node("Dropout", [flat])
    w = b.weight("fc.weight", (10, 16))
    bias = b.weight("fc.bias", (10,), 0.1)
    out = b.node("Gemm", [drop, w, bias], name="/fc/Gemm", transB=1)
    return b.model(x, [3, 8, 8], out, path)


def small_cnn(path, seed=2):
    """Conv + ReLU + MaxPool + AveragePool + Flatten + MatMul + Add (a bias) + Relu + Gemm, with a Pad
    folded into the second conv."""
    b = Builder(seed)
    c1 = b.node("Relu", [b.conv("input", 1, 4, 3, "conv1")])
    p1 = b.node("MaxPool", [c1], kernel_shape=[2, 2], strides=[2, 2])
    pads = b.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))
    padded = b.node("Pad", [p1, pads], mode="constant")
    c2 = b.node("Relu", [b.conv(padded, 4, 6, 3, "conv2", pad=0)])
    p2 = b.node("AveragePool", [c2], kernel_shape=[2, 2], strides=[2, 2])
    flat = b.node("Flatten", [p2], axis=1)
    w = b.const("fc1.weight_t", (b.rng.standard_normal((6 * 2 * 2, 12)) * 0.3).astype(np.float32))
    mm = b.node("MatMul", [flat, w], name="/fc1/MatMul")
    bias = b.const("fc1.bias", (0.1 * b.rng.standard_normal(12)).astype(np.float32))
    h = b.node("Relu", [b.node("Add", [mm, bias])])
    out = b.node("Gemm", [h, b.weight("fc2.weight", (10, 12)), b.weight("fc2.bias", (10,), 0.1)],
                 name="/fc2/Gemm", transB=1)
    return b.model("input", [1, 8, 8], out, path)


def float_reference(model_path, images):
    """The ONNX model evaluated in float64 with numpy (the supported operators only)."""
    m = onnx.load(model_path)
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) if numpy_helper.to_array(t).dtype.kind == "f"
           else numpy_helper.to_array(t) for t in m.graph.initializer}
    env[m.graph.input[0].name] = images.astype(np.float64)
    for n in m.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        i = [env[v] if v else None for v in n.input]
        op = n.op_type
        if op == "Conv":
            y = conv(i[0], i[1], a.get("strides", [1, 1])[0], a.get("pads", [0] * 4)[0], a.get("group", 1))
            r = y + (i[2][None, :, None, None] if len(i) > 2 else 0)
        elif op == "BatchNormalization":
            s = i[1] / np.sqrt(i[4] + a.get("epsilon", 1e-5))
            r = i[0] * s[None, :, None, None] + (i[2] - i[3] * s)[None, :, None, None]
        elif op == "Clip":
            r = np.clip(i[0], i[1], i[2])
        elif op == "Relu":
            r = np.maximum(i[0], 0)
        elif op == "Add":
            r = i[0] + i[1]
        elif op == "Concat":
            r = np.concatenate(i, axis=a["axis"])
        elif op == "GlobalAveragePool":
            r = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Shape":
            r = np.array(i[0].shape, np.int64)
        elif op == "Gather":
            r = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            r = np.expand_dims(i[0], tuple(i[1]))
        elif op == "Reshape":
            r = i[0].reshape(tuple(int(v) for v in i[1]))
        elif op in ("Dropout", "Identity"):
            r = i[0]
        elif op == "Gemm":
            r = i[0] @ (i[1].T if a.get("transB", 0) else i[1]) + (i[2] if len(i) > 2 else 0)
        elif op == "MatMul":
            r = i[0] @ i[1]
        elif op == "MaxPool":
            r = pool(i[0], a["kernel_shape"][0], a["strides"][0], np.max)
        elif op == "AveragePool":
            r = pool(i[0], a["kernel_shape"][0], a["strides"][0], np.mean)
        elif op == "Pad":
            p = i[1]
            r = np.pad(i[0], [(p[k], p[k + 4]) for k in range(4)])
        elif op == "Flatten":
            r = i[0].reshape(i[0].shape[0], -1)
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = r
    return env[m.graph.output[0].name]


def conv(x, w, stride, pad, group):
    b, c, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((b, o, oh, ow))
    per = o // group
    for oc in range(o):
        g = oc // per
        for i in range(k):
            for j in range(k):
                patch = xp[:, g * cg:(g + 1) * cg, i:i + stride * oh:stride, j:j + stride * ow:stride]
                y[:, oc] += np.einsum("bchw,c->bhw", patch, w[oc, :, i, j])
    return y


def pool(x, k, s, f):
    b, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    y = np.zeros((b, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = f(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return y


def bundle_reference(bundle_dir, images):
    """The bundle's quantized arithmetic (docs/model-bundle.md) with an ideal ADC, in float64 numpy;
    images as the network sees them before normalisation (pixel / 255 or float values)."""
    man = yaml.safe_load(open(f"{bundle_dir}/model.yaml"))
    bits = man["bits"]["input"]
    top = 2 ** bits - 1
    mean = np.array(man["input"]["mean"])[None, :, None, None]
    std = np.array(man["input"]["std"])[None, :, None, None]
    outs = {"input": (images - mean) / std}
    prev = "input"
    for l in man["layers"]:
        ins = [outs[n] for n in l.get("inputs", [prev])]
        t = l["type"]
        x = ins[0]
        if t in ("conv2d", "linear"):
            def arr(key, n):
                v = l.get(key, 0.0)
                return np.load(f"{bundle_dir}/{v}").astype(np.float64) if isinstance(v, str) else np.full(n, float(v))
            w = np.load(f"{bundle_dir}/{l['weight']}").astype(np.float64)
            n = w.shape[0]
            lo = -top if l.get("input_signed", False) else 0
            q = np.clip(np.round(x / l["input_scale"]), lo, top)
            if t == "conv2d":
                assert l["stride"][0] == l["stride"][1] and l["padding"][0] == l["padding"][1]
                y = conv(q, w, l["stride"][0], l["padding"][0], l.get("groups", 1))
                y = y * arr("weight_scale", n)[None, :, None, None] * l["input_scale"] + arr("bias", n)[None, :, None, None]
            else:
                y = q.reshape(q.shape[0], -1) @ w.T * arr("weight_scale", n)[None, :] * l["input_scale"] + arr("bias", n)
            r = y
        elif t == "batchnorm":
            r = x * np.load(f"{bundle_dir}/{l['scale']}")[None, :, None, None] + np.load(f"{bundle_dir}/{l['shift']}")[None, :, None, None]
        elif t == "relu":
            r = np.maximum(x, 0)
        elif t == "clip":
            r = np.clip(x, l["min"], l["max"])
        elif t == "add":
            r = ins[0] + ins[1]
        elif t == "concat":
            r = np.concatenate(ins, axis=1)
        elif t == "global_avgpool":
            r = x.mean(axis=(2, 3))
        elif t == "flatten":
            r = x.reshape(x.shape[0], -1)
        elif t == "maxpool":
            r = pool(x, l["kernel"][0], l["stride"][0], np.max)
        elif t == "avgpool":
            r = pool(x, l["kernel"][0], l["stride"][0], np.mean)
        else:
            raise NotImplementedError(t)
        outs[l["name"]] = r
        prev = l["name"]
    return outs[prev]
