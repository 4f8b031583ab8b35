"""Regression tests of issue 17's defects (docs: README "Bad input"): each failed on the code before
its fix. Every case is one error naming what to change, exit 2, and nothing written or replaced."""
import os
import stat
import struct
import subprocess

import numpy as np
import pytest

CIMSIM = os.environ["CIMSIM"]
SOURCE = os.environ["CIMSIM_SOURCE_DIR"]
HW4 = f"{SOURCE}/configs/hw/rram-neurosim-128-4b.yaml"
LENET = f"{SOURCE}/configs/models/lenet5-fmnist-4b"


def cimsim(*args, expect=0, timeout=120):
    p = subprocess.run([CIMSIM, *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == expect, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


@pytest.mark.parametrize("args,expected", [
    (["--limit", "0"], "--limit"),
    (["--limit", "-5"], "--limit"),
    (["--seed", "abc"], "--seed"),
    (["--batch", "0"], "--batch"),
])
def test_bad_option_values_exit_2(args, expected):
    """CLI11's own exit codes (105-114) were returned for bad values; every bad input is exit 2."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, *args, expect=2)
    assert expected in p.stderr + p.stdout


def test_calibrate_bad_percentile_exits_2(tmp_path):
    p = cimsim("calibrate", "--hw", HW4, "--model", LENET, "--percentile", "200", "--out", str(tmp_path / "c.yaml"),
               expect=2)
    assert "--percentile" in p.stderr + p.stdout and not (tmp_path / "c.yaml").exists()


def test_outputs_never_replace_a_fifo_or_device(tmp_path):
    """--stats/--out targets are renamed into place: over /dev/null (as root) that replaced the device."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "2", "--stats", str(fifo), expect=2)
    assert "is not a regular file" in p.stderr and stat.S_ISFIFO(os.stat(fifo).st_mode)
    w = tmp_path / "w.npy"
    np.save(w, np.ones((4, 3), np.int32))
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.int32))
    p = cimsim("mvm", "--hw", HW4, "--weights", str(w), "--inputs", str(tmp_path / "x.npy"), "--out", str(fifo),
               expect=2)
    assert "is not a regular file" in p.stderr and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_empty_rows_npy_does_not_hang(tmp_path):
    """A 128-byte .npy of shape (999999999999999999, 0) made cimsim mvm loop over its rows forever."""
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (999999999999999999, 0), }"
    header += " " * (128 - 10 - len(header) - 1) + "\n"
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    np.save(tmp_path / "w.npy", np.ones((4, 3), np.int32))
    p = cimsim("mvm", "--hw", HW4, "--weights", str(tmp_path / "w.npy"), "--inputs", str(tmp_path / "x.npy"),
               "--out", str(tmp_path / "y.npy"), expect=2, timeout=30)
    assert "empty or too long dimension" in p.stderr and not (tmp_path / "y.npy").exists()


def test_empty_data_set_is_an_error(tmp_path):
    """An IDX pair with 0 images ran with exit 0, accuracy 0 and a latency of -10 ns."""
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 0, 28, 28))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, 0))
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--data", f"mnist:{tmp_path}", "--out", str(tmp_path / "o"),
               expect=2)
    assert "holds no images" in p.stderr and not (tmp_path / "o").exists()


def test_adc_layers_naming_no_cim_layer_is_an_error(tmp_path):
    """A misspelled adc.layers entry was ignored by run and calibrate (sweep and --calib rejected it)."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "2", "--set", "adc.layers.conv9={lo: -3, hi: 3}",
               expect=2)
    assert "adc.layers.conv9: 'conv9' is not a CIM layer" in p.stderr and "conv1, conv2, fc1, fc2, fc3" in p.stderr
    p = cimsim("calibrate", "--hw", HW4, "--model", LENET, "--limit", "2", "--set", "adc.layers.relu1={lo: -3, hi: 3}",
               "--out", str(tmp_path / "c.yaml"), expect=2)
    assert "'relu1' is not a CIM layer" in p.stderr and not (tmp_path / "c.yaml").exists()


def test_trace_into_an_unwritable_directory(tmp_path):
    """--trace where the VCD cannot be created ended in SIGFPE inside SystemC's VCD destructor."""
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    if os.access(ro, os.W_OK):  # root ignores the mode: a path under a regular file cannot be created
        ro = tmp_path / "file"
        ro.write_text("x")
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "1", "--trace", str(ro / "t.vcd"), expect=2)
    assert "--trace" in p.stderr or "cannot create" in p.stderr


def test_calibration_file_escapes_paths_and_names(tmp_path):
    """A '"' in the --hw path or a layer named '*fc3' gave a calibration file --calib could not read."""
    odd = tmp_path / 'a"b'
    odd.mkdir()
    hw = odd / "hw.yaml"
    hw.write_text(open(HW4).read())
    model = tmp_path / "m"
    subprocess.run(["cp", "-r", LENET, str(model)], check=True)
    text = (model / "model.yaml").read_text().replace("name: fc3\n", "name: \"*fc3\"\n")
    (model / "model.yaml").write_text(text)
    cimsim("-q", "calibrate", "--hw", str(hw), "--model", str(model), "--limit", "5", "--out", str(tmp_path / "c.yaml"))
    cimsim("-q", "run", "--hw", str(hw), "--model", str(model), "--limit", "5", "--calib", str(tmp_path / "c.yaml"))


def test_non_finite_logits_are_an_error(tmp_path):
    model = tmp_path / "m"
    subprocess.run(["cp", "-r", LENET, str(model)], check=True)
    man = (model / "model.yaml").read_text()
    i = man.index("name: fc3")
    j = man.index("weight_scale:", i)
    k = man.index("\n", j)
    (model / "model.yaml").write_text(man[:j] + "weight_scale: 1.7e308" + man[k:])
    p = cimsim("run", "--hw", HW4, "--model", str(model), "--limit", "2", "--out", str(tmp_path / "o"), expect=2)
    assert "the logits are not finite" in p.stderr and not (tmp_path / "o").exists()


def test_version():
    assert cimsim("--version").stdout.startswith("cimsim ")


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(CIMSIM), "cimsim-train")),
                    reason="the trainer is built only with LibTorch")
def test_training_stops_at_a_non_finite_loss(tmp_path):
    """data.std 1e-300 trained with loss -nan and wrote checkpoints (exit 0)."""
    text = open(f"{SOURCE}/configs/experiments/tiny-test.yaml").read()
    text = text.replace("  train_limit: 512\n", "  train_limit: 512\n  std: [1e-300]\n  mean: [0.5]\n")
    (tmp_path / "e.yaml").write_text(text)
    p = cimsim("train", "--config", str(tmp_path / "e.yaml"), "--out", str(tmp_path / "o"), "-q", expect=2)
    assert "the training loss is not finite" in p.stderr and not (tmp_path / "o" / "fp32.ckpt").exists()


def test_configs_and_tensors_must_be_regular_files(tmp_path):
    """--hw /dev/zero read until 2 GB and died with bad_alloc; a FIFO as --hw, --weights or a bundle
    tensor blocked forever."""
    p = cimsim("run", "--hw", "/dev/zero", "--model", LENET, expect=2, timeout=30)
    assert "/dev/zero: not a regular file" in p.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    p = cimsim("run", "--hw", str(fifo), "--model", LENET, expect=2, timeout=30)
    assert "not a regular file" in p.stderr
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.int32))
    p = cimsim("mvm", "--hw", HW4, "--weights", str(fifo), "--inputs", str(tmp_path / "x.npy"), "--out",
               str(tmp_path / "y.npy"), expect=2, timeout=30)
    assert "is not a regular file" in p.stderr


def test_negative_seed_is_refused():
    """--seed -1 became 18446744073709551615."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--seed", "-1", expect=2)
    assert "--seed" in p.stderr + p.stdout


def copy_lenet(tmp_path):
    model = tmp_path / "m"
    subprocess.run(["cp", "-r", LENET, str(model)], check=True)
    return model


def test_tensor_paths_stay_in_the_bundle(tmp_path):
    """A tensor path like ../../../../etc/passwd was read."""
    model = copy_lenet(tmp_path)
    (tmp_path / "outside.npy").write_bytes((model / "fc3.bias.npy").read_bytes())
    man = (model / "model.yaml").read_text().replace("bias: fc3.bias.npy", "bias: ../outside.npy")
    (model / "model.yaml").write_text(man)
    p = cimsim("run", "--hw", HW4, "--model", str(model), "--limit", "1", expect=2)
    assert "'../outside.npy' leaves the bundle directory" in p.stderr


def test_huge_activations_are_refused_at_load(tmp_path):
    """padding [65536, 65536] on a 1x1 conv needed a 640 GiB im2col: bad_alloc inside a SystemC thread."""
    model = copy_lenet(tmp_path)
    man = (model / "model.yaml").read_text().replace("padding: [2, 2]", "padding: [65536, 65536]", 1)
    (model / "model.yaml").write_text(man)
    p = cimsim("run", "--hw", HW4, "--model", str(model), "--limit", "1", expect=2, timeout=30)
    assert "layers[0].padding" in p.stderr and "exceeds 2^26 per image" in p.stderr


def test_calibrating_a_model_without_cim_layers(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.yaml").write_text(
        "format: cimsim-model-bundle\nversion: 1\nname: pool\ninput: {shape: [10, 2, 2], mean: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],"
        " std: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\nclasses: 10\nbits: {weight: 4, input: 4}\n"
        "layers:\n  - {name: gap, type: global_avgpool}\n")
    np.save(tmp_path / "x.npy", np.zeros((3, 10, 2, 2), np.float32))
    np.save(tmp_path / "y.npy", np.zeros(3, np.int64))
    p = cimsim("calibrate", "--hw", HW4, "--model", str(model), "--data", f"npy:{tmp_path}/x.npy,{tmp_path}/y.npy",
               "--out", str(tmp_path / "c.yaml"), expect=2)
    assert "no conv2d or linear layer" in p.stderr and not (tmp_path / "c.yaml").exists()


def test_colliding_output_paths_are_refused(tmp_path):
    """run --stats D/stats.json --out D and mvm --out F --stats F left files after exit 2."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "1", "--out", str(tmp_path / "d"),
               "--stats", str(tmp_path / "d" / "stats.json"), expect=2)
    assert "given for two outputs" in p.stderr and not (tmp_path / "d").exists()
    np.save(tmp_path / "w.npy", np.ones((4, 3), np.int32))
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.int32))
    p = cimsim("mvm", "--hw", HW4, "--weights", str(tmp_path / "w.npy"), "--inputs", str(tmp_path / "x.npy"),
               "--out", str(tmp_path / "f"), "--stats", str(tmp_path / "f"), expect=2)
    assert "given for two outputs" in p.stderr and not (tmp_path / "f").exists()


def test_clipping_intervals_are_flagged():
    """A bundle's intervals on other hardware clipped most conversions without a word (12.5% accuracy)."""
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "5", "--set", "adc.layers.conv1={lo: -0.5, hi: 0.5}")
    out = p.stdout + p.stderr
    assert "warning: layer conv1:" in out and "of its ADC conversions clip" in out and "--calib" in out
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "5")
    assert "conversions clip" not in p.stdout + p.stderr
