"""Issue 17 defect 5: a corrupt, truncated or hostile .gz data file made the loader allocate up to
about 1000 times the file's size (the gzip trailer's ISIZE was trusted, and the file was inflated
whole): 3 MB of random bytes took 2.6 GB, a 1 MB gzip bomb 1 GB even with --limit 50. The IDX reader
now keeps only the header's shape times the limit and counts the rest. Each case runs cimsim under a
small wrapper that reports the child's peak RSS."""
import gzip
import os
import struct
import subprocess
import sys
import zlib

import numpy as np

CIMSIM = os.environ["CIMSIM"]
SOURCE = os.environ["CIMSIM_SOURCE_DIR"]
HW4 = f"{SOURCE}/configs/hw/rram-neurosim-128-4b.yaml"
LENET = f"{SOURCE}/configs/models/lenet5-fmnist-4b"

# Runs argv, prints its exit status and peak RSS (KiB) on the last line of stderr.
PEAK_RSS = """
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.stderr.write("\\nPEAK %d %d\\n" % (p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""


# Under the sanitizers (docs/testing.md) ASan's shadow memory and allocator add to every peak: the
# bounds below are then 3 times as wide (still below what inflating the whole bomb would take).
SLACK = 3 if "ASAN_OPTIONS" in os.environ else 1


def run_measured(*args, timeout=300):
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:  # the sanitizer build (docs/testing.md): ASan's quarantine would count too
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=16"
    p = subprocess.run([sys.executable, "-c", PEAK_RSS, CIMSIM, *args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    lines = p.stderr.rstrip().splitlines()
    _, code, kib = lines[-1].split()
    return int(code), int(kib) * 1024, "\n".join(lines[:-1])


def write_gzip_stream(path, header, body_bytes, chunk=1 << 20):
    """A .gz of `header` followed by body_bytes zero bytes, compressed a chunk at a time."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip wrapper
    zeros = bytes(chunk)
    with open(path, "wb") as f:
        f.write(z.compress(header))
        left = body_bytes
        while left:
            n = min(left, chunk)
            f.write(z.compress(zeros[:n]))
            left -= n
        f.write(z.flush())


def labels_gz(path, count):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(count))


def test_gzip_bomb_with_limit_stays_small(tmp_path):
    """~470 MB of zero pixels in ~0.5 MB of gzip: with --limit 50 only 50 images are kept."""
    count = 600_000
    body = count * 28 * 28
    write_gzip_stream(tmp_path / "t10k-images-idx3-ubyte.gz", struct.pack(">IIII", 0x803, count, 28, 28), body)
    labels_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", count)
    assert os.path.getsize(tmp_path / "t10k-images-idx3-ubyte.gz") < 2 << 20
    code, peak, err = run_measured("run", "--hw", HW4, "--model", LENET, "--data", f"mnist:{tmp_path}",
                                   "--limit", "50", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert peak < SLACK * body / 4, f"peak RSS {peak >> 20} MiB for a {body >> 20} MiB bomb"


def test_bomb_longer_than_its_header_is_refused_early(tmp_path):
    """A header of 10 images followed by 300 MB: an error once the data runs past the header's size."""
    body = 300_000_000
    write_gzip_stream(tmp_path / "t10k-images-idx3-ubyte.gz", struct.pack(">IIII", 0x803, 10, 28, 28), body)
    labels_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", 10)
    code, peak, err = run_measured("run", "--hw", HW4, "--model", LENET, "--data", f"mnist:{tmp_path}",
                                   "--limit", "5")
    assert code == 2, err
    assert "t10k-images-idx3-ubyte.gz" in err and "data past the end" in err
    assert peak < SLACK * body / 2, f"peak RSS {peak >> 20} MiB"


def test_truncated_and_corrupt_gzip_are_clean_errors(tmp_path):
    rng = np.random.default_rng(5)
    images = struct.pack(">IIII", 0x803, 100, 28, 28) + rng.integers(0, 256, 100 * 784).astype(np.uint8).tobytes()
    whole = gzip.compress(images)
    labels_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", 100)
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    cases = {
        "truncated": whole[: len(whole) // 2],
        "corrupt": whole[:200] + bytes(b ^ 0x5A for b in whole[200:400]) + whole[400:],
        # 3 MB of random bytes behind the gzip magic, with an ISIZE of ~4 GB in its last 4 bytes.
        "random": b"\x1f\x8b\x08\x00" + rng.integers(0, 256, 3 << 20).astype(np.uint8).tobytes() + b"\xff\xff\xff\xfe",
    }
    for name, data in cases.items():
        target.write_bytes(data)
        code, peak, err = run_measured("run", "--hw", HW4, "--model", LENET, "--data", f"mnist:{tmp_path}",
                                       "--limit", "50")
        assert code == 2, f"{name}: {err}"
        assert str(target) in err and "corrupt gzip file" in err, f"{name}: {err}"
        assert peak < SLACK * (400 << 20), f"{name}: peak RSS {peak >> 20} MiB"
