#!/usr/bin/env bash
# End-to-end checks of the cimsim program: results, reproducibility, traces and bad input.
# Usage: test_cli.sh CIMSIM_BINARY SOURCE_DIR
set -uo pipefail
cimsim="$1"
src="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
hw="$src/configs/hw/rram-neurosim-128.yaml"
W="$src/configs/examples/mvm/weights.npy"
X="$src/configs/examples/mvm/inputs.npy"
passed=0
failed=0

source "$src/tests/support/cli_checks.sh"

run_mvm() { "$cimsim" mvm --hw "$hw" --weights "$W" --inputs "$X" "$@"; }

# 1. The example runs, writes Y and the stats with the resolved config; with an ideal ADC Y = X.W.
check "example run" run_mvm --out "$work/y.npy" --stats "$work/stats.json" --set adc.ideal=true -q
check "stats has layers and config" grep -q '"cycles_per_mvm": 164' "$work/stats.json"
check "stats has resolved config" grep -q '"rows_per_cycle": 128' "$work/stats.json"
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  check "ideal ADC gives X.W" /usr/bin/python3 -c "
import numpy as np, sys
W = np.load('$W').astype(np.int64); X = np.load('$X').astype(np.int64); Y = np.load('$work/y.npy')
sys.exit(0 if Y.dtype == np.float64 and Y.shape == (X.shape[0], W.shape[1]) and (Y == X @ W).all() else 1)"
fi

# 2. Same seed, same numbers; another seed, other device draws.
noisy=(--set device.program_sigma=0.05 --set device.read_noise_sigma=0.5 -q)
check "seed 7 run a" run_mvm --out "$work/a.npy" --seed 7 "${noisy[@]}"
check "seed 7 run b" run_mvm --out "$work/b.npy" --seed 7 "${noisy[@]}"
check "seed 8 run" run_mvm --out "$work/c.npy" --seed 8 "${noisy[@]}"
check "same seed identical" cmp -s "$work/a.npy" "$work/b.npy"
check "other seed differs" bash -c "! cmp -s '$work/a.npy' '$work/c.npy'"
check "batch size does not change numbers" run_mvm --out "$work/d.npy" --seed 7 --batch 5 "${noisy[@]}"
check "batch 5 identical to default batch" cmp -s "$work/a.npy" "$work/d.npy"
check "one thread" env OMP_NUM_THREADS=1 "$cimsim" mvm --hw "$hw" --weights "$W" --inputs "$X" --out "$work/e.npy" --seed 7 "${noisy[@]}"
check "thread count does not change numbers" cmp -s "$work/a.npy" "$work/e.npy"

# 3. A trace that GTKWave's own converter accepts.
check "trace run" run_mvm --out "$work/t.npy" --trace "$work/t.vcd" --trace-window 5:60 -q
check "trace and save file exist" test -s "$work/t.vcd" -a -s "$work/t.gtkw"
if command -v vcd2fst >/dev/null; then
  check "vcd2fst converts the trace" vcd2fst "$work/t.vcd" "$work/t.fst"
fi

# 4. Bad input: one clear message, exit code 2, no result written.
sed 's/^  adc_bits: 5/  adc_bit: 5/' "$hw" >"$work/typo.yaml"
line=$(grep -n "adc_bit: 5" "$work/typo.yaml" | cut -d: -f1)
expect_error "misspelled key" "typo.yaml:$line" "macro.adc_bit" "did you mean 'adc_bits'" -- \
  "$cimsim" mvm --hw "$work/typo.yaml" --weights "$W" --inputs "$X" --out "$work/bad.npy"
expect_error "out of range via --set" "--set macro.adc_bits=0" "macro.adc_bits" -- \
  run_mvm --out "$work/bad.npy" --set macro.adc_bits=0
expect_error "missing config" "nope.yaml" "cannot open" -- \
  "$cimsim" mvm --hw "$work/nope.yaml" --weights "$W" --inputs "$X" --out "$work/bad.npy"
head -c 150 "$W" >"$work/truncated.npy"
expect_error "truncated npy" "truncated.npy" -- \
  "$cimsim" mvm --hw "$hw" --weights "$work/truncated.npy" --inputs "$X" --out "$work/bad.npy"
expect_error "inputs do not match weights" "inputs have 300 columns" -- \
  "$cimsim" mvm --hw "$hw" --weights "$X" --inputs "$X" --out "$work/bad.npy"
expect_error "weights beyond weight_bits" "outside [-7, 7]" "weight_bits" -- \
  run_mvm --out "$work/bad.npy" --set macro.weight_bits=4
expect_error "bad trace window" "--trace-window 9:3" -- \
  run_mvm --out "$work/bad.npy" --trace "$work/w.vcd" --trace-window 9:3

# 5. A run that fails after simulating leaves none of its outputs behind.
touch "$work/plainfile"
mkdir -p "$work/fail"
expect_error "unwritable --out" "plainfile" -- \
  run_mvm --out "$work/plainfile/y.npy" --trace "$work/fail/t.vcd" --stats "$work/fail/s.json"
check "no trace or stats left by a failed run" test -z "$(ls -A "$work/fail")"
mkdir -p "$work/fail/s.json"
expect_error "stats path is a directory" "s.json" -- \
  run_mvm --out "$work/fail/y.npy" --stats "$work/fail/s.json"
check "no Y left when the stats cannot be written" test ! -e "$work/fail/y.npy"

# 6. cimsim run: a bundle over Fashion-MNIST, and its bad inputs.
model="$src/configs/models/fmnist-centroid-8b"
run_net() { "$cimsim" run --hw "$hw" --model "$model" "$@"; }
if [ -d /usr/share/datasets/fashion-mnist ]; then
  check "run on 50 images" run_net --limit 50 --out "$work/net" -q
  check "run wrote stats, resolved config and logits" test -s "$work/net/stats.json" -a -s "$work/net/hw.json" -a -s "$work/net/logits.npy"
  check "run stats have accuracy and per-layer histograms" grep -q '"partial_sum_histogram"' "$work/net/stats.json"
  check "run with a trace" run_net --limit 3 --trace "$work/net.vcd" --trace-window 100:400 -q
  check "run trace has the layer's macros" grep -q "macro_r6_c1" "$work/net.vcd"
  if command -v vcd2fst >/dev/null; then check "vcd2fst converts the network trace" vcd2fst "$work/net.vcd" "$work/net.fst"; fi
  # Device variation and read noise (non-integer partial sums): neither the thread count nor the
  # histogram switch (on only with --stats/--out) changes a logit or a statistic.
  noisy_net=(--limit 40 --batch 7 --set device.program_lognormal_sigma=0.05 --set device.read_noise_sigma=0.3)
  check "noisy run, 2 threads" env OMP_NUM_THREADS=2 "$cimsim" run --hw "$hw" --model "$model" --out "$work/n2" "${noisy_net[@]}" -q
  check "noisy run, 1 thread" env OMP_NUM_THREADS=1 "$cimsim" run --hw "$hw" --model "$model" --out "$work/n1" "${noisy_net[@]}" -q
  check "noisy logits independent of threads" cmp -s "$work/n1/logits.npy" "$work/n2/logits.npy"
  check "noisy statistics independent of threads, histograms count every conversion" /usr/bin/python3 -c "
import json, sys
a, b = (json.load(open('$work/n%d/stats.json' % i)) for i in (1, 2))
cim = [l['cim'] for l in a['layers'] if 'cim' in l]
h = cim[0]['partial_sum_histogram']
ok = a['layers'] == b['layers'] and cim[0]['error']['std'] > 0 and \
     sum(h['counts']) + h['underflow'] + h['overflow'] == cim[0]['conversions']
sys.exit(0 if ok else 1)"
  check "noisy run, traced (inline numerics)" "$cimsim" run --hw "$hw" --model "$model" --out "$work/nt" --trace "$work/nt.vcd" "${noisy_net[@]}" -q
  check "traced run gives the same logits" cmp -s "$work/n2/logits.npy" "$work/nt/logits.npy"
  check "traced run gives the same statistics" /usr/bin/python3 -c "
import json, sys
a, b = (json.load(open('$work/%s/stats.json' % d)) for d in ('n2', 'nt'))
sys.exit(0 if a['layers'] == b['layers'] else 1)"
  table() { "$cimsim" run --hw "$hw" --model "$model" "${noisy_net[@]}" "$@" 2>&1 | grep -v wall; }
  check "noisy table the same without histograms" diff <(table) <(table --stats "$work/n3.json")
  expect_error "bits do not match the hardware" "quantized for 8-bit weights" "--set macro.weight_bits=8" -- \
    run_net --limit 5 --set macro.weight_bits=4 --out "$work/bad.npy"
  expect_error "network does not fit the chip" "needs 14 macros (fc: 14)" "chip.macros = 8" -- \
    run_net --limit 5 --set chip.macros=8 --out "$work/bad.npy"
fi
expect_error "layer does not fit the chip" "needs 36 macros" -- run_mvm --out "$work/bad.npy" --set chip.macros=10
expect_error "data directory missing" "nowhere" -- run_net --data mnist:"$work/nowhere" --out "$work/bad.npy"
expect_error "unknown data set" "unknown data set 'svhn'" -- run_net --data svhn:/tmp --out "$work/bad.npy"
cp -r "$model" "$work/badmodel"
sed -i 's/type: linear/type: lineer/' "$work/badmodel/model.yaml"
line=$(grep -n "type: lineer" "$work/badmodel/model.yaml" | cut -d: -f1)
expect_error "unknown layer type" "model.yaml:$line" "lineer" -- \
  "$cimsim" run --hw "$hw" --model "$work/badmodel" --out "$work/bad.npy"
rm "$work/badmodel/fc.bias.npy"
sed -i 's/type: lineer/type: linear/' "$work/badmodel/model.yaml"
expect_error "missing tensor" "fc.bias.npy" -- "$cimsim" run --hw "$hw" --model "$work/badmodel" --out "$work/bad.npy"

cli_summary
