"""cimsim.torch: the trainer's layers in a PyTorch model. The parity tests compare, bit for bit, the
converted model's exact-order double forward with the C++ trainer's network on the exported bundle
and with the simulator (cimsim.run) on it."""

import logging
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from conftest import HW, cli, fashion_mnist_test  # noqa: E402


@pytest.fixture(scope="module")
def ct():
    import cimsim.torch as module

    return module


class SmallNet(nn.Module):
    """Every kind of layer convert() maps: conv, batch norm, relu (module and functional), max and
    average pools, a residual add, global pooling, flatten and two linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.avg = nn.AvgPool2d(2)
        self.conv3 = nn.Conv2d(4, 8, 3, groups=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = torch.relu(x + self.conv2(x))
        x = self.gap(self.conv3(self.avg(x)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def converted(ct, cimsim, mean=(0.0,), std=(1.0,)):
    torch.manual_seed(3)
    return ct.convert(SmallNet(), cimsim.HwConfig.load(HW), input_shape=(1, 28, 28), mean=mean, std=std)


def images(count=64):
    pixels, labels = fashion_mnist_test(count)
    return pixels, torch.from_numpy(pixels.astype(np.float64) / 255), torch.from_numpy(labels)


def train_steps(ct, model, x, y, steps=4, lr=0.01, seed=5):
    torch.manual_seed(seed)
    model.train()
    optimizer = torch.optim.SGD(ct.param_groups(model, weight_decay=1e-4), lr=lr, momentum=0.9)
    for i in range(steps):
        batch = slice(16 * (i % 4), 16 * (i % 4) + 16)
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch].to(torch.float32)), y[batch]).backward()
        optimizer.step()


def exact_logits(ct, model, x):
    model.double()
    ct.set_exact(model)
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.float()
    model.train()
    return out


def test_convert_replaces_layers_and_keeps_the_function(ct, cimsim):
    torch.manual_seed(3)
    plain = SmallNet().eval()
    x = images(8)[1].float()
    with torch.no_grad():
        before = plain(x)
    model = ct.convert(plain, cimsim.HwConfig.load(HW), input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    assert isinstance(model.conv1, ct.CimConv2d) and isinstance(model.fc2, ct.CimLinear)
    assert isinstance(model.bn1, ct.FoldableBatchNorm) and isinstance(model.avg, ct.AvgPool2d)
    assert isinstance(model.gap, ct.GlobalAvgPool2d) and isinstance(model.pool, nn.MaxPool2d)
    assert model.conv2.bias is None or not model.conv2.bias.defined()
    with torch.no_grad():  # stage fp32: ordinary layers (eval batch norm folded: a rounding apart)
        assert torch.allclose(model(x), before, atol=1e-5)
    assert ct.layer_names(model)["conv1"] == "conv1"
    names = {n for n, _ in model.named_parameters()}
    assert {"conv1.conv.weight", "conv1.adc_interval", "fc2.linear.bias", "bn1.weight"} <= names


def test_input_signedness_follows_the_graph(ct, cimsim):
    model = converted(ct, cimsim, mean=(0.5,), std=(0.25,))
    signed = {name: m.state()["input_signed"] for name, m in model.named_children() if isinstance(m, ct.CimConv2d)}
    # conv1 reads the normalised image (negative below the mean); conv2 reads a ReLU's output; conv3 an
    # average of ReLU outputs; fc1 the pooled output of conv3 (no ReLU between), fc2 a ReLU's.
    assert signed == {"conv1": True, "conv2": False, "conv3": False}
    assert converted(ct, cimsim).conv1.state()["input_signed"] is False
    assert model.fc1.state()["input_signed"] is True and model.fc2.state()["input_signed"] is False


def test_qat_trains_and_exports_a_bundle_the_trainer_and_simulator_compute_alike(ct, cimsim, tmp_path):
    model = converted(ct, cimsim)
    pixels, x, y = images()
    ct.set_stage(model, "qat")
    before = model.conv1.weight.detach().clone()
    train_steps(ct, model, x, y)
    assert not torch.equal(model.conv1.weight.detach(), before)
    assert model.conv1.state()["quantized"]
    bundle = ct.export(model, tmp_path / "qat")
    assert [layer["name"] for layer in bundle.layers][:3] == ["conv1", "bn1", "relu"]
    ours = exact_logits(ct, model, x[:16])
    shared = ct.trainer_network(model)  # the trainer's network over the model's own layers
    model.double()
    shared.train(False)
    with torch.no_grad():
        assert torch.equal(shared.forward(x[:16]), ours)
    model.float()
    trainer = ct.trainer_network(bundle=tmp_path / "qat")
    assert torch.equal(trainer.forward(x[:16]), ours)
    ideal = cimsim.HwConfig.load(HW, overrides={"adc.ideal": True})
    sim = cimsim.run(ideal, bundle, pixels[:16])
    assert np.array_equal(sim.logits, ours.numpy())


def test_stage_cim_learns_calibrated_intervals_and_exports_them(ct, cimsim, tmp_path):
    model = converted(ct, cimsim)
    pixels, x, y = images()
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y)
    hw = cimsim.HwConfig.load(HW)
    calib = cimsim.calibrate(hw, ct.export(model, tmp_path / "qat"), pixels, limit=64)
    ct.set_stage(model, "cim", calib=calib)
    start = {name: m.state()["adc_interval"] for name, m in model.named_children() if isinstance(m, ct.CimConv2d)}
    for name, interval in start.items():  # a float parameter: within its rounding
        assert interval == pytest.approx((calib.layers[name]["lo"], calib.layers[name]["hi"]), rel=1e-6)
    train_steps(ct, model, x, y, lr=0.002)
    assert model.conv1.state()["adc_interval"] != start["conv1"]  # learned
    bundle = ct.export(model, tmp_path / "cim")
    ours = exact_logits(ct, model, x[:16])
    trainer = ct.trainer_network(bundle=tmp_path / "cim")
    trainer.put_on_hardware(hw, None, "", "cells")
    trainer.set_exact(True)
    trainer.train(False)
    assert torch.equal(trainer.forward(x[:16]), ours)
    sim = cimsim.run(hw, bundle, pixels[:16])
    assert np.array_equal(sim.logits, ours.numpy())
    assert ours.std() > 0  # a real forward, not a constant


def intervals(ct, model):
    return {name: m.state()["adc_interval"] for name, m in model.named_children() if isinstance(m, ct.CimConv2d)
            or isinstance(m, ct.CimLinear)}


def test_fixed_intervals_and_full_range_warning(ct, cimsim):
    model = converted(ct, cimsim)
    _, x, y = images()
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y, steps=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ct.set_stage(model, "cim", learn_intervals=False)
    assert any("start at the full range" in str(w.message) and "calib=" in str(w.message) for w in caught)
    start = intervals(ct, model)
    train_steps(ct, model, x, y, steps=2)
    assert intervals(ct, model) == start
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ct.set_stage(model, "cim")  # again: the intervals stay, learned from now on, no warning
    assert not caught and intervals(ct, model) == start
    train_steps(ct, model, x, y, steps=2)
    assert intervals(ct, model) != start
    with pytest.raises(cimsim.InputError, match="on the macros already"):
        ct.set_stage(model, "qat")


def test_measured_statistics_feed_stage_cim(ct, cimsim, tmp_path, caplog):
    model = converted(ct, cimsim)
    pixels, x, y = images()
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y)
    hw = cimsim.HwConfig.load(HW, overrides={"device.program_sigma": 0.05})
    bundle = ct.export(model, tmp_path / "qat")
    stats = tmp_path / "stats.json"
    cli("run", "--hw", HW, "--set", "device.program_sigma=0.05", "--model", str(tmp_path / "qat"), "--limit", "16",
        "--stats", str(stats))
    calib = cimsim.calibrate(hw, bundle, pixels, limit=32)
    with caplog.at_level(logging.INFO, logger="cimsim"):
        ct.set_stage(model, "cim", calib=calib, hw_stats=str(stats))
    assert "layer conv1: injected partial-sum noise" in caplog.text and "cell error per level" in caplog.text
    before = model.fc2.weight.detach().clone()
    train_steps(ct, model, x, y, steps=2)
    assert not torch.equal(model.fc2.weight.detach(), before)
    with pytest.raises(cimsim.InputError, match="feedback 'cell'"):
        ct.set_stage(model, "cim", hw_stats=str(stats), feedback="cell")
    with pytest.raises(cimsim.InputError, match="stats-missing.json"):
        ct.set_stage(model, "cim", calib=calib, hw_stats=str(tmp_path / "stats-missing.json"))


def test_noise_injection_is_seeded(ct, cimsim):
    noisy = cimsim.HwConfig.load(HW, overrides={"device.program_sigma": 0.05})

    def trained(seed):
        torch.manual_seed(3)
        model = ct.convert(SmallNet(), noisy, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
        _, x, y = images()
        ct.set_stage(model, "qat")
        train_steps(ct, model, x, y, steps=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ct.set_stage(model, "cim")
        train_steps(ct, model, x, y, steps=2, seed=seed)
        return model.fc2.weight.detach().clone()

    assert torch.equal(trained(7), trained(7))
    assert not torch.equal(trained(7), trained(8))


def test_layers_used_directly(ct, cimsim, tmp_path):
    torch.manual_seed(4)
    conv = ct.CimConv2d(1, 4, 3, stride=2)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), ct.CimLinear(4 * 13 * 13, 10))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ct.convert(model, HW, input_shape=(1, 28, 28), mean=[0.5], std=[0.5])
    # the image is signed: one warning, pointing at the caller
    assert [w.filename for w in caught if "input_signed=False" in str(w.message)] == [__file__]
    assert model[0] is conv  # kept, not replaced
    ct.convert(model, HW, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    pixels, x, y = images()
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y, steps=2)
    bundle = ct.export(model, tmp_path / "direct")
    assert [layer["name"] for layer in bundle.layers] == ["_0", "_1", "_2", "_3"]
    assert ct.layer_names(model) == {"0": "_0", "3": "_3"}
    ours = exact_logits(ct, model, x[:8])
    ideal = cimsim.HwConfig.load(HW, overrides={"adc.ideal": True})
    assert np.array_equal(cimsim.run(ideal, bundle, pixels[:8]).logits, ours.numpy())


def test_state_dict_round_trip(ct, cimsim):
    model = converted(ct, cimsim)
    _, x, y = images()
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y, steps=2)
    torch.manual_seed(9)  # other weights, all overwritten
    fresh = ct.convert(SmallNet(), HW, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    fresh.load_state_dict(model.state_dict())
    ct.set_stage(fresh, "qat")  # the stage is not in the state_dict; the loaded steps are kept
    model.eval()
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(model(x[:8].float()), fresh(x[:8].float()))
    state = model.state_dict()
    del state["conv1.weight_quantizer.step"]
    state["conv1.extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError, match="Missing key.*conv1.weight_quantizer.step.*\n?.*Unexpected key.*conv1.extra"):
        fresh.load_state_dict(state)


def test_batch_norm_eps_stays_double(ct, cimsim):
    model = converted(ct, cimsim)
    model.double()
    model.float()
    assert model.bn1._buffers["eps"].dtype == torch.float64
    assert model.conv1.weight.dtype == torch.float32


class Branchy(nn.Module):
    """concat, clips (module-free forms), dropout, keyword arguments, x.shape[0], signed inputs."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 3, 3, padding=1)
        self.b = nn.Conv2d(1, 2, 3, padding=1)
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(5 * 14 * 14, 10)

    def forward(self, x):
        y = torch.cat([F.relu6(self.a(x)), torch.clamp(self.b(x), -1.0, 1.0)], dim=1)
        y = F.max_pool2d(self.drop(y), kernel_size=2)
        y = torch.flatten(input=y, start_dim=1) if self.training else y.view(y.shape[0], -1)
        return self.fc(y)


def test_branches_clips_and_signed_inputs_export_exactly(ct, cimsim, tmp_path):
    torch.manual_seed(6)
    model = ct.convert(Branchy(), HW, input_shape=(1, 28, 28), mean=[0.5], std=[0.5])
    assert [model.a.state()["input_signed"], model.b.state()["input_signed"], model.fc.state()["input_signed"]] \
        == [True, True, True]  # the image below its mean; clamp(-1, 1) keeps negatives
    pixels, _, y = images()
    x = (torch.from_numpy(pixels.astype(np.float64)) / 255 - 0.5) / 0.5
    ct.set_stage(model, "qat")
    train_steps(ct, model, x, y, steps=2)
    bundle = ct.export(model, tmp_path / "branchy")
    assert [layer["type"] for layer in bundle.layers] == ["conv2d", "clip", "conv2d", "clip", "concat", "maxpool",
                                                          "flatten", "linear"]
    ours = exact_logits(ct, model, x[:16])
    ideal = cimsim.HwConfig.load(HW, overrides={"adc.ideal": True})
    assert np.array_equal(cimsim.run(ideal, bundle, pixels[:16]).logits, ours.numpy())


class Unsupported(nn.Module):
    def __init__(self, op, features=2 * 26 * 26):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(features, 10)
        self.op = op

    def forward(self, x):
        return self.fc(self.op(self.conv(x)).flatten(1))


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(self.conv(self.conv(x)).flatten(1))


class Unused(Twice):
    def forward(self, x):
        self.conv(x)
        return self.fc(x.flatten(1))


class Pair(Twice):
    def forward(self, x):
        return self.fc(x.flatten(1)), x


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x.flatten(1))
        return -self.fc(x.flatten(1))


@pytest.mark.parametrize("model, message", [
    (Unsupported(torch.sigmoid), "sigmoid.*no layer for"),
    (Unsupported(lambda t: F.avg_pool2d(t, 1)), "functional average pool"),
    (Unsupported(lambda t: t.view(t.size(0), 2, -1)), "flattens to \\[batch, features\\] only"),
    (Unsupported(lambda t: t.view(-1, 26 * 26), 26 * 26), "gives shape \\[4, 676\\] from \\[2, 2, 26, 26\\]"),
    (Unsupported(lambda t: t.view(-1, 52)), "fails at fc on a \\[2, 1, 28, 28\\] batch of zeros \\(RuntimeError: mat1 "
     "and mat2 shapes cannot be multiplied \\(52x52 and 1352x10\\)\\); check input_shape and the forward$"),
    (Unsupported(lambda t: torch.add(t, t, alpha=2)), "alpha 2"),
    (Unsupported(lambda t: t + 1), "reads 1, not a tensor computed from the network's input"),
    (Unsupported(nn.AvgPool2d(1, divisor_override=3)), "divisor_override"),
    (Unsupported(nn.BatchNorm2d(2, momentum=None)), "momentum=None"),
    (Twice(), "conv \\(Conv2d\\) \\(conv_1\\): the module is called a second time \\(first as conv\\)"),
    (Unused(), "Unused: conv do not lead to the output"),
    (Pair(), "returns tuple"),
    (DataDependent(), "torch.fx cannot trace"),
])
def test_unsupported_models_raise_with_the_reason(ct, cimsim, model, message):
    with pytest.raises(cimsim.InputError, match=message):
        ct.convert(model, HW, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])


def test_bad_input(ct, cimsim, tmp_path):
    hw = cimsim.HwConfig.load(HW)
    bad = nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.Flatten(), nn.Linear(2 * 24 * 24, 10))
    with pytest.raises(cimsim.InputError, match="dilation 1"):
        ct.convert(bad, hw, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    with pytest.raises(cimsim.InputError, match="mean has 2 entries for 1 channels"):
        ct.convert(SmallNet(), hw, input_shape=(1, 28, 28), mean=[0.0, 0.0], std=[1.0])
    with pytest.raises(cimsim.InputError, match="std .* above 0"):
        ct.convert(SmallNet(), hw, input_shape=(1, 28, 28), mean=[0.0], std=[0.0])
    with pytest.raises(cimsim.InputError, match="input_shape"):
        ct.convert(SmallNet(), hw, input_shape=(28, 28), mean=[0.0], std=[1.0])
    with pytest.raises(cimsim.InputError, match="fails at conv3 on a \\[2, 1, 5, 5\\] batch.*Kernel size can't be greater"):
        ct.convert(SmallNet(), hw, input_shape=(1, 5, 5), mean=[0.0], std=[1.0])
    with pytest.raises(cimsim.InputError, match="rram-missing.yaml"):
        ct.convert(SmallNet(), "configs/hw/rram-missing.yaml", input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
    with pytest.raises(cimsim.InputError, match="groups = 3"):
        ct.CimConv2d(4, 8, 3, groups=3)
    with pytest.raises(cimsim.InputError, match="weight_bits = 1"):
        ct.CimLinear(4, 8, weight_bits=1)
    with pytest.raises(cimsim.InputError, match="was not converted"):
        ct.export(SmallNet(), tmp_path / "b")
    model = converted(ct, cimsim)
    with pytest.raises(cimsim.InputError, match="not quantized; call cimsim.torch.set_stage"):
        ct.export(model, tmp_path / "b")
    assert not (tmp_path / "b").exists()
    with pytest.raises(cimsim.InputError, match="stage 'gpu'"):
        ct.set_stage(model, "gpu")
    with pytest.raises(cimsim.InputError, match="calib-missing.yaml"):
        ct.set_stage(model, "cim", calib=str(tmp_path / "calib-missing.yaml"))
    model.avg = nn.AvgPool2d(2)  # replaced after convert: would sum in torch's order
    with pytest.raises(cimsim.InputError, match="avg were added after convert"):
        ct.set_stage(model, "qat")
    direct = nn.Sequential(nn.Flatten(), ct.CimLinear(784, 10, weight_bits=8))
    with pytest.raises(cimsim.InputError, match="weight_bits 8.*macro.weight_bits 4"):
        ct.convert(direct, hw, input_shape=(1, 28, 28), mean=[0.0], std=[1.0])
