"""cimsim.run: the logits and statistics of `cimsim run`, image arrays, progress, logging, the GIL,
repeated runs in one process, and bad input."""

import json
import logging
import threading
import time

import numpy as np
import pytest

from conftest import HW, MODEL, VARIATION_HW, cli, cli_error, fashion_mnist_test

VARIATION = {"device.program_sigma": 0.05}


def cli_run(tmp_path, *args):
    out = tmp_path / "cli-run"
    cli("run", "--model", MODEL, "--out", str(out), *args)
    return np.load(out / "logits.npy"), json.load(open(out / "stats.json"))


@pytest.mark.parametrize("overrides", [{}, VARIATION, {"adc.ideal": True}])
def test_equals_the_command_line(cimsim, tmp_path, overrides):
    hw = cimsim.HwConfig.load(HW, overrides=overrides)
    result = cimsim.run(hw, MODEL, limit=48, seed=5, batch=16)
    sets = [x for o in hw.overrides for x in ("--set", o)]
    logits, stats = cli_run(tmp_path, "--hw", HW, "--limit", "48", "--seed", "5", "--batch", "16", *sets)
    np.testing.assert_array_equal(result.logits, logits)
    mine = result.stats
    for key in ["images", "correct", "accuracy", "cycles_per_image", "latency_cycles", "energy_per_image_pj",
                "energy_pj", "macs_per_image", "tops_per_watt", "layers", "config", "seed", "model"]:
        assert mine[key] == stats[key], key
    assert result.accuracy == stats["accuracy"] and result.correct == stats["correct"]
    assert result.cycles_per_image == stats["cycles_per_image"]
    assert result.energy_per_image_pj == stats["energy_per_image_pj"]
    assert result.layers == stats["layers"]
    assert list(result.predictions) == list(np.argmax(logits, axis=1))
    assert mine["inputs"] == {"hw": HW, "model": MODEL, "data": "fashion-mnist", "split": "test"}


def test_shape_only_networks_equal_the_command_lines(cimsim, tmp_path):
    arch = cimsim.architecture("lenet5", HW, width=0.5, seed=3)
    out = tmp_path / "arch"
    cli("run", "--hw", HW, "--model", "arch:lenet5:0.5", "--seed", "3", "--limit", "8", "--out", str(out))
    result = cimsim.run(HW, arch, limit=8, seed=3)
    np.testing.assert_array_equal(result.logits, np.load(out / "logits.npy"))
    assert result.cycles_per_image == json.load(open(out / "stats.json"))["cycles_per_image"]
    assert arch.input_shape == (1, 28, 28) and arch.classes == 10
    random = cimsim.Bundle.load(MODEL).shape_only(cimsim.HwConfig.load(HW), 3)
    out = tmp_path / "shape-only"
    cli("run", "--hw", HW, "--model", MODEL, "--shape-only", "--seed", "3", "--limit", "8", "--out", str(out))
    np.testing.assert_array_equal(cimsim.run(HW, random, limit=8, seed=3).logits, np.load(out / "logits.npy"))
    assert not np.array_equal(cimsim.run(HW, MODEL, limit=8, seed=3).logits, np.load(out / "logits.npy"))
    with pytest.raises(cimsim.InputError) as python:
        cimsim.architecture("lenet7", HW)
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", "arch:lenet7", "--limit", "1")
    with pytest.raises(cimsim.InputError, match="the width multiplier must be in \\(0, 16\\]"):
        cimsim.architecture("vgg8", HW, width=-1)
    with pytest.raises(cimsim.InputError, match="input_shape"):
        cimsim.architecture("vgg8", HW, input_shape=(28, 28))


def test_image_arrays_give_the_data_sets_numbers(cimsim):
    images, labels = fashion_mnist_test(40)
    hw = cimsim.HwConfig.load(HW, overrides=VARIATION)
    named = cimsim.run(hw, MODEL, limit=40, seed=2)
    as_pixels = cimsim.run(hw, MODEL, images, labels, seed=2)
    np.testing.assert_array_equal(as_pixels.logits, named.logits)
    assert as_pixels.accuracy == named.accuracy and as_pixels.stats["inputs"]["data"] == "array"
    as_floats = cimsim.run(hw, MODEL, images.astype(np.float32) / np.float32(255), labels, seed=2)
    assert as_floats.logits.shape == (40, 10)
    unlabelled = cimsim.run(hw, MODEL, images[:8], seed=2)
    assert unlabelled.accuracy is None and unlabelled.correct is None
    np.testing.assert_array_equal(unlabelled.logits, named.logits[:8])
    few = cimsim.run(hw, MODEL, images, labels, seed=2, limit=5)
    assert few.images == 5


def test_load_images_reads_the_data_sets(cimsim):
    images, labels = fashion_mnist_test(40)
    loaded, loaded_labels = cimsim.load_images("fashion-mnist", split="test", limit=40)
    assert loaded.dtype == np.uint8 and loaded.shape == (40, 1, 28, 28) and loaded_labels.dtype == np.int64
    np.testing.assert_array_equal(loaded, images)
    np.testing.assert_array_equal(loaded_labels, labels)
    train, _ = cimsim.load_images(limit=3)
    assert train.shape == (3, 1, 28, 28) and not np.array_equal(train, images[:3])
    with pytest.raises(cimsim.InputError, match="split 'val'"):
        cimsim.load_images(split="val")
    with pytest.raises(cimsim.InputError, match="limit = 0"):
        cimsim.load_images(limit=0)
    with pytest.raises(cimsim.InputError) as python:
        cimsim.load_images("mnist:/nonexistent", split="test")
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", MODEL, "--data", "mnist:/nonexistent")


def test_runs_repeat_in_one_process(cimsim):
    hw = cimsim.HwConfig.load(VARIATION_HW)
    model = cimsim.Bundle.load(MODEL)
    hw_model = cimsim.HwConfig.load(HW, overrides=VARIATION)
    first = cimsim.run(hw_model, model, limit=24, seed=9)
    other_chip = cimsim.run(hw_model, model, limit=24, seed=10)
    again = cimsim.run(hw_model, model, limit=24, seed=9)
    np.testing.assert_array_equal(first.logits, again.logits)
    assert not np.array_equal(first.logits, other_chip.logits)
    assert first.cycles_per_image == again.cycles_per_image
    assert hw.name  # another preset loads between runs too


def test_progress_and_interruption(cimsim):
    calls = []
    cimsim.run(HW, MODEL, limit=40, batch=16, progress=lambda done, count: calls.append((done, count)))
    assert calls == [(16, 40), (32, 40), (40, 40)]

    class Stop(Exception):
        pass

    def stop(done, count):
        raise Stop(f"stopped at {done}")

    with pytest.raises(Stop, match="stopped at 16"):
        cimsim.run(HW, MODEL, limit=40, batch=16, progress=stop)
    assert cimsim.run(HW, MODEL, limit=16).images == 16  # the next run is unaffected


def test_pipelined_dataflow_progress_and_errors(cimsim):
    hw = cimsim.HwConfig.load(HW, overrides={"chip.dataflow": "pipelined"})
    calls = []
    result = cimsim.run(hw, MODEL, limit=20, batch=8, progress=lambda d, c: calls.append(d))
    assert calls == [8, 16, 20] and result.images == 20

    def stop(done, count):
        raise KeyError("halt")

    with pytest.raises(KeyError, match="halt"):
        cimsim.run(hw, MODEL, limit=20, batch=8, progress=stop)


def test_gil_is_released(cimsim):
    done = threading.Event()
    ticks = []

    def work():
        cimsim.run(HW, MODEL, limit=2000)  # about 0.5 s of simulation here
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.005)
    worker.join()
    # With the GIL held for the whole run (no Python callback), this thread could not tick.
    assert len(ticks) >= 5


def test_logging(cimsim, caplog):
    with caplog.at_level(logging.INFO, logger="cimsim"):
        cimsim.run(cimsim.HwConfig.load(HW, overrides={"device.program_sigma": 0.3}), MODEL, limit=4)
    warnings = [r for r in caplog.records if r.name == "cimsim" and r.levelno == logging.WARNING]
    assert any("program_sigma" in r.getMessage() for r in warnings)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="cimsim"):
        cimsim.run(cimsim.HwConfig.load(HW, overrides={"device.program_sigma": 0.3}), MODEL, limit=4)
    assert not [r for r in caplog.records if r.name == "cimsim"]


def test_bad_input(cimsim, tmp_path):
    images, labels = fashion_mnist_test(4)
    with pytest.raises(cimsim.InputError, match="images: images of dtype <i8"):
        cimsim.run(HW, MODEL, images.astype(np.int64), labels)
    with pytest.raises(cimsim.InputError, match=r"N x C x H x W"):
        cimsim.run(HW, MODEL, images[:, 0], labels)
    with pytest.raises(cimsim.InputError, match=r"the model takes 1x28x28 images but images has 1x27x28"):
        cimsim.run(HW, MODEL, np.ascontiguousarray(images[:, :, 1:]), labels)
    with pytest.raises(cimsim.InputError, match="3 labels for 4 images"):
        cimsim.run(HW, MODEL, images, labels[:3])
    with pytest.raises(cimsim.InputError, match="label 1 is -2"):
        cimsim.run(HW, MODEL, images, np.array([0, -2, 1, 1]))
    with pytest.raises(cimsim.InputError, match="holds label 12"):
        cimsim.run(HW, MODEL, images, np.array([0, 12, 1, 1]))
    with pytest.raises(cimsim.InputError, match="images must be finite"):
        cimsim.run(HW, MODEL, np.full((2, 1, 28, 28), np.nan, dtype=np.float32))
    with pytest.raises(cimsim.InputError, match="not numeric"):
        cimsim.run(HW, MODEL, np.array([["a"]]))
    with pytest.raises(cimsim.InputError) as python:
        cimsim.run(HW, MODEL, "cifar7:/nowhere")
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", MODEL, "--data", "cifar7:/nowhere")
    with pytest.raises(cimsim.InputError, match="brings its own labels"):
        cimsim.run(HW, MODEL, "fashion-mnist", labels)
    with pytest.raises(cimsim.InputError, match="split 'validation'"):
        cimsim.run(HW, MODEL, split="validation")
    with pytest.raises(cimsim.InputError, match="limit = 0"):
        cimsim.run(HW, MODEL, limit=0)
    with pytest.raises(cimsim.InputError, match="batch = 0"):
        cimsim.run(HW, MODEL, limit=2, batch=0)
    with pytest.raises(TypeError):
        cimsim.run(HW, MODEL, limit=2, seed=-1)
    with pytest.raises(cimsim.InputError, match="no-model"):
        cimsim.run(HW, str(tmp_path / "no-model"))


def vcd_body(path):
    """A VCD file without its $date section (the one part that differs between two runs)."""
    text = open(path).read()
    start = text.index("$date")
    return text[:start] + text[text.index("$end", start) + 4:]


def test_trace_equals_the_command_lines(cimsim, tmp_path):
    mine, theirs = str(tmp_path / "mine.vcd"), str(tmp_path / "theirs.vcd")
    cimsim.run(HW, MODEL, limit=2, batch=2, trace=mine, trace_window="0:3000", trace_adcs="0,1")
    cli("run", "--hw", HW, "--model", MODEL, "--limit", "2", "--batch", "2", "--trace", theirs, "--trace-window",
        "0:3000", "--trace-adcs", "0,1")
    assert "$enddefinitions" in open(mine).read()
    assert vcd_body(mine) == vcd_body(theirs)
    with pytest.raises(cimsim.InputError) as python:
        cimsim.run(HW, MODEL, limit=2, trace=mine, trace_window="30:10")
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", MODEL, "--limit", "2", "--trace", theirs,
                                          "--trace-window", "30:10")
    with pytest.raises(cimsim.InputError, match="--trace-adcs needs --trace"):
        cimsim.run(HW, MODEL, limit=2, trace_adcs="0")
