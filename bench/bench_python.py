#!/usr/bin/env python3
"""The Python module's overhead: cimsim.run against the cimsim program on the same run (a model
over N test images), alternating, with the wall time of each (the program's from its start to
its exit, the module's of the call, data loading included in both). Prints figures, asserts
nothing but that both give the same logits.

    PYTHONPATH=build/python /usr/bin/python3 bench/bench_python.py [--images 10000] [--rounds 2]
"""

import argparse
import os
import platform
import subprocess
import tempfile
import time

import numpy as np

import cimsim

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--images", type=int, default=10000)
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--hw", default=os.path.join(root, "configs/hw/rram-neurosim-128-4b.yaml"))
parser.add_argument("--model", default=os.path.join(root, "configs/models/lenet5-fmnist-4b"))
parser.add_argument("--cimsim", default=os.path.join(root, "build/cimsim"))
args = parser.parse_args()

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.processor())
print(f"CPU: {cpu}, {os.cpu_count()} cores; {args.images} images of fashion-mnist test, "
      f"{os.path.basename(args.model)} on {os.path.basename(args.hw)}")
program, module = [], []
with tempfile.TemporaryDirectory() as work:
    for r in range(args.rounds):
        start = time.perf_counter()
        subprocess.run([args.cimsim, "-q", "run", "--hw", args.hw, "--model", args.model, "--limit", str(args.images),
                        "--out", work], check=True, stdout=subprocess.DEVNULL)
        program.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = cimsim.run(args.hw, args.model, limit=args.images, histograms=True)
        module.append(time.perf_counter() - start)
        assert np.array_equal(result.logits, np.load(os.path.join(work, "logits.npy")))
        print(f"round {r + 1}: cimsim run {program[-1]:.2f} s, cimsim.run {module[-1]:.2f} s "
              f"({100 * (module[-1] / program[-1] - 1):+.1f}%)")
print(f"best: cimsim run {min(program):.2f} s, cimsim.run {min(module):.2f} s "
      f"({100 * (min(module) / min(program) - 1):+.1f}%); logits identical")
