#!/usr/bin/env python3
"""Every shipped preset (configs/hw/**/*.yaml) before and after a change: its figures on a fixed
workload against tests/data/preset_figures.json, exactly.

usage: preset_figures.py CIMSIM SOURCE_DIR [--update]

Per preset: `cimsim run` of the shipped LeNet-5 (configs/models/lenet5-fmnist-4b) on 50 test
images at 4-bit weights and inputs (dac_bits capped at 4, cell_bits at 3), and `cimsim mvm` of a random 300 x 40
matrix and 16 vectors (numpy seed 5) at the preset's own bits. A figure that differs from the
stored one fails the test, naming the preset and the figure; a change that means to move them
reruns this with --update and says why in its commit. Integers must match exactly; reals to a
relative 1e-9 (the same build gives the same bits, another compiler or CPU may round differently).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from validate_presets import resolved_macro  # noqa: E402

RUN_FIGURES = ["correct", "cycles_per_image", "latency_cycles", "energy_per_image_pj",
               "static_energy_per_image_pj", "dynamic_energy_per_image_pj", "tops_per_watt",
               "buffer_energy_pj", "buffer_capacity_bytes"]
MVM_FIGURES = ["cycles_per_mvm", "energy_per_mvm_pj", "conversions", "clipped_low", "clipped_high"]


def figures(cimsim, src, preset, tmp):
    stats = os.path.join(tmp, "stats.json")
    w = os.path.join(tmp, "w.npy")
    x = os.path.join(tmp, "x.npy")
    y = os.path.join(tmp, "y.npy")
    macro = resolved_macro(cimsim, preset, [], tmp)  # the preset's own bits
    out = {}
    rng = np.random.RandomState(5)
    wmax = 2 ** (macro["weight_bits"] - 1) - 1
    np.save(w, rng.randint(-wmax, wmax + 1, size=(300, 40)).astype(np.int32))
    np.save(x, rng.randint(0, 2 ** macro["input_bits"], size=(16, 300)).astype(np.int32))
    subprocess.run([cimsim, "mvm", "--hw", preset, "--weights", w, "--inputs", x, "--out", y, "--stats", stats,
                    "-q"], check=True)
    layer = json.load(open(stats))["layers"][0]
    for f in MVM_FIGURES:
        out["mvm." + f] = layer[f]
    out["mvm.sum_of_outputs"] = float(np.load(y).sum())
    subprocess.run([cimsim, "run", "--hw", preset, "--model", os.path.join(src, "configs/models/lenet5-fmnist-4b"),
                    "--limit", "50", "--set", "macro.weight_bits=4", "--set", "macro.input_bits=4",
                    "--set", f"macro.dac_bits={min(4, macro['dac_bits'])}",
                    "--set", f"macro.cell_bits={min(3, macro['cell_bits'])}", "--stats", stats, "-q"], check=True)
    run = json.load(open(stats))
    for f in RUN_FIGURES:
        out["run." + f] = run[f]
    if "area" in run:
        out["run.area.chip_mm2"] = run["area"]["chip_mm2"]
    return out


def main():
    cimsim, src = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    stored_path = os.path.join(src, "tests/data/preset_figures.json")
    hw = os.path.join(src, "configs/hw")
    presets = sorted(os.path.relpath(os.path.join(d, f), hw) for d, _, fs in os.walk(hw) for f in fs
                     if f.endswith(".yaml"))
    measured = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in presets:
            measured[p] = figures(cimsim, src, os.path.join(hw, p), tmp)
    if update:
        with open(stored_path, "w") as f:
            json.dump(measured, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {stored_path}: {len(measured)} presets")
        return 0
    stored = json.load(open(stored_path))
    bad = 0
    for p in sorted(set(stored) | set(measured)):
        if p not in measured or p not in stored:
            print(f"{p}: {'no longer shipped' if p not in measured else 'not in ' + stored_path}"
                  "; rerun with --update if intended")
            bad += 1
            continue
        for k in sorted(set(stored[p]) | set(measured[p])):
            a, b = stored[p].get(k), measured[p].get(k)
            if isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-9 * max(abs(a), abs(b)):
                continue
            if a != b:
                print(f"{p}: {k}: stored {stored[p].get(k)!r}, now {measured[p].get(k)!r}")
                bad += 1
    print(f"{len(measured)} presets, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
