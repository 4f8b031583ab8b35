#!/usr/bin/env bash
# `cimsim sweep` and `cimsim sweep-merge` end to end on the shipped LeNet-5 and a few images: the
# rows equal the points run one by one with `cimsim calibrate` and `cimsim run`; a killed sweep
# resumes with only the missing points and ends equal to an uninterrupted one; a point whose process
# dies is recorded as failed without stopping the others and is rerun; two shards merged equal the
# whole sweep; a bad sweep file is one clear error before any point runs.
# Usage: test_sweep.sh CIMSIM_BINARY SOURCE_DIR
set -uo pipefail
cimsim="$1"
src="$(cd "$2" && pwd)"
work="$(mktemp -d)"
trap 'pkill -P $$ 2>/dev/null; rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/support/cli_checks.sh"
hw="$src/configs/hw/rram-neurosim-128-4b.yaml"
model="$src/configs/models/lenet5-fmnist-4b"
py=/usr/bin/python3

# 1. A 2 x 2 sweep with calibration at every point, against the points run one by one.
cat >"$work/grid.yaml" <<YAML
name: grid
hw: $hw
model: $model
limit: 64
batch: 32
vary:
  macro.adc_bits: [4, 6]
  device.program_sigma: [0.0, 0.05]
seeds: [3]
calibration: {method: mse, limit: 40}
YAML
check "2 x 2 sweep runs with 2 jobs" "$cimsim" sweep "$work/grid.yaml" --out "$work/grid" --jobs 2
check "results files written" test -s "$work/grid/results.csv" -a -s "$work/grid/summary.csv" \
  -a -s "$work/grid/results.json"
check "every plot as PNG and SVG" bash -c "for f in accuracy energy pareto adc_cost area; do
  head -c 8 '$work/grid/'\$f.png | grep -q PNG && grep -q '<svg' '$work/grid/'\$f.svg || exit 1; done"
# The converter's cost per point follows its model: per_comparison SAR, adc_bits x 0.1 pJ.
check "adc_pj_per_conversion follows energy.adc_model" $py -c "
import csv
rows = list(csv.DictReader(open('$work/grid/results.csv')))
assert len(rows) == 4 and all(float(r['adc_pj_per_conversion']) == int(r['macro.adc_bits']) * 0.1 for r in rows)
assert all(r['adc_um2'] == '' and r['chip_mm2'] == '' for r in rows)  # no area section
"
i=0
for bits in 4 6; do
  for sigma in 0.0 0.05; do
    set_args=(--set "macro.adc_bits=$bits" --set "device.program_sigma=$sigma")
    "$cimsim" calibrate -q --hw "$hw" --model "$model" --limit 40 --method mse --batch 32 --seed 3 \
      "${set_args[@]}" --out "$work/one$i.yaml"
    "$cimsim" run -q --hw "$hw" --model "$model" --limit 64 --batch 32 --seed 3 --calib "$work/one$i.yaml" \
      "${set_args[@]}" --stats "$work/one$i.json"
    i=$((i + 1))
  done
done
check "every row equals its point run one by one" $py - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
rows = list(csv.DictReader(open(f"{work}/grid/results.csv")))
assert len(rows) == 4, len(rows)
expected_values = [("4", "0.0"), ("4", "0.05"), ("6", "0.0"), ("6", "0.05")]
for i, row in enumerate(rows):
    s = json.load(open(f"{work}/one{i}.json"))
    assert (row["macro.adc_bits"], row["device.program_sigma"]) == expected_values[i], row
    assert row["status"] == "ok" and row["seed"] == "3" and row["error"] == "", row
    assert float(row["accuracy"]) == s["accuracy"] and int(float(row["images"])) == 64
    assert float(row["energy_per_image_pj"]) == s["energy_per_image_pj"]
    assert float(row["energy_adc_pj"]) == s["energy_pj"]["adc"] / 64
    assert float(row["cycles_per_image"]) == s["cycles_per_image"]
    assert float(row["tops_per_watt"]) == s["tops_per_watt"]
    assert s["config"]["macro"]["adc_bits"] == int(expected_values[i][0])
    conversions = clipped = 0
    for layer in s["layers"]:
        if "cim" not in layer:
            continue
        c = layer["cim"]
        conversions += c["conversions"]
        clipped += c["clipped_low"]
        name = layer["name"]
        assert float(row[f"{name}.lo"]) == c["adc_interval"]["lo"], name
        assert float(row[f"{name}.hi"]) == c["adc_interval"]["hi"], name
        assert not c["adc_interval"]["full_range"], "calibrated intervals are not the full range"
        assert float(row[f"{name}.clip_rate_high"]) == c["clip_rate_high"], name
        assert float(row[f"{name}.cycles_per_image"]) == layer["cycles_per_image"], name
        assert float(row[f"{name}.energy_per_image_pj"]) == layer["energy_per_image_pj"], name
    assert float(row["clip_rate_low"]) == clipped / conversions
    assert float(row["static_energy_pj"]) == s["static_energy_per_image_pj"]
    assert float(row["energy_buffer_pj"]) == s["buffer_energy_pj"] / 64
# 6 bits resolve the partial sums more finely than 4 on the same intervals' data
r = json.load(open(f"{work}/grid/results.json"))
assert r["complete"] and r["failed"] == 0 and r["params"] == ["macro.adc_bits", "device.program_sigma"]
assert r["points"][2]["config"]["macro"]["adc_bits"] == 6
summary = list(csv.DictReader(open(f"{work}/grid/summary.csv")))
assert len(summary) == 4 and all(s["seeds_ok"] == "1" and s["accuracy_std"] == "0" for s in summary)
for s, row in zip(summary, rows):  # one seed: each mean is the point's figure
    for column in ("static_energy_pj", "dynamic_energy_pj", "images_per_second", "energy_per_image_pj"):
        assert s[column + "_mean"] == row[column], (column, s, row)
    assert s["chip_mm2_mean"] == "" and s["tops_per_mm2_mean"] == ""  # no area section
PY

# Zipped values (a value may repeat in one list), an ideal ADC (not calibrated) beside a calibrated
# one, a quoted value kept as text.
cat >"$work/zip.yaml" <<YAML
name: zip
hw: $hw
model: $model
limit: 32
vary:
  macro.adc_bits: [8, 8]
  adc.ideal: [false, true]
  name: ["chip #1", "true"]
combine: zip
calibration: {method: minmax, limit: 16, zero_level: true}
YAML
check "zipped sweep" "$cimsim" -q sweep "$work/zip.yaml" --out "$work/zip"
check "zip pairs the values; only the non-ideal point is calibrated" $py - "$work/zip" <<'PY'
import json, os, sys
d = sys.argv[1]
r = json.load(open(f"{d}/results.json"))
assert [p["values"] for p in r["points"]] == [["8", "false", '"chip #1"'], ["8", "true", '"true"']], r["points"]
assert [p["config"]["name"] for p in r["points"]] == ["chip #1", "true"]
assert [p["config"]["adc"]["ideal"] for p in r["points"]] == [False, True]
assert os.path.exists(f"{d}/points/000000/calib.yaml") and not os.path.exists(f"{d}/points/000001/calib.yaml")
assert all(l["hi"] < 128 for l in r["points"][0]["layers"]), "minmax intervals are inside the full range"
calib = open(f"{d}/points/000000/calib.yaml").read()
assert "zero_level: true" in calib, "calibration.zero_level reaches cimsim calibrate"
PY

# 2. Seeds, interruption, failure and shards on a sweep of 6 points without calibration.
cat >"$work/seeds.yaml" <<YAML
name: seeds
hw: $hw
model: $model
limit: 64
batch: 32
vary:
  macro.adc_bits: {from: 4, to: 6, step: 2}
seeds: {first: 1, count: 3}
YAML
sweep() { "$cimsim" sweep "$work/seeds.yaml" "$@"; }
check "uninterrupted sweep" sweep --out "$work/whole" -q
check "6 points, seeds innermost" $py - "$work/whole/results.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["macro.adc_bits"], r["seed"]) for r in rows] == [("4", "1"), ("4", "2"), ("4", "3"), ("6", "1"), ("6", "2"), ("6", "3")]
PY
same_results() {  # same_results DIR: results.csv, results.json and summary.csv equal the whole sweep's
  cmp -s "$work/whole/results.csv" "$1/results.csv" && cmp -s "$work/whole/results.json" "$1/results.json" &&
    cmp -s "$work/whole/summary.csv" "$1/summary.csv"
}
records() { ls "$1"/points/*/point.json 2>/dev/null | wc -l; }

# Killed (SIGKILL) after two points: the running point dies with it, a rerun runs only the rest.
"$cimsim" sweep "$work/seeds.yaml" --out "$work/killed" --jobs 1 >"$work/killed.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(records "$work/killed")" -ge 2 ] && break; sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null
done_before=$(records "$work/killed")
# The running point's processes get SIGKILL from the kernel when the sweep dies (PR_SET_PDEATHSIG):
# wait until none is left (at most 10 s), then nothing more may have been recorded.
survivors() { pgrep -f -- "$work/killed/" >/dev/null; }
for _ in $(seq 200); do survivors || break; sleep 0.05; done
check "killed sweep: some but not all points done, no results" \
  test "$done_before" -ge 2 -a "$done_before" -lt 6 -a ! -e "$work/killed/results.csv"
no_survivors() { ! survivors; }
check "killed sweep: its running point died with it" no_survivors
check "killed sweep: nothing recorded after the kill" test "$(records "$work/killed")" -eq "$done_before"
check "rerun after the kill" sweep --out "$work/killed" --resume >"$work/resume.log" 2>&1
check "rerun ran only the missing points" \
  grep -q "$done_before already done, running $((6 - done_before)) with" "$work/resume.log"
check "resumed sweep equals the uninterrupted one" same_results "$work/killed"
sweep --out "$work/killed" >"$work/again.log" 2>&1
check "a complete sweep reruns nothing" grep -q "6 already done, running 0 with" "$work/again.log"

# The program's file deleted while its sweep runs (as a rebuild replaces it): every point still runs
# this build.
mkdir -p "$work/bin"
cp "$cimsim" "$(dirname "$cimsim")/sweep_plot.py" "$(dirname "$cimsim")/cimsim_stats.py" "$work/bin/"
"$work/bin/cimsim" sweep "$work/seeds.yaml" --out "$work/rebuilt" --jobs 1 -q >"$work/rebuilt.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(readlink /proc/$pid/exe)" = "$work/bin/cimsim" ] && break; sleep 0.01; done
rm "$work/bin/cimsim"
wait $pid
rc=$?
check "a sweep whose program file is deleted after it started finishes" test "$rc" -eq 0
check "... and equals the uninterrupted one" same_results "$work/rebuilt"

# A point whose process is killed is recorded as failed; the others finish; a rerun retries it.
"$cimsim" sweep "$work/seeds.yaml" --out "$work/fail" --jobs 1 >"$work/fail.log" 2>&1 &
pid=$!
for _ in $(seq 600); do child=$(pgrep -P $pid) && break; sleep 0.02; done
kill -9 $child
wait $pid
rc=$?
check "a failed point makes the sweep exit non-zero" test "$rc" -eq 1
check "the failure is reported" grep -q "1 of 6 points failed" "$work/fail.log"
check "the failed point's row holds its error, the others are ok" $py - "$work/fail/results.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = [r for r in rows if r["status"] != "ok"]
assert len(rows) == 6 and len(bad) == 1, rows
assert bad[0]["status"] == "failed" and "killed by signal 9" in bad[0]["error"] and bad[0]["accuracy"] == "", bad
PY
check "rerun retries the failed point" sweep --out "$work/fail" >"$work/retry.log" 2>&1
check "only the failed point ran again" grep -q "5 already done, running 1 with" "$work/retry.log"
check "retried sweep equals the uninterrupted one" same_results "$work/fail"

# Seeds added to the sweep file: the finished points are renumbered, not rerun.
sed 's/count: 3/count: 4/' "$work/seeds.yaml" >"$work/seeds4.yaml"
cp -r "$work/whole" "$work/grown"
check "a grown sweep runs" "$cimsim" sweep "$work/seeds4.yaml" --out "$work/grown" >"$work/grown.log" 2>&1
check "only the new seed's points ran" grep -q "6 already done, running 2 with" "$work/grown.log"
check "the kept points' rows are the old ones" $py - "$work/whole/results.csv" "$work/grown/results.csv" <<'PY'
import csv, sys
key = lambda r: (r["macro.adc_bits"], r["seed"])
old = {key(r): {k: v for k, v in r.items() if k != "point"} for r in csv.DictReader(open(sys.argv[1]))}
new = {key(r): {k: v for k, v in r.items() if k != "point"} for r in csv.DictReader(open(sys.argv[2]))}
assert len(new) == 8 and all(new[k] == v for k, v in old.items())
assert [r["point"] for r in csv.DictReader(open(sys.argv[2]))] == [str(i) for i in range(8)]
PY

# Two shards on two "machines", merged.
check "shard 1/2" sweep --out "$work/s1" --shard 1/2 -q
check "shard 2/2" sweep --out "$work/s2" --shard 2/2 -q
check "shard 1/2 holds points 0, 2, 4" $py - "$work/s1/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert [p["point"] for p in r["points"]] == [0, 2, 4] and not r["complete"] and r["shard"] == "1/2"
PY
check "sweep-merge" "$cimsim" -q sweep-merge "$work/s2" "$work/s1" --out "$work/merged"
check "merged shards equal the whole sweep" same_results "$work/merged"
expect_error "merge with a shard missing" "3 of 6 points have no record" "points 1, 3, 5" -- \
  "$cimsim" sweep-merge "$work/s1" --out "$work/bad"
check "a failed merge writes nothing" test ! -e "$work/bad"
expect_error "merge of different sweeps" "a different sweep" -- \
  "$cimsim" sweep-merge "$work/s1" "$work/grid" --out "$work/bad"

# 3. Bad sweep files: one error naming the file and line, before any point runs.
bad_sweep() {  # bad_sweep NAME TEXT... -- YAML-BODY (after the hw and model lines)
  local name="$1"
  shift
  local texts=()
  while [ "$1" != "--" ]; do texts+=("$1"); shift; done
  shift
  printf 'hw: %s\nmodel: %s\nlimit: 8\n%s\n' "$hw" "$model" "$1" >"$work/bad.yaml"
  expect_error "$name" "${texts[@]}" -- "$cimsim" sweep "$work/bad.yaml" --out "$work/bad"
  check "$name: nothing ran" test ! -e "$work/bad"
}
bad_sweep "misspelled path" "bad.yaml:6: vary.macro.adc_bit" "did you mean 'macro.adc_bits'" -- \
  "$(printf 'vary:\n  macro.rows: [128]\n  macro.adc_bit: [4, 5]')"
bad_sweep "value out of range" "bad.yaml:6:" "macro.adc_bits=40" "out of range" -- \
  "$(printf 'vary:\n  device.program_sigma: [0.0]\n  macro.adc_bits: [4, 40]')"
bad_sweep "point that does not fit its chip" "bad.yaml:6:" "chip.macros=1" "needs 32 macros" -- \
  "$(printf 'vary:\n  macro.adc_bits: [4]\n  chip.macros: [1]')"
bad_sweep "unknown top-level key" "bad.yaml:4: seed: unknown key" "did you mean 'seeds'" -- "seed: [1, 2]"
bad_sweep "zip of unequal lists" "combine" "zip needs lists of one length" -- \
  "$(printf 'combine: zip\nvary:\n  macro.adc_bits: [4, 5]\n  device.program_sigma: [0.0]')"
bad_sweep "empty range" "bad.yaml:5:" "vary.macro.adc_bits.to: is below from" -- \
  "$(printf 'vary:\n  macro.adc_bits: {from: 6, to: 4}')"
bad_sweep "repeated seed" "seeds: 2 appears twice" -- "seeds: [2, 2]"
bad_sweep "missing bundle of a model value" "bad.yaml:5:" "no-such-bundle" -- \
  "$(printf 'vary:\n  model: [no-such-bundle]')"
bad_sweep "interval of a layer the model does not have" "bad.yaml:5: vary.adc.layers.fc9" "conv1, conv2, fc1" -- \
  "$(printf 'vary:\n  adc.layers.fc9: [{lo: -5, hi: 5}]')"
bad_sweep "repeated value" "bad.yaml:5:" "'5' appears twice" -- "$(printf 'vary:\n  macro.adc_bits: [5, 5]')"
bad_sweep "too many points" "more than 100000 points" -- \
  "$(printf 'vary:\n  device.read_noise_sigma: {from: 0, to: 0.999, step: 0.001}\n  device.program_sigma: {from: 0, to: 0.999, step: 0.001}')"
cp -r "$model" "$work/copy"
bad_sweep "two bundles with the same files" "are the same run" -- "$(printf 'vary:\n  model: [%s, %s]' "$model" "$work/copy")"
bad_sweep "bad calibration method" "calibration.method" "'best' is not a known value" -- \
  "calibration: {method: best}"
expect_error "bad shard" "--shard 3/2" "1 <= I <= N" -- "$cimsim" sweep "$work/seeds.yaml" --out "$work/bad" --shard 3/2
expect_error "resume of nothing" "--resume" "no sweep.json" -- \
  "$cimsim" sweep "$work/seeds.yaml" --out "$work/bad" --resume
expect_error "missing sweep file" "no-such.yaml" -- "$cimsim" sweep "$work/no-such.yaml" --out "$work/bad"
check "no output after the bad commands" test ! -e "$work/bad"

# A cimsim binary without its plot scripts beside it: the sweep's points run and are kept (a rerun
# resumes from them), and the plot step fails with one error naming the missing script and the fix.
mkdir -p "$work/lone"
cp "$cimsim" "$work/lone/cimsim"
cat >"$work/lone.yaml" <<YAML
hw: $hw
model: $model
limit: 8
vary:
  macro.adc_bits: [5]
YAML
expect_error "plot script missing" "sweep_plot.py does not exist" "copy tools/sweep_plot.py there" -- \
  "$work/lone/cimsim" sweep "$work/lone.yaml" --out "$work/lone-out"
check "its points kept" test -n "$(ls "$work/lone-out/points")"

cli_summary
