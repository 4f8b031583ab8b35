"""cimsim.mvm: the numbers and statistics of `cimsim mvm`, every integer dtype, and bad operands."""

import json

import numpy as np
import pytest

from conftest import HW, VARIATION_HW, cli, cli_error


def operands(k=150, n=20, b=40, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.integers(-7, 8, size=(k, n)).astype(np.int32), rng.integers(0, 16, size=(b, k)).astype(np.int32))


def cli_mvm(tmp_path, hw, W, X, *extra):
    np.save(tmp_path / "W.npy", W)
    np.save(tmp_path / "X.npy", X)
    cli("mvm", "--hw", hw, "--weights", str(tmp_path / "W.npy"), "--inputs", str(tmp_path / "X.npy"), "--out",
        str(tmp_path / "Y.npy"), "--stats", str(tmp_path / "s.json"), *extra)
    return np.load(tmp_path / "Y.npy"), json.load(open(tmp_path / "s.json"))["layers"][0]


@pytest.mark.parametrize("hw", [HW, VARIATION_HW])
def test_equals_the_command_line(cimsim, tmp_path, hw):
    W, X = operands()
    Y, stats = cimsim.mvm(hw, W, X, seed=7)
    Y_cli, stats_cli = cli_mvm(tmp_path, hw, W, X, "--seed", "7")
    assert Y.dtype == np.float64 and Y.shape == (40, 20)
    np.testing.assert_array_equal(Y, Y_cli)
    assert stats == stats_cli
    assert stats["conversions"] > 0 and stats["cycles_per_mvm"] > 0


def test_every_integer_dtype_and_layout_gives_the_same(cimsim):
    W, X = operands(seed=2)
    hw = cimsim.HwConfig.load(VARIATION_HW)
    Y, _ = cimsim.mvm(hw, W, X, seed=3)
    for w_type, x_type in [(np.int8, np.uint8), (np.int16, np.int64), (np.int64, np.uint16), (np.int32, np.uint64)]:
        np.testing.assert_array_equal(cimsim.mvm(hw, W.astype(w_type), X.astype(x_type), seed=3)[0], Y)
    np.testing.assert_array_equal(cimsim.mvm(hw, np.asfortranarray(W), np.asfortranarray(X), seed=3)[0], Y)
    # A strided view is converted, a contiguous int32 array read in place: the same numbers.
    np.testing.assert_array_equal(cimsim.mvm(hw, W, X[::2], seed=3)[0],
                                  cimsim.mvm(hw, W, np.ascontiguousarray(X[::2]), seed=3)[0])
    assert not np.array_equal(cimsim.mvm(hw, W, X, seed=4)[0], Y)  # another chip


def test_ideal_hardware_is_exact(cimsim):
    W, X = operands(k=64, n=8, b=10, seed=5)
    hw = cimsim.HwConfig.load(HW, overrides={"adc.ideal": True})
    Y, stats = cimsim.mvm(hw, W, X)
    np.testing.assert_array_equal(Y, X.astype(np.int64) @ W)
    assert stats["error"]["exact"] is True


def test_bad_operands(cimsim, tmp_path):
    W, X = operands(k=16, n=4, b=3)
    hw = cimsim.HwConfig.load(HW)
    with pytest.raises(cimsim.InputError, match="W: has dtype float64; W must be an integer array"):
        cimsim.mvm(hw, W.astype(np.float64), X)
    with pytest.raises(cimsim.InputError, match=r"X must be a 2-D array but the shape is \(48,\)"):
        cimsim.mvm(hw, W, X.reshape(-1))
    with pytest.raises(cimsim.InputError, match="does not fit a 32-bit integer"):
        cimsim.mvm(hw, W, X.astype(np.int64) + 2**40)
    with pytest.raises(cimsim.InputError, match="does not fit a 32-bit integer"):
        cimsim.mvm(hw, W, X.astype(np.uint64) + np.uint64(2**63))
    with pytest.raises(cimsim.InputError, match="X: inputs have 15 columns but W has 16 rows"):
        cimsim.mvm(hw, W, X[:, 1:])
    big = W.copy()
    big[2, 1] = 8
    np.save(tmp_path / "W.npy", big)
    np.save(tmp_path / "X.npy", X)
    with pytest.raises(cimsim.InputError) as python:
        cimsim.mvm(hw, big, X)
    message = cli_error("mvm", "--hw", HW, "--weights", str(tmp_path / "W.npy"), "--inputs", str(tmp_path / "X.npy"),
                        "--out", str(tmp_path / "Y.npy"))
    assert str(python.value) == message.replace(str(tmp_path / "W.npy"), "W")
    negative = X.copy()
    negative[0, 0] = -1
    with pytest.raises(cimsim.InputError, match=r"X: input \[0, 0\] = -1 is outside \[0, 15\]"):
        cimsim.mvm(hw, W, negative)
    with pytest.raises(cimsim.InputError, match="batch = 0 is outside"):
        cimsim.mvm(hw, W, X, batch=0)
    with pytest.raises(cimsim.InputError, match="the weight matrix is empty"):
        cimsim.mvm(hw, W[:0], X[:, :0])
