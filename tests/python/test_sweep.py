"""cimsim.load_sweep: a sweep's results.csv by dotted column names, as a DataFrame or a dict."""

import numpy as np
import pytest

from conftest import HW, MODEL, cli


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    work = tmp_path_factory.mktemp("sweep")
    (work / "grid.yaml").write_text(f"""name: grid
hw: {HW}
model: {MODEL}
limit: 16
vary:
  macro.adc_bits: [4, 6]
seeds: [1, 2]
""")
    cli("sweep", str(work / "grid.yaml"), "--out", str(work / "out"), "--jobs", "2")
    return work / "out"


def test_columns_by_dotted_name(cimsim, sweep):
    columns = cimsim.load_sweep(str(sweep), frame=False)
    assert list(columns)[:4] == ["point", "macro.adc_bits", "seed", "status"]
    assert columns["macro.adc_bits"].dtype == np.int64 and sorted(columns["macro.adc_bits"]) == [4, 4, 6, 6]
    assert columns["accuracy"].dtype == np.float64 and ((columns["accuracy"] > 0) & (columns["accuracy"] <= 1)).all()
    assert "conv1.lo" in columns and list(columns["status"]) == ["ok"] * 4
    assert columns["chip_mm2"].dtype == np.float64  # empty cells: nan
    text = open(sweep / "results.csv").read().splitlines()
    assert len(text) == 5 and text[0].split(",") == list(columns)


def test_data_frame(cimsim, sweep):
    pandas = pytest.importorskip("pandas")
    frame = cimsim.load_sweep(str(sweep))
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(cimsim.load_sweep(str(sweep), frame=False))
    assert frame.groupby("macro.adc_bits")["accuracy"].mean().shape == (2,)


def test_bad_directories(cimsim, sweep, tmp_path):
    with pytest.raises(cimsim.InputError, match="results.csv: no such file"):
        cimsim.load_sweep(str(tmp_path))
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    lines = open(sweep / "results.csv").read().splitlines()
    (damaged / "results.csv").write_text("\n".join(lines[:2] + [lines[2][: len(lines[2]) // 2]]) + "\n")
    with pytest.raises(cimsim.InputError, match=r"results.csv:3: .* cells for .* columns"):
        cimsim.load_sweep(str(damaged))
    (damaged / "results.csv").write_text("")
    with pytest.raises(cimsim.InputError, match="is empty"):
        cimsim.load_sweep(str(damaged))
