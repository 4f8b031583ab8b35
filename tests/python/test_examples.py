"""The examples of docs/python.md: each runs (on few images) and is the file the docs show."""

import os
import re
import subprocess
import sys

import pytest

from conftest import SOURCE

EXAMPLES = os.path.join(SOURCE, "configs/examples/python")


def doc_block(file_name):
    """The code block that follows the mention of `file_name` in docs/python.md."""
    text = open(os.path.join(SOURCE, "docs/python.md")).read()
    match = re.search(re.escape(file_name) + r".*?```python\n(.*?)```", text, re.S)
    assert match, f"docs/python.md shows no python block after {file_name}"
    return match.group(1)


def test_adc_sweep(tmp_path):
    script = os.path.join(EXAMPLES, "adc_sweep.py")
    assert doc_block("configs/examples/python/adc_sweep.py") == open(script).read()
    out = tmp_path / "sweep.png"
    env = dict(os.environ, LIMIT="16", OUT=str(out))
    done = subprocess.run([sys.executable, script], cwd=SOURCE, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(re.findall(r"^\d bits: \d+\.\d\d%, \d+\.\d nJ/image$", done.stdout, re.M)) == 5, done.stdout
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_train_cnn(tmp_path):
    pytest.importorskip("torch")
    script = os.path.join(EXAMPLES, "train_cnn.py")
    assert doc_block("configs/examples/python/train_cnn.py") == open(script).read()
    assert len(open(script).read().splitlines()) <= 30
    env = dict(os.environ, LIMIT="512", TEST_LIMIT="64", OUT=str(tmp_path / "cnn"))
    done = subprocess.run([sys.executable, script], cwd=SOURCE, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    match = re.fullmatch(r"(\d+\.\d\d)% on the simulated chip, \d+\.\d nJ/image\n", done.stdout)
    assert match, done.stdout
    assert float(match.group(1)) > 20  # trained (10% is chance) on 512 images
    for stage in ("qat", "cim"):
        assert (tmp_path / "cnn" / stage / "model.yaml").exists()
    assert "adc: {lo:" in (tmp_path / "cnn" / "cim" / "model.yaml").read_text()
