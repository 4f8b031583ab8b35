#!/usr/bin/python3
"""Assembles the seed corpus of the libFuzzer harnesses (tests/fuzz, docs/testing.md) from the
shipped configs and small files generated here, so that no binary seed is kept in git:
    tools/fuzz_corpus.py OUT_DIR [CIMSIM_BINARY]
writes OUT_DIR/<harness>/<seed> for every harness. CIMSIM_BINARY (build/cimsim), when given and
present, produces a real stats JSON for the stats and sweep seeds. tests/fuzz/regressions/<harness>/
(inputs that once failed) are copied in too."""
import gzip
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pack(files):
    """The archive of the multi-file harnesses (tests/fuzz/fuzz_support.h unpack_files)."""
    out = b""
    for name, content in files:
        out += name.encode() + b"\0" + struct.pack("<I", len(content)) + content
    return out


def npy_bytes(array, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array)
    else:
        np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def idx_images(images):
    n, rows, cols = images.shape
    return struct.pack(">IIII", 0x803, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + np.asarray(labels, np.uint8).tobytes()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    out = sys.argv[1]
    cimsim = sys.argv[2] if len(sys.argv) > 2 else ""
    rng = np.random.default_rng(17)
    seeds = {}

    def add(harness, name, data):
        seeds.setdefault(harness, []).append((name, data))

    # Hardware YAML (every shipped preset), one with --set overrides after a NUL byte.
    hw_dir = os.path.join(ROOT, "configs", "hw")
    for dirpath, _, names in os.walk(hw_dir):
        for n in sorted(names):
            if n.endswith(".yaml"):
                add("fuzz_hw_config", n, read(os.path.join(dirpath, n)))
    preset = read(os.path.join(hw_dir, "rram-neurosim-128-4b.yaml"))
    add("fuzz_hw_config", "with-set", preset + b"\0macro.adc_bits=6\nadc.ideal=true\ndevice.program_sigma=0.05")

    # .npy: every dtype the reader takes, the three format versions, a 0-d and an empty array.
    for dtype in ["<i1", "<i2", "<i4", "<i8", "|u1", "<u2", ">u4", "<u8", "<f4", ">f8", "|b1"]:
        a = (rng.integers(-3, 4, (3, 4)) if dtype != "|b1" else rng.integers(0, 2, (3, 4))).astype(dtype)
        add("fuzz_npy", dtype.replace("<", "le-").replace(">", "be-").replace("|", ""), npy_bytes(a))
    add("fuzz_npy", "fortran", npy_bytes(np.asfortranarray(rng.integers(0, 9, (3, 5)).astype(np.int32))))
    add("fuzz_npy", "v2", npy_bytes(np.arange(6, dtype=np.int16).reshape(2, 3), (2, 0)))
    add("fuzz_npy", "v3", npy_bytes(np.arange(6, dtype=np.int16).reshape(2, 3), (3, 0)))
    add("fuzz_npy", "scalar", npy_bytes(np.array(7, np.int64)))
    add("fuzz_npy", "empty", npy_bytes(np.zeros((0, 4), np.int32)))

    # Model bundles: the small shipped one, and LeNet's manifest with its small tensors only.
    centroid = os.path.join(ROOT, "configs", "models", "fmnist-centroid-8b")
    add("fuzz_bundle", "centroid", pack([(n, read(os.path.join(centroid, n))) for n in sorted(os.listdir(centroid))]))
    lenet = os.path.join(ROOT, "configs", "models", "lenet5-fmnist-4b")
    add("fuzz_bundle", "lenet-partial",
        pack([(n, read(os.path.join(lenet, n))) for n in sorted(os.listdir(lenet))
              if os.path.getsize(os.path.join(lenet, n)) < 4096]))

    # gzip: one member, two members, a truncated and a flipped stream.
    text = b"cimsim " * 200 + bytes(range(256))
    add("fuzz_gzip", "one", gz(text))
    add("fuzz_gzip", "two", gz(text) + gz(b"tail"))
    add("fuzz_gzip", "truncated", gz(text)[:-6])
    flipped = bytearray(gz(text))
    flipped[len(flipped) // 2] ^= 0x55
    add("fuzz_gzip", "flipped", bytes(flipped))

    # IDX: 3 images of 4 x 5 pixels with labels, plain and gzip.
    images = rng.integers(0, 256, (3, 4, 5))
    labels = [1, 7, 9]
    add("fuzz_idx", "plain", pack([("images", idx_images(images)), ("labels", idx_labels(labels))]))
    add("fuzz_idx", "gzip", pack([("images", gz(idx_images(images))), ("labels", gz(idx_labels(labels)))]))

    # CIFAR-10 and CIFAR-100 batches of 2 records.
    c10 = b"".join(bytes([lab]) + rng.integers(0, 256, 3072).astype(np.uint8).tobytes() for lab in (3, 9))
    c100 = b"".join(bytes([c, f]) + rng.integers(0, 256, 3072).astype(np.uint8).tobytes()
                    for c, f in ((4, 40), (19, 99)))
    add("fuzz_cifar", "plain", pack([("test_batch.bin", c10), ("test.bin", c100)]))
    add("fuzz_cifar", "gzip", pack([("test_batch.bin.gz", gz(c10)), ("test.bin.gz", gz(c100))]))

    # Images and labels as .npy.
    add("fuzz_npy_images", "uint8", pack([("images.npy", npy_bytes(rng.integers(0, 256, (3, 1, 4, 4)).astype(np.uint8))),
                                          ("labels.npy", npy_bytes(np.array([0, 5, 9], np.int64)))]))
    add("fuzz_npy_images", "float", pack([("images.npy", npy_bytes(rng.random((2, 3, 2, 2)).astype(np.float32))),
                                          ("labels.npy", npy_bytes(np.array([1, 2], np.int32)))]))

    # Calibration files as cimsim calibrate writes them.
    calib = ("# ADC intervals chosen by cimsim calibrate\nmethod: {m}\n{p}adc_bits: 4\nimages: 200\n"
             "hw: configs/hw/rram-neurosim-128-4b.yaml\nmodel: configs/models/lenet5-fmnist-4b\n"
             "data: fashion-mnist:train\nlayers:\n"
             "  conv1: {{lo: -12.5, hi: 30.25, clip_low: 0.001, clip_high: 0.002, mse: 0.5, full_range_mse: 4}}\n"
             "  fc3: {{lo: -3, hi: 7, clip_low: 0, clip_high: 0, mse: 0.25, full_range_mse: 1.5}}\n")
    add("fuzz_calibration", "mse", calib.format(m="mse", p="").encode())
    add("fuzz_calibration", "percentile", calib.format(m="percentile", p="percentile: 99.99\n").encode())

    # Experiment and sweep files: the shipped ones.
    for sub, harness in (("experiments", "fuzz_experiment"), ("sweeps", "fuzz_sweep_spec")):
        d = os.path.join(ROOT, "configs", sub)
        for n in sorted(os.listdir(d)):
            if n.endswith(".yaml"):
                add(harness, n, read(os.path.join(d, n)))

    # A stats JSON of a real run (when the cimsim binary is there), and a sweep point's record.
    stats = b'{"format": "cimsim-stats"}'
    if cimsim and os.path.exists(cimsim):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "stats.json")
            p = subprocess.run([os.path.abspath(cimsim), "run", "--hw", "configs/hw/rram-neurosim-128-4b.yaml",
                                "--model", "configs/models/lenet5-fmnist-4b", "--data", "fashion-mnist",
                                "--limit", "2", "--stats", path], cwd=ROOT,
                               capture_output=True, env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
            if p.returncode == 0:  # the host time fixed, so that the seeds (and tools/fuzz.sh --ci) repeat
                stats = re.sub(rb'"wall_seconds": [0-9.e+-]+', b'"wall_seconds": 1.5', read(path))
    add("fuzz_stats_json", "run", stats)
    add("fuzz_sweep_point", "ok", pack([("point.json", b'{"hash": "fuzz", "status": "ok", "point": 0}'),
                                        ("stats.json", stats)]))
    add("fuzz_sweep_point", "failed",
        pack([("point.json", b'{"hash": "fuzz", "status": "failed", "error": "x"}')]))

    # ONNX: the import tests' small models.
    sys.path.insert(0, os.path.join(ROOT, "tests", "import"))
    try:
        import onnx_models
        with tempfile.TemporaryDirectory() as tmp:
            for name, build in (("small_cnn", onnx_models.small_cnn), ("mobilenet_block", onnx_models.mobilenet_block)):
                path = os.path.join(tmp, name + ".onnx")
                build(path)
                add("fuzz_onnx", name, read(path))
    except ImportError as e:  # python3-onnx missing: the harness starts from nothing
        print(f"fuzz_corpus: no ONNX seeds ({e})", file=sys.stderr)

    # Inputs that once failed (tests/fuzz/regressions/<harness>/), kept as regression seeds.
    reg = os.path.join(ROOT, "tests", "fuzz", "regressions")
    if os.path.isdir(reg):
        for harness in sorted(os.listdir(reg)):
            for n in sorted(os.listdir(os.path.join(reg, harness))):
                add(harness, "regression-" + n, read(os.path.join(reg, harness, n)))

    for harness, files in seeds.items():
        d = os.path.join(out, harness)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in files:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    total = sum(len(data) for files in seeds.values() for _, data in files)
    print(f"fuzz_corpus: {sum(len(f) for f in seeds.values())} seeds for {len(seeds)} harnesses "
          f"({total // 1024} KiB) in {out}")


if __name__ == "__main__":
    main()
