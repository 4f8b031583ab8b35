"""cimsim import (docs/import.md): ONNX graphs built here with onnx.helper, imported with post-training
quantization, run by `cimsim run` with an ideal ADC and compared with a numpy reference of the quantized
graph; and every kind of bad input: one error, exit 2, nothing written."""
import os
import subprocess

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

import onnx_models as om

CIMSIM = os.environ["CIMSIM"]
SOURCE = os.environ["CIMSIM_SOURCE_DIR"]
HW = f"{SOURCE}/configs/hw/rram-neurosim-128.yaml"
HW4 = f"{SOURCE}/configs/hw/rram-neurosim-128-4b.yaml"
EIGHT_BITS = ["--set", "macro.weight_bits=8", "--set", "macro.input_bits=8"]


def cimsim(*args, expect=0):
    p = subprocess.run([CIMSIM, *args], capture_output=True, text=True)
    assert p.returncode == expect, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x3.npy", rng.random((24, 3, 8, 8)).astype(np.float32))
    np.save(tmp_path / "x1.npy", (rng.random((24, 1, 8, 8)) * 255).astype(np.uint8))
    np.save(tmp_path / "y.npy", rng.integers(0, 10, 24))
    return tmp_path


def import_and_run(tmp_path, model, images, extra=()):
    bundle, out = tmp_path / "bundle", tmp_path / "run"
    spec = f"npy:{images},{tmp_path / 'y.npy'}"
    cimsim("import", str(model), "--out", str(bundle), "--data", spec, "--calib-images", "24", *extra)
    cimsim("-q", "run", "--hw", HW, "--model", str(bundle), "--data", spec, *EIGHT_BITS, "--set", "adc.ideal=true",
           "--out", str(out))
    return bundle, np.load(out / "logits.npy")


def test_mobilenet_block_runs_as_its_quantized_graph(data):
    """Depthwise + pointwise + ReLU6 + residual Add + Concat + BatchNorm folded + the Shape/Gather/
    Unsqueeze/Concat/Reshape chain + Dropout, on signed (normalised) images."""
    model = data / "mb.onnx"
    om.mobilenet_block(str(model))
    bundle, logits = import_and_run(data, model, data / "x3.npy", ["--mean", "0.5", "--std", "0.25"])
    man = yaml.safe_load(open(bundle / "model.yaml"))
    layers = {l["name"]: l for l in man["layers"]}
    assert layers["stem"]["input_signed"] is True            # normalised images can be negative
    assert "input_signed" not in layers["expand"]             # after a ReLU6 they cannot
    assert layers["depthwise"]["groups"] == 16
    assert not any(l["type"] == "batchnorm" for l in man["layers"])  # folded into the stem
    assert [l["type"] for l in man["layers"]].count("clip") == 3
    assert any(l["type"] == "concat" for l in man["layers"])
    x = np.load(data / "x3.npy").astype(np.float64)
    ref = om.bundle_reference(str(bundle), x)
    np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    # 8-bit post-training quantization stays close to the float model.
    fl = om.float_reference(str(model), (x - 0.5) / 0.25)
    assert np.abs(fl - logits).max() < 0.05 * np.abs(fl).max()
    assert (fl.argmax(1) == logits.argmax(1)).mean() >= 0.8


def test_small_cnn_with_pad_matmul_and_pooling(data):
    model = data / "cnn.onnx"
    om.small_cnn(str(model))
    bundle, logits = import_and_run(data, model, data / "x1.npy",
                                    ["--input-method", "mse", "--weight-method", "max"])
    man = yaml.safe_load(open(bundle / "model.yaml"))
    conv2 = next(l for l in man["layers"] if l["name"] == "conv2")
    assert conv2["padding"] == [1, 1]  # the Pad node folded into it
    x = np.load(data / "x1.npy").astype(np.float64) / 255
    ref = om.bundle_reference(str(bundle), x)
    np.testing.assert_allclose(logits, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    fl = om.float_reference(str(model), x)
    assert np.abs(fl - logits).max() < 0.05 * np.abs(fl).max()


def test_weight_steps_max_are_the_channel_maxima(data):
    model = data / "cnn.onnx"
    om.small_cnn(str(model))
    bundle = data / "b"
    cimsim("import", str(model), "--out", str(bundle), "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}",
           "--weight-method", "max", "--weight-bits", "4", "--input-bits", "4")
    w = numpy_helper.to_array(next(t for t in onnx.load(str(model)).graph.initializer if t.name == "conv1.weight"))
    steps = np.load(bundle / "conv1.wscale.npy")
    np.testing.assert_allclose(steps, np.abs(w).reshape(4, -1).max(1) / 7, rtol=1e-6)
    q = np.load(bundle / "conv1.weight.npy")
    assert np.abs(q).max() == 7 and np.array_equal(q, np.clip(np.round(w / steps[:, None, None, None]), -7, 7))


def qdq_model(path):
    """A conv whose weight is DequantizeLinear(int8, per-channel steps) and whose input passes a
    QuantizeLinear/DequantizeLinear pair: the importer keeps both steps."""
    rng = np.random.default_rng(3)
    wq = rng.integers(-127, 128, (4, 1, 3, 3)).astype(np.int8)
    ws = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    inits = [numpy_helper.from_array(wq, "c.wq"), numpy_helper.from_array(ws, "c.ws"),
             numpy_helper.from_array(np.zeros(4, np.int8), "c.wz"),
             numpy_helper.from_array(np.array(0.004, np.float32), "x.s"),
             numpy_helper.from_array(np.array(0, np.uint8), "x.z"),
             numpy_helper.from_array(rng.standard_normal((10, 4 * 8 * 8)).astype(np.float32), "fc.weight")]
    nodes = [helper.make_node("DequantizeLinear", ["c.wq", "c.ws", "c.wz"], ["w"], axis=0, name="/c/dq"),
             helper.make_node("QuantizeLinear", ["input", "x.s", "x.z"], ["xq"], name="/q"),
             helper.make_node("DequantizeLinear", ["xq", "x.s", "x.z"], ["xd"], name="/dq"),
             helper.make_node("Conv", ["xd", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="/c/Conv"),
             helper.make_node("Relu", ["c"], ["r"], name="/relu/Relu"),
             helper.make_node("Flatten", ["r"], ["f"], axis=1, name="/flatten/Flatten"),
             helper.make_node("Gemm", ["f", "fc.weight"], ["out"], transB=1, name="/fc/Gemm")]
    g = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return wq, ws


def test_quantized_onnx_keeps_its_steps(data):
    wq, ws = qdq_model(str(data / "q.onnx"))
    bundle = data / "b"
    cimsim("import", str(data / "q.onnx"), "--out", str(bundle), "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}")
    man = yaml.safe_load(open(bundle / "model.yaml"))
    clip, conv = man["layers"][0], man["layers"][1]
    assert clip["type"] == "clip" and clip["min"] == 0 and clip["max"] == pytest.approx(255 * 0.004)  # uint8 saturation
    assert conv["input_scale"] == pytest.approx(0.004, rel=1e-7) and "input_signed" not in conv
    np.testing.assert_allclose(np.load(bundle / conv["weight_scale"]), ws, rtol=1e-7)
    assert np.array_equal(np.load(bundle / conv["weight"]), wq)
    p = cimsim("import", str(data / "q.onnx"), "--out", str(data / "b4"), "--weight-bits", "4",
               "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}", expect=2)
    assert "import with --weight-bits 8 or more" in p.stderr and not (data / "b4").exists()


def bad_graph(path, op="Sigmoid", dynamic=False, missing=False):
    w = numpy_helper.from_array(np.ones((10, 64), np.float32), "fc.weight")
    nodes = [helper.make_node("Flatten", ["input"], ["f"], axis=1, name="/flatten/Flatten"),
             helper.make_node(op, ["f"], ["s"], name="/act/" + op),
             helper.make_node("Gemm", ["s", "fc.weight" if not missing else "nowhere"], ["out"], transB=1,
                              name="/fc/Gemm")]
    shape = [1, 1, "height" if dynamic else 8, 8]
    g = helper.make_graph(nodes, "bad", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


@pytest.mark.parametrize("case,expected", [
    ("unsupported", "node '/act/Sigmoid' (Sigmoid): operator Sigmoid is not supported; supported: Conv, Gemm"),
    ("dynamic", "dimension 2 is dynamic ('height')"),
    ("missing", "input 'nowhere' is not an initializer or an earlier node's output"),
    ("corrupt", "not a readable ONNX model"),
    ("truncated", "onnx"),
    ("empty", "not a readable ONNX model"),
    ("absent", "cannot open the ONNX file"),
])
def test_bad_models_give_one_error_and_no_output(data, case, expected):
    path = data / "m.onnx"
    if case in ("unsupported", "dynamic", "missing"):
        bad_graph(str(path), dynamic=case == "dynamic", missing=case == "missing",
                  op="Sigmoid" if case == "unsupported" else "Relu")
    elif case == "corrupt":
        path.write_bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    elif case == "truncated":
        om.mobilenet_block(str(path))
        path.write_bytes(path.read_bytes()[:1500])
    elif case == "empty":
        path.write_bytes(b"")
    out = data / "never"
    p = cimsim("import", str(path), "--out", str(out), "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}", expect=2)
    assert p.stderr.count("error:") == 1 and str(path) in p.stderr and expected in p.stderr, p.stderr
    assert not out.exists() and not (data / "never.partial").exists()


def out_of_range_graph(path, case):
    """A graph whose shape, index or window numbers are out of range (found by fuzz_onnx: a reshape target
    of 2^63 converted to int64 was undefined behaviour)."""
    b = om.Builder()
    x = "input"
    if case == "reshape_activation":
        x = b.node("Reshape", [x, b.const("shape", np.array([1, 2**63 - 1], np.int64))])
    elif case in ("reshape_constant", "reshape_constant_size"):
        target = [-5, 2] if case == "reshape_constant" else [2**39, 2**39]
        w = b.node("Reshape", [b.weight("w", (640,)), b.const("shape", np.array(target, np.int64))])
        x = b.node("Flatten", [x], axis=1)
        x = b.node("Gemm", [x, w], transB=1)
    elif case == "gather_index":
        shp = b.node("Shape", [x])
        b.node("Gather", [shp, b.const("idx", np.array(1e20))])
    elif case == "conv_pads":
        x = b.conv(x, 1, 2, 3, "c", pad=70000)
    x = b.node("Flatten", [x], axis=1)
    w = b.weight("fc.weight", (10, 64))
    b.node("Gemm", [x, w], name="/fc/Gemm", transB=1)
    b.nodes[-1].output[0] = "out"
    g = helper.make_graph(b.nodes, "range", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], b.inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


@pytest.mark.parametrize("case,expected", [
    ("reshape_activation", "reshape target 9223372036854775808.000000; give whole numbers within +-2^40"),
    ("reshape_constant", "reshape target -5; give sizes >= 0 or one -1"),
    ("reshape_constant_size", "reshapes a constant of 640 elements to more"),
    ("gather_index", "index 100000000000000000000.000000; give whole numbers within +-2^40"),
    ("conv_pads", "window size, stride or pad 70000; give values from 0 to 65536"),
])
def test_out_of_range_numbers_in_a_graph(data, case, expected):
    path = data / "m.onnx"
    out_of_range_graph(str(path), case)
    out = data / "never"
    p = cimsim("import", str(path), "--out", str(out), "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}", expect=2)
    assert p.stderr.count("error:") == 1 and expected in p.stderr, p.stderr
    assert not out.exists()


def test_final_softmax_is_dropped_with_a_warning(data):
    w = numpy_helper.from_array(np.ones((10, 64), np.float32) * 0.01, "fc.weight")
    nodes = [helper.make_node("Flatten", ["input"], ["f"], axis=1, name="/flatten/Flatten"),
             helper.make_node("Gemm", ["f", "fc.weight"], ["z"], transB=1, name="/fc/Gemm"),
             helper.make_node("Softmax", ["z"], ["out"], axis=1, name="/softmax/Softmax")]
    g = helper.make_graph(nodes, "sm", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(data / "sm.onnx"))
    p = cimsim("import", str(data / "sm.onnx"), "--out", str(data / "b"), "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}")
    assert "(Softmax) ends the graph" in p.stdout + p.stderr
    assert [l["type"] for l in yaml.safe_load(open(data / "b" / "model.yaml"))["layers"]] == ["flatten", "linear"]
    # A softmax inside the graph is still an unsupported operator.
    nodes[2] = helper.make_node("Softmax", ["z"], ["s"], axis=1, name="/softmax/Softmax")
    nodes.append(helper.make_node("Relu", ["s"], ["out"], name="/relu/Relu"))
    g = helper.make_graph(nodes, "sm", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(data / "sm2.onnx"))
    p = cimsim("import", str(data / "sm2.onnx"), "--out", str(data / "c"), "--data",
               f"npy:{data / 'x1.npy'},{data / 'y.npy'}", expect=2)
    assert "operator Softmax is not supported" in p.stderr


@pytest.mark.parametrize("args,expected", [
    (["--mean", "0.1,0.2"], "2 values for a 1-channel input"),
    (["--std", "0"], "standard deviations must be positive"),
    (["--mean", "abc"], "'abc' is not a number"),
])
def test_bad_options(data, args, expected):
    om.small_cnn(str(data / "cnn.onnx"))
    p = cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "o"),
               "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}", *args, expect=2)
    assert expected in p.stderr and not (data / "o").exists()


def test_out_never_replaces_a_directory_that_is_not_a_bundle(data):
    om.small_cnn(str(data / "cnn.onnx"))
    spec = f"npy:{data / 'x1.npy'},{data / 'y.npy'}"
    (data / "mine").mkdir()
    (data / "mine" / "notes.txt").write_text("keep me")
    p = cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "mine"), "--data", spec, expect=2)
    assert "exists and is not a model bundle" in p.stderr and (data / "mine" / "notes.txt").exists()
    p = cimsim("import", str(data / "cnn.onnx"), "--out", ".", "--data", spec, expect=2)
    assert "not a bundle directory name" in p.stderr
    cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "b") + "/", "--data", spec)
    cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "b"), "--data", spec)  # a bundle: replaced
    assert (data / "b" / "model.yaml").exists() and not (data / "b.partial").exists()


def test_images_of_the_wrong_size(data):
    om.mobilenet_block(str(data / "mb.onnx"))
    p = cimsim("import", str(data / "mb.onnx"), "--out", str(data / "o"),
               "--data", f"npy:{data / 'x1.npy'},{data / 'y.npy'}", expect=2)
    assert "the model takes 3x8x8 images" in p.stderr and not (data / "o").exists()


def test_npy_data_errors(data):
    np.save(data / "bad.npy", np.zeros((4, 8, 8), np.float32))
    om.small_cnn(str(data / "cnn.onnx"))
    p = cimsim("-q", "run", "--hw", HW4, "--model", f"{SOURCE}/configs/models/lenet5-fmnist-4b",
               "--data", f"npy:{data / 'bad.npy'},{data / 'y.npy'}", expect=2)
    assert "expected a non-empty N x C x H x W array" in p.stderr
    np.save(data / "few.npy", np.zeros(3, np.int64))
    p = cimsim("-q", "run", "--hw", HW4, "--model", f"{SOURCE}/configs/models/lenet5-fmnist-4b",
               "--data", f"npy:{data / 'x1.npy'},{data / 'few.npy'}", expect=2)
    assert "3 labels for 24 images" in p.stderr


TRAINER = os.path.join(os.path.dirname(CIMSIM), "cimsim-train")


@pytest.mark.skipif(not os.path.exists(TRAINER), reason="the trainer is built only with LibTorch")
def test_train_stages_from_an_imported_bundle(data):
    """cimsim train --from BUNDLE builds the network from the bundle's graph (here at other bits than
    the import's); --resume and the next stage's --from OUT keep that graph; the exported bundles run."""
    om.mobilenet_block(str(data / "mb.onnx"))
    spec = f"{data / 'x3.npy'},{data / 'y.npy'}"
    cimsim("import", str(data / "mb.onnx"), "--out", str(data / "imported"), "--data", f"npy:{spec}",
           "--mean", "0.5", "--std", "0.25")
    (data / "e.yaml").write_text(
        "name: imported\nseed: 1\nthreads: 2\nnetwork: {arch: lenet5}\n"
        f"data: {{set: npy, train: '{spec}', test: '{spec}'}}\n"
        "bits: {weight: 4, input: 4}\noptimizer: {type: sgd, lr: 0.01}\n"
        "schedule: {epochs: 2, batch_size: 8}\nqat: {epochs: 2}\ncim: {epochs: 1, lr: 0.001}\n")
    qat = data / "qat"
    cimsim("train", "--config", str(data / "e.yaml"), "--out", str(qat), "--stage", "qat", "--from",
           str(data / "imported"), "--stop-after", "1", "-q")
    cimsim("train", "--config", str(data / "e.yaml"), "--out", str(qat), "--stage", "qat", "--resume", "-q")
    man = yaml.safe_load(open(qat / "bundle" / "model.yaml"))
    imported = yaml.safe_load(open(data / "imported" / "model.yaml"))
    assert man["bits"] == {"weight": 4, "input": 4}
    assert [l["name"] for l in man["layers"]] == [l["name"] for l in imported["layers"]]
    assert man["input"]["mean"] == imported["input"]["mean"]
    stem = next(l for l in man["layers"] if l["name"] == "stem")
    assert stem["input_signed"] is True and next(l for l in man["layers"] if l["name"] == "depthwise")["groups"] == 16
    hw4 = f"{SOURCE}/configs/hw/rram-neurosim-128-4b.yaml"
    cimsim("train", "--config", str(data / "e.yaml"), "--out", str(data / "cim"), "--stage", "cim", "--from",
           str(qat), "--hw", hw4, "-q")
    for bundle in (qat / "bundle", data / "cim" / "cim-bundle"):
        cimsim("-q", "run", "--hw", hw4, "--model", str(bundle), "--data", f"npy:{spec}", "--out",
               str(bundle) + "-run")
        assert np.load(str(bundle) + "-run/logits.npy").shape == (24, 10)
    # cimsim flow from the import (flow.model): no fp32 step, every other step on the npy data.
    text = (data / "e.yaml").read_text() + (
        f"flow: {{hw: {hw4}, model: {data / 'imported'}, calibration: {{images: 24}}, stats_images: 24}}\n")
    (data / "f.yaml").write_text(text)
    cimsim("-q", "flow", str(data / "f.yaml"), "--out", str(data / "flow"))
    assert not (data / "flow" / "fp32").exists()
    report = (data / "flow" / "report" / "report.md").read_text()
    assert "fp32 none (started from a bundle, flow.model)" in report and "24 images" in report


def test_wrong_normalisation_is_flagged(data):
    """A float model that misclassifies most calibration images (here: random labels) gets a warning
    naming --mean/--std and --data."""
    om.small_cnn(str(data / "cnn.onnx"))
    np.save(data / "x1big.npy", np.repeat(np.load(data / "x1.npy"), 3, axis=0))
    np.save(data / "ybig.npy", np.repeat(np.load(data / "y.npy"), 3))
    p = cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "b"), "--data",
               f"npy:{data / 'x1big.npy'},{data / 'ybig.npy'}")
    out = p.stdout + p.stderr
    assert "warning: the float model classifies only" in out and "check --mean and --std" in out


@pytest.mark.parametrize("model", sorted(os.listdir(f"{SOURCE}/configs/models")))
def test_every_shipped_model_runs(model, tmp_path):
    """Every bundle in configs/models loads and runs (5 images) on a preset of its bits."""
    bits = yaml.safe_load(open(f"{SOURCE}/configs/models/{model}/model.yaml"))["bits"]
    hw = {4: f"{SOURCE}/configs/hw/rram-repro-4b-var.yaml", 8: f"{SOURCE}/configs/hw/rram-neurosim-128.yaml"}
    cimsim("-q", "run", "--hw", hw[bits["weight"]], "--model", f"{SOURCE}/configs/models/{model}", "--limit", "5",
           "--out", str(tmp_path / "run"))
    assert np.load(tmp_path / "run" / "logits.npy").shape == (5, 10)


def test_sweep_and_calibrate_on_npy_data(data):
    """--data npy: in cimsim calibrate and in a sweep file, whose two file names are each relative to it."""
    om.small_cnn(str(data / "cnn.onnx"))
    spec = f"npy:{data / 'x1.npy'},{data / 'y.npy'}"
    cimsim("import", str(data / "cnn.onnx"), "--out", str(data / "b"), "--data", spec)
    cimsim("-q", "calibrate", "--hw", HW, "--model", str(data / "b"), "--data", spec, "--limit", "10",
           "--out", str(data / "calib.yaml"))
    assert "npy:" in (data / "calib.yaml").read_text()
    (data / "s.yaml").write_text(
        f"name: npy\nhw: {HW}\nmodel: b\ndata: npy:x1.npy,y.npy\nsplit: test\nlimit: 5\n"
        "vary:\n  macro.adc_bits: [4, 5]\ncombine: product\nseeds: {first: 1, count: 1}\n")
    cimsim("-q", "sweep", str(data / "s.yaml"), "--out", str(data / "sweep"), "--jobs", "1")
    rows = (data / "sweep" / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 3
