"""cimsim.calibrate and Calibration: the intervals of `cimsim calibrate`, the file, and runs with them."""

import json

import numpy as np
import pytest

from conftest import HW, MODEL, cli, fashion_mnist_test

OVERRIDES = ["device.program_sigma=0.05", "macro.adc_bits=5"]


@pytest.mark.parametrize("method,zero_level", [("mse", False), ("percentile", True)])
def test_equals_the_command_line(cimsim, tmp_path, method, zero_level):
    hw = cimsim.HwConfig.load(HW, overrides=OVERRIDES)
    mine = cimsim.calibrate(hw, MODEL, limit=24, method=method, zero_level=zero_level, seed=3, percentile=99.5)
    sets = [x for o in OVERRIDES for x in ("--set", o)]
    path = tmp_path / "cli.yaml"
    cli("calibrate", "--hw", HW, "--model", MODEL, "--limit", "24", "--method", method, "--seed", "3",
        "--percentile", "99.5", "--out", str(path), *sets, *(["--zero-level"] if zero_level else []))
    theirs = cimsim.Calibration.load(str(path))
    assert mine.layers == theirs.layers
    assert set(mine.layers) == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    assert mine.method == method and mine.adc_bits == 5 and mine.images == 24 and mine.zero_level == zero_level
    for layer in mine.layers.values():
        assert layer["lo"] < 0 < layer["hi"] and layer["mse"] <= layer["full_range_mse"]


def test_save_load_and_run_with_it(cimsim, tmp_path):
    hw = cimsim.HwConfig.load(HW, overrides=OVERRIDES)
    images, labels = fashion_mnist_test(24)
    calibration = cimsim.calibrate(hw, MODEL, images, labels, seed=3)
    path = str(tmp_path / "calib.yaml")
    calibration.save(path)
    assert cimsim.Calibration.load(path).layers == calibration.layers
    assert calibration.to_yaml() == open(path).read()
    with_object = cimsim.run(hw, MODEL, limit=32, seed=3, calib=calibration)
    with_file = cimsim.run(hw, MODEL, limit=32, seed=3, calib=path)
    np.testing.assert_array_equal(with_object.logits, with_file.logits)
    sets = [x for o in OVERRIDES for x in ("--set", o)]
    out = tmp_path / "cli-run"
    cli("run", "--hw", HW, "--model", MODEL, "--limit", "32", "--seed", "3", "--calib", path, "--out", str(out), *sets)
    np.testing.assert_array_equal(with_file.logits, np.load(out / "logits.npy"))
    stats = json.load(open(out / "stats.json"))
    assert [l["cim"]["adc_interval"] for l in with_file.layers if l.get("cim")] == \
           [l["cim"]["adc_interval"] for l in stats["layers"] if l.get("cim")]
    without = cimsim.run(hw, MODEL, limit=32, seed=3)
    assert not np.array_equal(without.logits, with_file.logits)


def test_bad_input(cimsim, tmp_path):
    hw = cimsim.HwConfig.load(HW)
    with pytest.raises(cimsim.InputError, match="unknown calibration method 'median'"):
        cimsim.calibrate(hw, MODEL, limit=4, method="median")
    with pytest.raises(cimsim.InputError, match="percentile = 120"):
        cimsim.calibrate(hw, MODEL, limit=4, percentile=120)
    with pytest.raises(cimsim.InputError, match="nope.yaml"):
        cimsim.Calibration.load(str(tmp_path / "nope.yaml"))
    calibration = cimsim.calibrate(hw, MODEL, limit=8)
    with pytest.raises(cimsim.InputError, match="adc_bits"):
        cimsim.run(hw.with_overrides({"macro.adc_bits": 6}), MODEL, limit=4, calib=calibration)
    calibration.save(str(tmp_path / "new-dir" / "c.yaml"))  # made, as cimsim calibrate --out makes it
    assert cimsim.Calibration.load(str(tmp_path / "new-dir" / "c.yaml")).layers == calibration.layers
    (tmp_path / "a-file").write_text("")
    with pytest.raises(cimsim.InputError, match="a-file"):
        calibration.save(str(tmp_path / "a-file" / "c.yaml"))
