"""Fixtures of the Python module's tests: the shipped LeNet-5 bundle and NeuroSim-like preset, the
cimsim program to compare with (CIMSIM), and a helper that runs it."""

import os
import subprocess

import numpy as np
import pytest

SOURCE = os.environ["CIMSIM_SOURCE_DIR"]
CIMSIM = os.environ["CIMSIM"]
HW = os.path.join(SOURCE, "configs/hw/rram-neurosim-128-4b.yaml")
VARIATION_HW = os.path.join(SOURCE, "configs/hw/rram-repro-4b-var.yaml")
MODEL = os.path.join(SOURCE, "configs/models/lenet5-fmnist-4b")
FMNIST = "/usr/share/datasets/fashion-mnist"


def cli(*args, check=True):
    """Runs the cimsim program; returns the CompletedProcess (stdout and stderr as text)."""
    done = subprocess.run([CIMSIM, "-q", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"cimsim {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def cli_error(*args):
    """The message of a failing cimsim command (its 'error: ' line without the prefix)."""
    done = cli(*args, check=False)
    assert done.returncode == 2, done.stderr
    lines = [l for l in done.stderr.splitlines() if l.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    return lines[0][len("error: "):]


def fashion_mnist_test(count):
    """The first `count` Fashion-MNIST test images (N x 1 x 28 x 28 uint8) and labels, read here."""
    import gzip

    def read(name, offset):
        path = os.path.join(FMNIST, name)
        with (open(path, "rb") if os.path.exists(path) else gzip.open(path + ".gz", "rb")) as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

    images = read("t10k-images-idx3-ubyte", 16)[: count * 784].reshape(count, 1, 28, 28)
    labels = read("t10k-labels-idx1-ubyte", 8)[:count].astype(np.int64)
    return images, labels


@pytest.fixture(scope="session")
def cimsim():
    import cimsim as module

    return module
