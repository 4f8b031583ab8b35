"""A sweep's results (results.csv of `cimsim sweep`, docs/sweep.md) as columns keyed by their dotted
names, which numpy.genfromtxt would mangle."""

import csv
import math
import os

import numpy as np

from ._core import InputError


def _column(values):
    """int64 if every cell is an integer, else float64 if every cell is a number (empty: nan), else str."""
    try:
        if "" not in values:
            return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(v) if v != "" else math.nan for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=object)


def load_sweep(directory, frame=None):
    """The sweep in `directory` (its results.csv): a pandas DataFrame when pandas is installed (or
    frame=True), else a dict {column name: numpy array} in the file's column order (frame=False).

    Columns: point, the swept keys (e.g. macro.adc_bits), seed, status, then the figures and the
    per-layer ones (conv1.lo, ...). Numbers are int64 or float64 (an empty cell is nan), the rest str.
    """
    path = os.path.join(directory, "results.csv")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file; give the --out directory of a finished `cimsim sweep`")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0]:
        raise InputError(f"{path}: the file is empty; run the sweep again (cimsim sweep resumes where it stopped)")
    header = rows[0]
    if len(set(header)) != len(header):
        raise InputError(f"{path}:1: a column name repeats; the file is not a cimsim sweep's results.csv")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{path}:{line}: {len(row)} cells for {len(header)} columns; the file is damaged, "
                             "rebuild it with cimsim sweep-merge or run the sweep again")
    columns = {name: _column([row[i] for row in rows[1:]]) for i, name in enumerate(header)}
    if frame is False:
        return columns
    try:
        import pandas
    except ImportError:
        if frame:
            raise InputError("load_sweep(frame=True) needs pandas (Debian: apt-get install python3-pandas)")
        return columns
    return pandas.DataFrame(columns, columns=header)
