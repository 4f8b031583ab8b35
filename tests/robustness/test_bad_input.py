"""Regression tests of issue 17's defects (docs: README "Bad input"): each failed on the code before
its fix. Every case is one error naming what to change, exit 2, and nothing written or replaced."""
import contextlib
import json
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


def aliased_hw(tmp_path, layers):
    text = open(HW4).read().replace("  layers: {}\n", "  layers:\n" + layers)
    (tmp_path / "hw.yaml").write_text(text)
    return str(tmp_path / "hw.yaml")


def resolved_layers(out_dir):
    return json.load(open(out_dir / "hw.json"))["adc"]["layers"]


def test_overrides_never_write_through_a_yaml_alias(tmp_path):
    """conv2: *iv plus --set adc.layers.conv1.hi=3 or --calib silently changed conv2 too."""
    hw = aliased_hw(tmp_path, "    conv1: &iv {lo: -8, hi: 8}\n    conv2: *iv\n")
    p = cimsim("run", "--hw", hw, "--model", LENET, "--limit", "1", "--set", "adc.layers.conv1.hi=3", expect=2)
    assert "'adc.layers.conv1' is a YAML alias" in p.stderr and "--set adc.layers.conv1={...}" in p.stderr
    cimsim("-q", "run", "--hw", hw, "--model", LENET, "--limit", "1", "--set", "adc.layers.conv1={lo: -8, hi: 3}",
           "--out", str(tmp_path / "a"))
    assert resolved_layers(tmp_path / "a") == {"conv1": {"lo": -8, "hi": 3}, "conv2": {"lo": -8, "hi": 8}}
    calib = tmp_path / "c.yaml"
    calib.write_text("method: minmax\nadc_bits: 5\nimages: 1\nhw: h\nmodel: m\ndata: d\nlayers:\n"
                     "  conv1: {lo: -4, hi: 4, clip_low: 0, clip_high: 0, mse: 0, full_range_mse: 0}\n")
    cimsim("-q", "run", "--hw", hw, "--model", LENET, "--limit", "1", "--calib", str(calib), "--out",
           str(tmp_path / "b"))
    assert resolved_layers(tmp_path / "b") == {"conv1": {"lo": -4, "hi": 4}, "conv2": {"lo": -8, "hi": 8}}
    hw = aliased_hw(tmp_path, "    conv1: {lo: -8, hi: &h 8}\n    conv2: {lo: -8, hi: *h}\n")
    cimsim("-q", "run", "--hw", hw, "--model", LENET, "--limit", "1", "--set", "adc.layers.conv1.hi=3", "--out",
           str(tmp_path / "c"))
    assert resolved_layers(tmp_path / "c") == {"conv1": {"lo": -8, "hi": 3}, "conv2": {"lo": -8, "hi": 8}}


def test_sweep_resume_sees_a_changed_tensor_in_a_subdirectory(tmp_path):
    """The bundle hash covered only the top-level files: a changed tensor in a subdirectory kept the
    stale point on resume."""
    model = copy_lenet(tmp_path)
    (model / "t").mkdir()
    (model / "fc3.bias.npy").rename(model / "t" / "fc3.bias.npy")
    (model / "model.yaml").write_text((model / "model.yaml").read_text().replace("bias: fc3.bias.npy",
                                                                                  "bias: t/fc3.bias.npy"))
    (tmp_path / "s.yaml").write_text(f"name: s\nhw: {HW4}\nmodel: {model}\nlimit: 4\n"
                                     "vary:\n  macro.adc_bits: [5]\nseeds: [1]\n")
    cimsim("-q", "sweep", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"))
    record = next((tmp_path / "o").rglob("point.json"))
    before = json.load(open(record))["hash"]
    (model / "unrelated.npy").write_bytes(b"not part of the bundle")  # named by no layer: no change
    cimsim("-q", "sweep", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"), "--resume")
    assert json.load(open(record))["hash"] == before
    bias = np.load(model / "t" / "fc3.bias.npy")
    np.save(model / "t" / "fc3.bias.npy", bias + 1)
    cimsim("-q", "sweep", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"), "--resume")
    assert json.load(open(record))["hash"] != before


def consistent_run_dir(d):
    """stats.json, hw.json and logits.npy of one and the same run."""
    stats = json.load(open(d / "stats.json"))
    return np.load(d / "logits.npy").shape[0] == stats["images"] and json.load(open(d / "hw.json")) == stats["config"]


def untraced_leaks():
    """The environment for a program run under strace: LeakSanitizer cannot work under ptrace, so the
    sanitizer build (docs/testing.md) turns leak detection off there (the other checks stay on)."""
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


def test_run_outputs_are_one_commit(tmp_path):
    """--out's three files were renamed one by one: a failure (or kill) between the renames left a new
    stats.json beside the previous run's logits.npy. The directory is now swapped in one step."""
    d = tmp_path / "d"
    cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "3", "--out", str(d))
    # The third rename of the commit fails (strace's fault injection); so does the directory swap.
    p = subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", "trace=rename,renameat2",
                        "-e", "inject=rename:error=EIO:when=3", "-e", "inject=renameat2:error=EIO",
                        CIMSIM, "-q", "run", "--hw", HW4, "--model", LENET, "--limit", "2", "--out", str(d),
                        "--set", "digital.ops_per_cycle=32"],
                       capture_output=True, text=True, timeout=120, env=untraced_leaks())
    assert p.returncode == 2, p.stderr
    assert consistent_run_dir(d) and json.load(open(d / "stats.json"))["images"] == 3
    assert sorted(os.listdir(tmp_path)) == ["d"]  # no staging directory left behind
    cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "2", "--out", str(d))
    assert consistent_run_dir(d) and json.load(open(d / "stats.json"))["images"] == 2
    assert sorted(os.listdir(d)) == ["hw.json", "logits.npy", "stats.json"]
    (d / "notes.txt").write_text("mine")
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "1", "--out", str(d), expect=2)
    assert "holds 'notes.txt', which this command does not write" in p.stderr and (d / "notes.txt").exists()
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "1", "--out", str(tmp_path / "e"), "--trace",
               str(tmp_path / "e" / "t.vcd"), expect=2)
    assert "given for two outputs" in p.stderr and not (tmp_path / "e").exists()


def test_unwritable_flow_directory(tmp_path):
    """flow --out on a read-only file system exited 1 with a raw filesystem_error."""
    p = cimsim("flow", f"{SOURCE}/configs/experiments/lenet5-fmnist.yaml", "--out", "/proc/cimsim-flow", expect=2)
    assert "/proc/cimsim-flow" in p.stderr and "writable" in p.stderr


def test_yaml_files_are_one_utf8_document(tmp_path):
    """A second YAML document was ignored; a NUL byte or non-UTF-8 text gave a raw exception (exit 1)."""
    text = open(HW4).read()
    cases = {"two.yaml": (text + "---\nname: other\n").encode(), "nul.yaml": text.encode() + b"x\0",
             "latin1.yaml": text.replace("name: rram-neurosim-128-4b", "name: r\xe9ram").encode("latin-1")}
    expected = {"two.yaml": "a second YAML document", "nul.yaml": "holds a NUL byte",
                "latin1.yaml": "not UTF-8"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        p = cimsim("run", "--hw", str(tmp_path / name), "--model", LENET, "--limit", "1", expect=2)
        assert expected[name] in p.stderr and str(tmp_path / name) + ":" in p.stderr
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())  # allowed by YAML: documented
    cimsim("-q", "run", "--hw", str(tmp_path / "bom.yaml"), "--model", LENET, "--limit", "1")
    # A file name that is not UTF-8 is written into the JSON outputs with U+FFFD.
    odd = tmp_path / b"hw-\xff.yaml".decode("utf-8", "surrogateescape")
    odd.write_text(text)
    cimsim("-q", "run", "--hw", str(odd), "--model", LENET, "--limit", "1", "--stats", str(tmp_path / "s.json"))
    assert "hw-\ufffd.yaml" in json.load(open(tmp_path / "s.json"))["inputs"]["hw"]


def test_override_of_a_missing_section_is_blamed_on_it():
    """--set foo.bar=1 was blamed on the hardware file, without a line."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--set", "foo.bar=1", expect=2)
    assert p.stderr.startswith("error: --set foo.bar=1: foo: unknown key")


TINY = f"{SOURCE}/configs/experiments/tiny-test.yaml"


@contextlib.contextmanager
def small_disk(path, size):
    """A tmpfs of `size` at `path` (a full disk on demand); skips the test where mounting is not allowed."""
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode != 0:
        pytest.skip("cannot mount a small tmpfs (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_training_on_a_full_disk_keeps_the_last_checkpoint(tmp_path):
    """A full disk made LibTorch's checkpoint writer abort (SIGABRT) and left fp32.ckpt.tmp."""
    # 400 KiB: the first checkpoint (about 230 KB) fits, the next one's temporary does not.
    with small_disk(tmp_path / "small", "400k") as mnt:
        p = cimsim("train", "--config", TINY, "--out", str(mnt / "t"), expect=2, timeout=300)
        assert "cannot write the checkpoint" in p.stderr and "--resume" in p.stderr
        assert sorted(os.listdir(mnt / "t")) == ["experiment.yaml", "fp32.ckpt", "metrics.csv"]
        subprocess.run(["cp", "-r", str(mnt / "t"), str(tmp_path / "t")], check=True)
    cimsim("-q", "train", "--config", TINY, "--out", str(tmp_path / "t"), "--resume", timeout=300)
    assert (tmp_path / "t" / "fp32.ckpt").exists()


def test_write_errors_name_the_output_not_its_temporary(tmp_path):
    """A full disk's message named the hidden temporary (.stats.partial.123.json)."""
    with small_disk(tmp_path / "small", "16k") as mnt:
        p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "2", "--out", str(mnt / "d"), expect=2)
        assert f"{mnt}/d/stats.json: cannot write it" in p.stderr and ".partial" not in p.stderr
        assert os.listdir(mnt) == []


def test_training_with_bad_data_writes_nothing(tmp_path):
    """A data error left experiment.yaml (and an empty output directory) behind."""
    np.save(tmp_path / "x.npy", np.zeros((4,), np.uint8))  # not N x C x H x W
    np.save(tmp_path / "y.npy", np.zeros((4,), np.int64))
    pair = f"{tmp_path}/x.npy,{tmp_path}/y.npy"
    exp = tmp_path / "e.yaml"
    exp.write_text(open(TINY).read().replace("set: fashion-mnist", f"set: npy\n  train: {pair}\n  test: {pair}"))
    p = cimsim("train", "--config", str(exp), "--out", str(tmp_path / "t"), expect=2, timeout=300)
    assert "x.npy" in p.stderr and not (tmp_path / "t").exists()


def test_labels_beyond_the_models_classes(tmp_path):
    """A data set whose labels exceed the bundle's classes ran, scoring those images as wrong."""
    np.save(tmp_path / "x.npy", np.zeros((3, 1, 28, 28), np.uint8))
    np.save(tmp_path / "y.npy", np.array([1, 12, 3], np.int64))
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--data", f"npy:{tmp_path}/x.npy,{tmp_path}/y.npy", expect=2)
    assert "holds label 12 (image 1)" in p.stderr and "classes: 10" in p.stderr
    # The same rule (models/bundle/data_fit.h) for calibrate and the trainer, which blames the experiment.
    p = cimsim("calibrate", "--hw", HW4, "--model", LENET, "--data", f"npy:{tmp_path}/x.npy,{tmp_path}/y.npy",
               "--out", str(tmp_path / "c.yaml"), expect=2)
    assert "holds label 12 (image 1)" in p.stderr and not (tmp_path / "c.yaml").exists()
    pair = f"{tmp_path}/x.npy,{tmp_path}/y.npy"
    exp = tmp_path / "e.yaml"
    exp.write_text(open(TINY).read().replace("set: fashion-mnist", f"set: npy\n  train: {pair}\n  test: {pair}"))
    p = cimsim("train", "--config", str(exp), "--out", str(tmp_path / "t"), expect=2, timeout=300)
    assert f"{exp}: the model has classes: 10 but" in p.stderr and "set data: to the model's data set" in p.stderr
    assert not (tmp_path / "t").exists()


def test_quiet_keeps_the_result_line(tmp_path):
    """-q hid the results themselves; it now hides only progress and tables."""
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "3")
    lines = p.stdout.strip().splitlines()
    assert lines[0].startswith("top-1 accuracy") and lines[1].startswith("energy") and len(lines) == 2
    p = cimsim("-q", "calibrate", "--hw", HW4, "--model", LENET, "--limit", "3", "--out", str(tmp_path / "c.yaml"))
    assert p.stdout.startswith("wrote ")


def test_bench_help_does_not_run():
    """bench_network --help started a 10,000-image run."""
    bench = os.path.join(os.path.dirname(CIMSIM), "bench", "bench_network")
    if not os.path.exists(bench):
        pytest.skip("benchmarks not built")
    p = subprocess.run([bench, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "--images" in p.stdout
    p = subprocess.run([bench, "--imagez", "5"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0


def test_saturating_accumulator_is_counted_and_flagged(tmp_path):
    """accumulator_bits 4 cost 14 points of accuracy without a word."""
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "3", "--set", "macro.accumulator_bits=4",
               "--stats", str(tmp_path / "s.json"))
    assert "accumulator updates saturate" in p.stdout + p.stderr and "raise macro.accumulator_bits" in p.stdout + p.stderr
    layers = json.load(open(tmp_path / "s.json"))["layers"]
    assert all(l["cim"]["accumulator_saturations"] > 0 for l in layers if l.get("cim"))
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "3", "--set", "macro.accumulator_bits=24",
               "--stats", str(tmp_path / "s.json"))
    assert "saturate" not in p.stdout + p.stderr
    layers = json.load(open(tmp_path / "s.json"))["layers"]
    assert all(l["cim"]["accumulator_saturations"] == 0 for l in layers if l.get("cim"))


def test_implausible_device_values(tmp_path):
    """program_sigma 5 (500% of g_max) was simulated; above physical sense it is now refused, and
    beyond measured devices it is flagged."""
    p = cimsim("run", "--hw", HW4, "--model", LENET, "--limit", "1", "--set", "device.program_sigma=5", expect=2)
    assert "device.program_sigma" in p.stderr and "0..1" in p.stderr
    p = cimsim("-q", "run", "--hw", HW4, "--model", LENET, "--limit", "1", "--set", "device.program_sigma=0.5")
    assert "device.program_sigma 0.5 is beyond measured devices" in p.stdout + p.stderr


def test_percentile_nan_is_refused_before_simulating(tmp_path):
    """--percentile nan passed the range check and failed only after the partial sums were simulated."""
    (tmp_path / "m.onnx").write_bytes(b"")
    for command in (["calibrate", "--hw", HW4, "--model", LENET, "--method", "percentile"],
                    ["import", str(tmp_path / "m.onnx")]):
        p = cimsim(*command, "--percentile", "nan", "--out", str(tmp_path / "o"), expect=2)
        assert "--percentile" in p.stderr + p.stdout and "finite" in p.stderr + p.stdout
        assert "info:" not in p.stdout + p.stderr and not (tmp_path / "o").exists()
