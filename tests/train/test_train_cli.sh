#!/usr/bin/env bash
# End-to-end checks of `cimsim train` (which executes cimsim-train): a tiny fp32 + qat run whose bundle
# `cimsim run` accepts, resume refusals, stage cim, and bad experiment files.
# Usage: test_train_cli.sh CIMSIM_BINARY SOURCE_DIR
set -uo pipefail
cimsim="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tiny="$src/configs/experiments/tiny-test.yaml"
hw="$work/hw4.yaml"  # the RRAM preset at the experiment's 4-bit weights and inputs
sed 's/weight_bits: 8/weight_bits: 4/; s/input_bits: 8/input_bits: 4/' "$src/configs/hw/rram-neurosim-128.yaml" >"$hw"
passed=0
failed=0

source "$src/tests/support/cli_checks.sh"

train() { "$cimsim" train --config "$tiny" -q "$@"; }

# 1. Both stages through `cimsim train`, then the bundle on the simulator.
check "fp32 stage" train --out "$work/run"
check "qat stage from fp32" train --out "$work/run" --stage qat --from "$work/run" --hw "$hw"
check "bundle written" test -f "$work/run/bundle/model.yaml"
check "metrics has 5 epochs" test "$(wc -l <"$work/run/metrics.csv")" -eq 6
check "metrics header" grep -q '^epoch,stage,loss,train_acc,test_acc,lr,seconds,holdout_acc$' "$work/run/metrics.csv"
# The trainer reports the bundle's accuracy in double precision; the simulator with an ideal ADC agrees.
"$cimsim" train --config "$tiny" --out "$work/run" --stage qat --resume >"$work/resumed.log" 2>&1
trained=$(grep -o 'test accuracy [0-9.]*% ([0-9]*/[0-9]*)' "$work/resumed.log" | grep -o '([0-9]*/[0-9]*)')
"$cimsim" run --hw "$hw" --model "$work/run/bundle" --data fashion-mnist --limit 256 --set adc.ideal=true \
  --out "$work/sim" >"$work/sim.log" 2>&1
simulated=$(grep -o 'top-1 accuracy [0-9.]*% ([0-9]*/[0-9]*)' "$work/sim.log" | grep -o '([0-9]*/[0-9]*)')
check "simulator accuracy $simulated equals the trainer's $trained" test -n "$trained" -a "$trained" = "$simulated"
check "logits written" test -f "$work/sim/logits.npy"
check "cimsim links no LibTorch" test "$(ldd "$cimsim" | grep -c torch)" -eq 0
# 2. Stage cim on the preset's 5-bit ADCs: learned intervals in the bundle, and the simulator with those
# ADCs agrees with the accuracy the trainer reports (exact order, ideal devices).
"$cimsim" train --config "$tiny" --out "$work/cim" --stage cim --from "$work/run" --hw "$hw" >"$work/cim.log" 2>&1
check "cim bundle written" test -f "$work/cim/cim-bundle/model.yaml"
check "stage cim from full-range intervals warns and points to --calib" \
  grep -q "warning: --stage cim: the ADC intervals of conv1, conv2, fc1, fc2, fc3 start at the full range.*pass --calib" \
  "$work/cim.log"
check "cim bundle has learned intervals" grep -q "adc: {lo: " "$work/cim/cim-bundle/model.yaml"
trained=$(grep -o 'test accuracy [0-9.]*% ([0-9]*/[0-9]*)' "$work/cim.log" | grep -o '([0-9]*/[0-9]*)')
"$cimsim" run --hw "$hw" --model "$work/cim/cim-bundle" --data fashion-mnist --limit 256 --stats "$work/cim-stats.json" \
  >"$work/cim-sim.log" 2>&1
simulated=$(grep -o 'top-1 accuracy [0-9.]*% ([0-9]*/[0-9]*)' "$work/cim-sim.log" | grep -o '([0-9]*/[0-9]*)')
check "cim: simulator accuracy $simulated equals the trainer's $trained" test -n "$trained" -a "$trained" = "$simulated"
# With the simulator's measured error (--hw-stats), the injected noise follows the stats file.
"$cimsim" train --config "$tiny" --out "$work/fed" --stage cim --from "$work/run" --hw "$hw" \
  --hw-stats "$work/cim-stats.json" >"$work/fed.log" 2>&1
check "stage cim with --hw-stats" test -f "$work/fed/cim-bundle/model.yaml"
check "injected noise logged per layer" grep -q "layer conv1: injected partial-sum noise" "$work/fed.log"
# Statistics of programmed devices (docs/stats.md device_levels): by default (cim.feedback: cells) each
# layer's cells get its measured per-level error; with cim.feedback: partial_sums, only partial-sum noise.
"$cimsim" run -q --hw "$hw" --model "$work/run/bundle" --data fashion-mnist --limit 64 --set device.program_sigma=0.05 \
  --stats "$work/var-stats.json" >/dev/null 2>&1
"$cimsim" train --config "$tiny" --out "$work/fed-cells" --stage cim --from "$work/run" --hw "$hw" \
  --hw-stats "$work/var-stats.json" >"$work/fed-cells.log" 2>&1
check "cells feedback: per-level cell errors logged" \
  grep -qE "layer conv1: injected partial-sum noise [0-9.e-]+; cell error per level 0: \+0\.[0-9]+ \+- 0\.[0-9]+, 1: " "$work/fed-cells.log"
check "cells feedback: bundle written" test -f "$work/fed-cells/cim-bundle/model.yaml"
{ cat "$tiny"; echo "  feedback: partial_sums"; } >"$work/sums.yaml"  # cim: is the file's last section
"$cimsim" train --config "$work/sums.yaml" --out "$work/fed-sums" --stage cim --from "$work/run" --hw "$hw" \
  --hw-stats "$work/var-stats.json" >"$work/fed-sums.log" 2>&1
check "partial_sums feedback: noise only" bash -c "grep -q 'layer conv1: injected partial-sum noise' '$work/fed-sums.log' && ! grep -q 'cell error per level' '$work/fed-sums.log'"
# With --calib (cimsim calibrate), the learned intervals start from the calibration: at a learning rate
# of 1e-8 the exported intervals are the calibrated ones (to float32 storage).
check "calibrate the qat bundle" "$cimsim" calibrate --hw "$hw" --model "$work/run/bundle" --limit 40 --method mse \
  --out "$work/calib.yaml" -q
sed 's/^  lr: 0.003$/  lr: 1e-8/' "$tiny" >"$work/still.yaml"
"$cimsim" train --config "$work/still.yaml" --out "$work/calibrated" --stage cim --from "$work/run" --hw "$hw" \
  --calib "$work/calib.yaml" >"$work/calibrated.log" 2>&1
check "stage cim logs the calibrated start" grep -q "layer conv1: ADC interval starts at" "$work/calibrated.log"
check "stage cim with --calib does not warn" bash -c "! grep -q 'start at the full range' '$work/calibrated.log'"
intervals_equal_calib() {  # intervals_equal_calib RUN_DIR: its cim-bundle's intervals are calib.yaml's (float32)
  /usr/bin/python3 -c "
import re, sys
calib = dict((m[0], (float(m[1]), float(m[2]))) for m in re.findall(r'^  (\w+): \{lo: ([^,]+), hi: ([^,]+),', open('$work/calib.yaml').read(), re.M))
found = {}
for block in open('$1/cim-bundle/model.yaml').read().split('- name: ')[1:]:
    m = re.search(r'adc: \{lo: ([^,]+), hi: ([^}]+)\}', block)
    if m: found[block.split()[0]] = (float(m[1]), float(m[2]))
ok = len(calib) > 0 and set(calib) == set(found)
for k, (lo, hi) in calib.items():
    ok &= abs(found[k][0] - lo) <= 1e-4 * abs(lo) + 1e-6 and abs(found[k][1] - hi) <= 1e-4 * abs(hi) + 1e-6
sys.exit(0 if ok else 1)"
}
export -f intervals_equal_calib
export work
check "stage cim starts from the calibration" intervals_equal_calib "$work/calibrated"
# cim.learn_intervals: false at the experiment's learning rate: the intervals stay the calibrated ones;
# learned (the default, here on 64 images an epoch) they move.
sed 's/^  epochs: 1$/  epochs: 2\n  train_images: 64/' "$tiny" >"$work/short.yaml"
sed 's/^  train_images: 64$/  train_images: 64\n  learn_intervals: false/' "$work/short.yaml" >"$work/fixed.yaml"
"$cimsim" train --config "$work/fixed.yaml" --out "$work/fixed" --stage cim --from "$work/run" --hw "$hw" \
  --calib "$work/calib.yaml" >"$work/fixed.log" 2>&1
"$cimsim" train --config "$work/short.yaml" --out "$work/learned" --stage cim --from "$work/run" --hw "$hw" \
  --calib "$work/calib.yaml" >"$work/learned.log" 2>&1
check "fixed intervals are logged" grep -q "ADC intervals fixed at their start values" "$work/fixed.log"
check "train_images is logged" grep -q "512 training (64 per epoch) and 256 test images" "$work/fixed.log"
check "fixed intervals stay the calibrated ones" intervals_equal_calib "$work/fixed"
check "learned intervals move away from the calibration" bash -c "! intervals_equal_calib '$work/learned'"
check "an epoch of 64 images: train accuracy in 64ths" /usr/bin/python3 -c "
import csv
rows = [r for r in csv.DictReader(open('$work/learned/metrics.csv')) if r['stage'] == 'cim']
assert len(rows) == 2 and all(abs(float(r['train_acc']) * 64 - round(float(r['train_acc']) * 64)) < 1e-3 for r in rows), rows"
sed 's/^adc_bits: 5/adc_bits: 4/' "$work/calib.yaml" >"$work/calib4.yaml"
expect_error "calibration for other adc_bits" "calib4.yaml" "adc_bits 4" -- \
  train --out "$work/cal4" --stage cim --from "$work/run" --hw "$hw" --calib "$work/calib4.yaml"
expect_error "calib only for stage cim" "used only by --stage cim" -- train --out "$work/x" --calib "$work/calib.yaml"
# Stage cim with device noise, interrupted after its first of two epochs and resumed, ends with the
# bundle of an uninterrupted run (the noise draws are seeded per epoch).
noisy="$work/hw4noisy.yaml"
sed 's/program_sigma: .*/program_sigma: 0.05/' "$hw" >"$noisy"
cim2() { "$cimsim" train --config "$work/cim2.yaml" -q --stage cim --hw "$noisy" "$@"; }
sed 's/^  epochs: 1$/  epochs: 2/' "$tiny" >"$work/cim2.yaml"
cim2 --out "$work/whole" --from "$work/run"
cim2 --out "$work/halves" --from "$work/run" --stop-after 1
cim2 --out "$work/halves" --resume
check "noisy stage cim resumed equals uninterrupted" diff -r "$work/whole/cim-bundle" "$work/halves/cim-bundle"
check "qat continues from the bundle" train --out "$work/again" --stage qat --from "$work/run/bundle"
check "second bundle written" test -f "$work/again/bundle/model.yaml"

# Both stages interrupted after an epoch and resumed give the same bundle, byte for byte, and the same
# metrics but for the seconds. (Checkpoint files differ in bytes: LibTorch 1.13 names optimizer state
# by tensor addresses.)
train --out "$work/cut" --stop-after 1
train --out "$work/cut" --resume
train --out "$work/cut" --stage qat --from "$work/cut" --stop-after 1
train --out "$work/cut" --stage qat --resume
check "resumed bundle identical" diff -r "$work/run/bundle" "$work/cut/bundle"
check "resumed metrics identical" diff <(cut -d, -f1-6 "$work/run/metrics.csv") <(cut -d, -f1-6 "$work/cut/metrics.csv")

# One summary line per epoch; a progress bar on a terminal only.
"$cimsim" train --config "$tiny" --out "$work/plain" >"$work/plain.log" 2>&1
check "one summary line per epoch" test "$(grep -c 'fp32 epoch [0-9]/3: loss' "$work/plain.log")" -eq 3
check "no progress bar when not a terminal" test "$(grep -c $'\r' "$work/plain.log")" -eq 0
if command -v script >/dev/null; then
  script -qec "'$cimsim' train --config '$tiny' --out '$work/tty'" /dev/null >"$work/tty.log" 2>&1
  check "progress bar on a terminal" grep -q $'\r\\[=' "$work/tty.log"
fi

# 2. Refusals and bad input: one message naming the file, the line and the fix.
expect_error "existing checkpoint" "fp32.ckpt exists; pass --resume" -- train --out "$work/run"
expect_error "nothing to resume" "--resume" "does not exist" -- train --out "$work/empty" --resume
expect_error "stage cim needs the hardware" "--stage cim needs --hw" -- train --out "$work/cim2" --stage cim --from "$work/run"
expect_error "hw-stats only for stage cim" "used only by --stage cim" -- train --out "$work/x" --hw-stats "$work/s.json"
sed 's/  weight: 4/  weight: 6/' "$tiny" >"$work/six.yaml"
expect_error "hw bits differ" "macro.weight_bits 4 and macro.input_bits 4 differ from $work/six.yaml's bits (6, 4)" -- \
  "$cimsim" train --config "$work/six.yaml" --out "$work/hw" --hw "$hw" -q
sed "s/  batch_size: 32/  batchsize: 32/" "$tiny" >"$work/bad.yaml"
line=$(grep -n "batchsize" "$work/bad.yaml" | cut -d: -f1)
expect_error "misspelled key" "bad.yaml:$line: schedule.batchsize: unknown key; did you mean 'batch_size'?" -- \
  "$cimsim" train --config "$work/bad.yaml" --out "$work/bad"
sed 's/arch: lenet5/arch: lenet7/' "$tiny" >"$work/bad.yaml"
line=$(grep -n "lenet7" "$work/bad.yaml" | cut -d: -f1)
expect_error "unknown network" "bad.yaml:$line: network.arch: 'lenet7' is not a known value" -- \
  "$cimsim" train --config "$work/bad.yaml" --out "$work/bad"

# select: best with data.holdout: stage qat ends with (and exports) the epoch of the best held-out accuracy.
sed 's/^  test_limit: 256$/  test_limit: 256\n  holdout: 128/; /^qat:$/,$d' "$tiny" >"$work/best.yaml"
# lr 0.1: high enough that the last epoch is not the best (here epochs 2 and 3 tie; the first counts)
printf 'qat:\n  epochs: 3\n  lr: 0.1\n  select: best\n' >>"$work/best.yaml"  # the tiny file's qat and cim go
"$cimsim" train --config "$work/best.yaml" --out "$work/best" --stage qat --from "$work/run" --hw "$hw" \
  >"$work/best.log" 2>&1
check "select best: training on 384 images, 128 held out" grep -q "384 training, 128 held-out and 256 test images" "$work/best.log"
check "select best: bundle written" test -f "$work/best/bundle/model.yaml"
best_epoch_check() {
  /usr/bin/python3 - "$work/best" "$work/best.log" <<'PY'
import csv, filecmp, os, re, sys
d, log = sys.argv[1], open(sys.argv[2]).read()
rows = [r for r in csv.DictReader(open(f"{d}/metrics.csv")) if r["stage"] == "qat"]
acc = [float(r["holdout_acc"]) for r in rows]
assert len(acc) == 3, rows
best = acc.index(max(acc)) + 1  # the first of equals
m = re.search(r"qat ends with epoch (\d) of 3 \(held-out accuracy ([0-9.]+)%", log)
assert m and int(m[1]) == best and abs(float(m[2]) - 100 * max(acc)) < 0.006, (m and m.groups(), acc)
assert os.path.exists(f"{d}/qat-last.ckpt") and not os.path.exists(f"{d}/qat-best.ckpt")
# the stage's checkpoint holds the best epoch's weights: the last epoch's unless that was the best
same = filecmp.cmp(f"{d}/qat.ckpt", f"{d}/qat-last.ckpt", shallow=False)
assert same == (best == 3), (best, same)
print("best epoch", best, "of held-out accuracies", acc)
PY
}
check "select best: the best held-out epoch is the stage's and the last is kept" best_epoch_check
cp "$work/best/qat.ckpt" "$work/best-before.ckpt"
check "select best: a rerun of the finished stage changes nothing" bash -c "'$cimsim' train --config '$work/best.yaml' \
  --out '$work/best' --stage qat --resume --hw '$hw' -q && cmp -s '$work/best/qat.ckpt' '$work/best-before.ckpt'"
sed 's/^  holdout: 128$//' "$work/best.yaml" >"$work/nohold.yaml"
line=$(grep -n "select: best" "$work/nohold.yaml" | cut -d: -f1)
expect_error "select best without held-out images" "nohold.yaml:$line: qat.select: best needs held-out images" \
  "set data.holdout" -- "$cimsim" train --config "$work/nohold.yaml" --out "$work/nohold"
sed 's/^  holdout: 128$/  holdout: 512/' "$work/best.yaml" >"$work/allheld.yaml"
expect_error "holdout of every training image" "data.holdout 512 leaves none of the 512 training images" -- \
  "$cimsim" train --config "$work/allheld.yaml" --out "$work/allheld"
check "nothing written for a bad holdout" test ! -e "$work/allheld"

# 3. Without cimsim-train beside it, cimsim says what is missing.
mkdir -p "$work/alone" && cp "$cimsim" "$work/alone/cimsim"
expect_error "trainer missing" "cimsim-train, which does not exist" -- "$work/alone/cimsim" train --config "$tiny"

# 4. The trainer's environment: passive OpenMP waits, one OpenBLAS thread, and OpenBLAS's kernels named
# by the CPU's instructions (not its model), each unless the user set it. A stand-in cimsim-train
# prints what it receives.
printf '#!/bin/sh\nenv\n' >"$work/alone/cimsim-train" && chmod +x "$work/alone/cimsim-train"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { for f in "$@"; do grep -qw "$f" <<<"$flags" || return 1; done; }
if has avx512f avx512cd avx512bw avx512dq avx512vl; then core=SkylakeX; elif has avx2 fma; then core=Haswell; else core=; fi
env -u OPENBLAS_CORETYPE -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS "$work/alone/cimsim" train >"$work/env.txt" 2>&1
check "trainer gets OMP_WAIT_POLICY=passive" grep -qx 'OMP_WAIT_POLICY=passive' "$work/env.txt"
check "trainer gets OPENBLAS_NUM_THREADS=1" grep -qx 'OPENBLAS_NUM_THREADS=1' "$work/env.txt"
if [ -n "$core" ]; then
  check "trainer gets OPENBLAS_CORETYPE=$core" grep -qx "OPENBLAS_CORETYPE=$core" "$work/env.txt"
else
  check "no OPENBLAS_CORETYPE without AVX2" bash -c "! grep -q OPENBLAS_CORETYPE '$work/env.txt'"
fi
OPENBLAS_CORETYPE=Prescott "$work/alone/cimsim" train >"$work/env-user.txt" 2>&1
check "the user's OPENBLAS_CORETYPE is kept" grep -qx 'OPENBLAS_CORETYPE=Prescott' "$work/env-user.txt"

cli_summary
