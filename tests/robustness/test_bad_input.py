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
