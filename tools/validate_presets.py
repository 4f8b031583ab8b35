#!/usr/bin/env python3
"""The docs/validation.md table: each preset of configs/hw/validation on the workload its paper
reports, one full-array MVM, next to the published figures.

usage: tools/validate_presets.py CIMSIM

Per case: a random K x N weight matrix filling the macro's rows and logical outputs at the case's
bits and 64 random input vectors (numpy seed 1), run with `cimsim mvm`; latency is the stats'
latency_per_mvm_ns, TOPS/W = 2 K N / energy_per_mvm_pj (leakage included), static % the leakage's
share of that energy. Prints a Markdown table
and exits non-zero when a run fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
HW = os.path.join(HERE, "..", "configs", "hw")

# name, preset, overrides, published latency ns, published TOPS/W, where each published figure comes from
CASES = [
    ("Hung 2021, 22 nm ReRAM, 8b/8b", "validation/hung2021-rram-22nm.yaml", [], 15.2, 15.6,
     "abstract (both)"),
    ("Hung 2021, 22 nm ReRAM, binary", "validation/hung2021-rram-22nm.yaml",
     ["macro.weight_bits=2", "macro.input_bits=1", "macro.dac_bits=1"], 5.2, 194.4, "abstract (both)"),
    ("Si 2020, 28 nm SRAM, 8b/8b", "validation/si2020-sram-28nm.yaml", [], 8.4, 11.5,
     "JSSC 2021 abstract: range ends, pairing ours"),
    ("Si 2020, 28 nm SRAM, 4b/4b", "validation/si2020-sram-28nm.yaml",
     ["macro.weight_bits=4", "macro.input_bits=4"], 4.1, 68.4, "JSSC 2021 abstract: range ends, pairing ours"),
    ("Jia 2020, 65 nm SRAM, 1b/1b", "validation/jia2020-sram-65nm.yaml", [], 450.0, 400.0,
     "TOPS/W: abstract (0.85 V); latency: 2 x 768 x 256 ops / 0.874 1b-TOPS (CiMLoop's Table II)"),
    ("Le Gallo 2023, 14 nm PCM, 8b, one core", "validation/legallo2023-pcm-14nm.yaml", [], 133.0, 9.76,
     "TOPS/W: abstract; latency: 64 cores x 2 x 256^2 ops / 63.1 TOPS"),
]


def resolved_macro(cimsim, preset, overrides, tmp):
    """The `macro` section of a preset's resolved config (with --set overrides), from a 1 x 1 MVM's stats."""
    w, x, y, stats = (os.path.join(tmp, f) for f in ("probe_w.npy", "probe_x.npy", "probe_y.npy", "probe.json"))
    np.save(w, np.zeros((1, 1), dtype=np.int8))
    np.save(x, np.zeros((1, 1), dtype=np.uint8))
    sets = [a for o in overrides for a in ("--set", o)]
    subprocess.run([cimsim, "mvm", "--hw", preset, "-q", "--weights", w, "--inputs", x, "--out", y, "--stats", stats]
                   + sets, check=True)
    return json.load(open(stats))["config"]["macro"]


def run_case(cimsim, preset, overrides, tmp, index):
    path = os.path.join(HW, preset)
    macro = resolved_macro(cimsim, path, overrides, tmp)
    sets = [a for o in overrides for a in ("--set", o)]
    stats = os.path.join(tmp, f"stats{index}.json")
    base = [cimsim, "mvm", "--hw", path, "-q"] + sets
    rows, cols = macro["rows"], macro["cols"]
    slices = (macro["weight_bits"] - 1 + macro["cell_bits"] - 1) // macro["cell_bits"]
    k, n = rows, cols // (2 * slices)
    wmax = 2 ** (macro["weight_bits"] - 1) - 1
    xmax = 2 ** macro["input_bits"] - 1
    rng = np.random.RandomState(1)
    w = os.path.join(tmp, f"w{index}.npy")
    x = os.path.join(tmp, f"x{index}.npy")
    np.save(w, rng.randint(-wmax, wmax + 1, size=(k, n)).astype(np.int32))
    np.save(x, rng.randint(0, xmax + 1, size=(64, k)).astype(np.int32))
    subprocess.run(base + ["--weights", w, "--inputs", x, "--out", os.path.join(tmp, "y.npy"), "--stats", stats],
                   check=True)
    layer = json.load(open(stats))["layers"][0]
    energy = layer["energy_pj"]
    return (k, n, layer["latency_per_mvm_ns"], 2.0 * k * n / layer["energy_per_mvm_pj"],
            100.0 * energy["static"] / energy["total"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cimsim")
    args = ap.parse_args()
    print("| design, workload | preset | K x N | latency ns: published / cimsim (ratio) "
          "| TOPS/W: published / cimsim (ratio) | cimsim static % | published figures from |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, preset, overrides, lat, tops, source) in enumerate(CASES):
            try:
                k, n, sim_lat, sim_tops, static = run_case(args.cimsim, preset, overrides, tmp, i)
            except subprocess.CalledProcessError as e:
                print(f"validate_presets: {name}: cimsim failed ({e.returncode})", file=sys.stderr)
                return 1
            shown = preset + "".join(f" --set {o}" for o in overrides)
            print(f"| {name} | {shown} | {k} x {n} | {lat:g} / {sim_lat:.1f} ({sim_lat / lat:.2f}x) "
                  f"| {tops:g} / {sim_tops:.1f} ({sim_tops / tops:.2f}x) | {static:.1f} | {source} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
