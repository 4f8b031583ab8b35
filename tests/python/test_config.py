"""cimsim.HwConfig and cimsim.Bundle: loading, overrides, and the command line's errors."""

import os

import pytest

from conftest import HW, MODEL, SOURCE, cli_error


def test_load_and_to_dict(cimsim):
    hw = cimsim.HwConfig.load(HW)
    d = hw.to_dict()
    assert hw.name == d["name"] == "rram-neurosim-128-4b"
    assert hw.path == HW and hw.overrides == []
    assert d["macro"]["rows"] == 128 and d["macro"]["adc_bits"] == 5


def test_overrides_dict_list_and_with_overrides(cimsim):
    by_dict = cimsim.HwConfig.load(HW, overrides={"macro.adc_bits": 6, "adc.ideal": True,
                                                  "device.program_sigma": 0.05})
    by_list = cimsim.HwConfig.load(HW, overrides=["macro.adc_bits=6", "adc.ideal=true", "device.program_sigma=0.05"])
    assert by_dict.to_dict() == by_list.to_dict()
    assert by_dict.overrides == ["macro.adc_bits=6", "adc.ideal=true", "device.program_sigma=0.05"]
    d = by_dict.to_dict()
    assert d["macro"]["adc_bits"] == 6 and d["adc"]["ideal"] is True and d["device"]["program_sigma"] == 0.05
    more = by_dict.with_overrides({"macro.adc_bits": 3})
    assert more.to_dict()["macro"]["adc_bits"] == 3 and by_dict.to_dict()["macro"]["adc_bits"] == 6
    assert more.overrides[-1] == "macro.adc_bits=3"


def test_errors_are_the_command_lines(cimsim, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = open(HW).read().replace("adc_bits:", "adc_bitz:", 1)
    bad.write_text(text)
    with pytest.raises(cimsim.InputError) as python:
        cimsim.HwConfig.load(str(bad))
    assert isinstance(python.value, ValueError)
    message = cli_error("run", "--hw", str(bad), "--model", MODEL, "--limit", "1")
    assert str(python.value) == message
    assert "bad.yaml:" in message and "adc_bitz" in message  # file, line and the key

    with pytest.raises(cimsim.InputError) as python:
        cimsim.HwConfig.load(HW, overrides={"macro.adc_bits": 99})
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", MODEL, "--set", "macro.adc_bits=99")

    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(cimsim.InputError) as python:
        cimsim.HwConfig.load(missing)
    assert str(python.value) == cli_error("run", "--hw", missing, "--model", MODEL)


def test_bad_override_arguments(cimsim):
    with pytest.raises(cimsim.InputError, match="not one string"):
        cimsim.HwConfig.load(HW, overrides="macro.adc_bits=4")
    with pytest.raises(cimsim.InputError, match="dotted.key=value"):
        cimsim.HwConfig.load(HW, overrides=[4])
    with pytest.raises(cimsim.InputError, match="macro.adc_bitz"):
        cimsim.HwConfig.load(HW, overrides={"macro.adc_bitz": 4})


def test_bundle(cimsim, tmp_path):
    b = cimsim.Bundle.load(MODEL)
    assert b.name == "lenet5-fmnist-4b" and b.classes == 10 and b.input_shape == (1, 28, 28)
    assert b.dir == MODEL
    names = [l["name"] for l in b.layers]
    assert names[0] == "conv1" and b.layers[0]["cim"] and b.layers[0]["weight_shape"] == (25, 6)
    assert any(not l["cim"] for l in b.layers)
    missing = str(tmp_path / "no-bundle")
    with pytest.raises(cimsim.InputError) as python:
        cimsim.Bundle.load(missing)
    assert str(python.value) == cli_error("run", "--hw", HW, "--model", missing)
    assert os.path.isdir(SOURCE)
