#!/usr/bin/env python3
"""The table of docs/results.md for one network, from the directories of tools/reproduce_results.sh.

Usage: results_table.py OUT/NET   (prints markdown; a row whose sweep has not finished shows "-")

Each cell: mean +- sample standard deviation (n - 1) of the top-1 accuracy over the device seeds
(summary.csv of the row's sweep), in percent; the fp32 row is the float network's accuracy on the
same 10,000 test images (the trainer's last fp32 epoch), the same in every column.
"""
import csv
import os
import sys

ROWS = [
    ("qat-full", "QAT only, full-range ADC intervals"),
    ("qat-calibrated", "QAT, calibrated intervals (mse)"),
    ("noise", "two-stage: noise injection, full-range intervals"),
    ("flow", "whole flow: fed-back per-level cell errors (`cells`), calibrated + learned intervals"),
    ("flow-sums", "whole flow: fed-back partial-sum noise (`partial_sums`), calibrated + learned intervals"),
]
COLUMNS = ["3", "4", "5", "6", "8", "ideal"]


def row_cells(path):
    if not os.path.exists(path):
        return ["-"] * len(COLUMNS)
    cells = []
    for r in csv.DictReader(open(path)):
        if r["seeds_ok"] == "0":
            cells.append("failed")
            continue
        cells.append(f"{100 * float(r['accuracy_mean']):.2f} ± {100 * float(r['accuracy_std']):.2f}")
    return cells


def main(net_dir):
    print("| row | " + " | ".join(f"ADC {c}" if c != "ideal" else "ideal ADC" for c in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    metrics = os.path.join(net_dir, "base", "fp32", "run", "metrics.csv")
    fp32 = "-"
    if os.path.exists(metrics):
        rows = [r for r in csv.DictReader(open(metrics)) if r["stage"] == "fp32"]
        if rows:
            fp32 = f"{100 * float(rows[-1]['test_acc']):.2f}"
    print("| fp32 (float, no chip) | " + " | ".join([fp32] * len(COLUMNS)) + " |")
    for name, label in ROWS:
        path = os.path.join(net_dir, name, "summary.csv")
        print(f"| {label} | " + " | ".join(row_cells(path)) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
