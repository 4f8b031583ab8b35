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
run_mvm --out "$work/dup.npy" --set 'chip.duplicate={mvm: 2}' -q >"$work/dup.log" 2>&1
check "mvm says chip.duplicate is for networks" grep -q "chip.duplicate and chip.dataflow apply to networks" "$work/dup.log"
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  check "ideal ADC gives X.W" /usr/bin/python3 -c "
import numpy as np, sys
W = np.load('$W').astype(np.int64); X = np.load('$X').astype(np.int64); Y = np.load('$work/y.npy')
sys.exit(0 if Y.dtype == np.float64 and Y.shape == (X.shape[0], W.shape[1]) and (Y == X @ W).all() else 1)"
else
  skip 1 "the X.W check needs python3-numpy"
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

# --layer NAME selects adc.layers.NAME (here a narrow interval that clips) over adc.interval.
check "mvm --layer with its own interval" run_mvm --out "$work/ly.npy" --stats "$work/ly.json" --layer narrow \
  --set 'adc.layers.narrow={lo: -6, hi: 9}' -q
check "mvm default layer keeps the full range" run_mvm --out "$work/ld.npy" --stats "$work/ld.json" \
  --set 'adc.layers.narrow={lo: -6, hi: 9}' -q
check "the layer's interval was used" /usr/bin/python3 -c "
import json, sys
a, b = json.load(open('$work/ly.json')), json.load(open('$work/ld.json'))
la, lb = a['layers'][0], b['layers'][0]
ok = la['name'] == 'narrow' and (la['adc_interval']['lo'], la['adc_interval']['hi']) == (-6.0, 9.0) and lb['name'] == 'mvm'
ok &= la['clip_rate_high'] > 0 and lb['adc_interval'] != la['adc_interval']
sys.exit(0 if ok else 1)"
check "another interval, other outputs" bash -c "! cmp -s '$work/ly.npy' '$work/ld.npy'"

# 3. A trace that GTKWave's own converter accepts.
check "trace run" run_mvm --out "$work/t.npy" --trace "$work/t.vcd" --trace-window 5:60 -q
check "trace and save file exist" test -s "$work/t.vcd" -a -s "$work/t.gtkw"
if command -v vcd2fst >/dev/null; then
  check "vcd2fst converts the trace" vcd2fst "$work/t.vcd" "$work/t.fst"
  check "an .fst name writes FST" run_mvm --out "$work/f.npy" --trace "$work/f.fst" --trace-adcs all -q
  check "FST written, no VCD left" bash -c "test -s '$work/f.fst' -a -s '$work/f.gtkw' -a ! -e '$work/f.vcd' && \
    ! ls '$work' | grep -q 'f\.fst\..*vcd' && grep -q 'dumpfile.*f.fst' '$work/f.gtkw'"
  check "FST converts back to the same signals" bash -c "fst2vcd '$work/f.fst' >'$work/f2.vcd' && \
    grep -q 'adc5_sar' '$work/f2.vcd'"
fi
check "traced ADCs by list" run_mvm --out "$work/l.npy" --trace "$work/l.vcd" --trace-window 0:200 --trace-adcs 1,3 -q
check "only the listed ADCs traced" bash -c "grep -q 'adc1_code' '$work/l.vcd' && grep -q 'adc3_sar' '$work/l.vcd' && \
  ! grep -q 'adc0_code' '$work/l.vcd' && grep -q 'macro_r0_c0.adc3_valid' '$work/l.gtkw'"
check "untraced run" run_mvm --out "$work/u.npy" -q
check "tracing does not change the numbers" bash -c "cmp -s '$work/u.npy' '$work/t.npy' && cmp -s '$work/u.npy' '$work/l.npy'"

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
expect_error "trace window past the end" "--trace-window 900000:900010" "the run ends at cycle" "choose FROM below" -- \
  run_mvm --out "$work/bad.npy" --trace "$work/late.vcd" --trace-window 900000:900010
check "no trace left by the late window" bash -c "! ls '$work' | grep -q late"
expect_error "ADC beyond the macro's" "--trace-adcs 0,99" "there is no ADC 99" "ADCs per macro" -- \
  run_mvm --out "$work/bad.npy" --trace "$work/w.vcd" --trace-adcs 0,99
expect_error "ADC list without a trace" "--trace-adcs needs --trace" -- \
  run_mvm --out "$work/bad.npy" --trace-adcs all
expect_error "fst without vcd2fst" "needs GTKWave's vcd2fst" -- \
  env PATH=/nonexistent "$cimsim" mvm --hw "$hw" --weights "$W" --inputs "$X" --out "$work/bad.npy" --trace "$work/n.fst"

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
  # The Python classes generated from the C++ records read both documents back unchanged, and
  # name a missing or mistyped field.
  check "the generated Python records read the stats files" /usr/bin/python3 -c "
import json, sys
sys.path.insert(0, '$(dirname "$cimsim")')
import cimsim_stats as c
for cls, path in ((c.RunStats, '$work/net/stats.json'), (c.MvmStats, '$work/stats.json')):
    doc = json.load(open(path))
    record = cls.load(path)
    assert record.to_json() == doc, path
run = c.RunStats.load('$work/net/stats.json')
cim = [l for l in run.layers if l.cim is not None]
assert cim and cim[0].cim.error.std >= 0 and run.images == 50, run.images
doc = json.load(open('$work/net/stats.json'))
del doc['layers'][1]['cim']['error']['std']
try:
    c.RunStats.from_json(doc)
    sys.exit('no error for a missing field')
except c.SchemaError as e:
    assert str(e) == '\$.layers[1].cim.error.std: missing', str(e)
doc = json.load(open('$work/net/stats.json'))
doc['images'] = 50.5
try:
    c.RunStats.from_json(doc)
    sys.exit('no error for a float count')
except c.SchemaError as e:
    assert str(e).startswith('\$.images: expected int'), str(e)
"
  # Area and power gating (docs/stats.md): the chip's area from the macros the network maps onto,
  # TOPS/mm^2 from the throughput, and gated leakage below the ungated.
  area=(--set area.technology_nm=32 --set area.cell_f2=4 --set area.dac_um2_per_row=2 \
        --set area.mux_um2_per_column=1 --set area.sample_hold_um2=10 --set area.adc_um2=500 \
        --set area.shift_add_um2=50 --set area.digital_um2=20000)
  check "run with an area section" run_net --limit 20 "${area[@]}" --stats "$work/area.json" -q
  check "run with power gating" run_net --limit 20 --set chip.power_gating=true --stats "$work/gated.json" -q
  check "area and gating follow docs/stats.md" /usr/bin/python3 -c "
import json
a = json.load(open('$work/area.json'))
g = json.load(open('$work/gated.json'))
ar = a['area']
macros = sum(l['cim']['mapping']['macros'] for l in a['layers'] if 'cim' in l)
assert ar['macros'] == macros, (ar['macros'], macros)
m = ar['macro_um2']
assert abs(m['cells'] - 128 * 128 * 4 * 0.032 ** 2) < 1e-9 and m['adc'] == 16 * 500, m
assert abs(ar['chip_mm2'] - (m['total'] * macros * 1e-6 + 0.02)) < 1e-12, ar
assert abs(ar['tops_per_mm2'] - a['tops'] / ar['chip_mm2']) < 1e-12
assert abs(a['tops'] - 2 * a['macs_per_image'] * a['images_per_second'] * 1e-12) < 1e-15
for l in a['layers']:
    if 'cim' in l:
        assert abs(l['cim']['area_um2']['total'] - m['total'] * l['cim']['mapping']['macros']) < 1e-6
own = sum(0.1e-3 * l['cim']['mapping']['macros'] * l['cim']['total_time_us'] * 1e-6 * 1e12
          for l in g['layers'] if 'cim' in l)
assert 'area' not in g and abs(g['energy_pj']['leakage'] - own) < 1e-6 * own, (g['energy_pj'], own)
assert g['energy_pj']['leakage'] < a['energy_pj']['leakage']
assert g['energy_pj']['dynamic'] == a['energy_pj']['dynamic'] and g['accuracy'] == a['accuracy']
"
  # Activation buffers (docs/timing.md, "Networks"): traffic, bandwidth, energy and area per layer
  # and for the chip; the layers' energies add up to the chip's; the tables mark the slowest layer.
  check "run with buffers" run_net --limit 20 "${area[@]}" --set buffer.bytes_per_cycle=4 \
    --set buffer.pj_per_byte=0.5 --set area.buffer_um2_per_byte=1.5 --stats "$work/buf.json" >"$work/buf.txt"
  check "the energy table has its header" grep -q "^pJ/img .*buffer .*area mm^2" "$work/buf.txt"
  check "the slowest layer is marked" grep -qE "^[a-z0-9_]+ +[a-z0-9_]+ +[0-9-]+ +[0-9.-]+ +[0-9]+\*" "$work/buf.txt"
  check "buffers follow docs/stats.md" /usr/bin/python3 -c "
import json, math
b = json.load(open('$work/buf.json'))
n = b['images']
traffic = 0
for l in b['layers']:
    assert l['buffer_cycles_per_image'] == math.ceil(l['buffer_bytes_per_image'] / 4), l['name']
    assert l['cycles_per_image'] >= l['buffer_cycles_per_image'], l['name']
    assert abs(l['buffer_energy_pj'] - 0.5 * l['buffer_bytes_per_image'] * n) < 1e-9, l['name']
    traffic += l['buffer_energy_pj']
assert abs(b['buffer_energy_pj'] - traffic) < 1e-6 and traffic > 0
assert any(l['cycles_per_image'] == l['buffer_cycles_per_image'] for l in b['layers'])  # a buffer-bound layer
total = sum(l['energy_per_image_pj'] for l in b['layers']) * n + b['digital_static_pj']
assert abs(total - b['energy_per_image_pj'] * n) < 1e-9 * total, (total, b['energy_per_image_pj'] * n)
assert b['buffer_capacity_bytes'] > 0
ar = b['area']
assert abs(ar['buffer_mm2'] - 1.5 * b['buffer_capacity_bytes'] * 1e-6) < 1e-15
assert abs(ar['chip_mm2'] - (ar['cim_mm2'] + ar['digital_mm2'] + ar['buffer_mm2'])) < 1e-12
# The printed energy table: a row per layer after its header, each row's total the layer's.
lines = open('$work/buf.txt').read().splitlines()
at = next(i for i, t in enumerate(lines) if t.startswith('pJ/img '))
rows = lines[at + 1:at + 1 + len(b['layers'])]
for row, l in zip(rows, b['layers']):
    f = row.split()
    assert f[0] == l['name'] and abs(float(f[8]) - l['energy_per_image_pj']) < 0.051, (row, l['energy_per_image_pj'])
    assert abs(float(f[7]) - l['buffer_energy_pj'] / n) < 0.051, row
assert not lines[at + 1 + len(b['layers'])].split()[0] in [l['name'] for l in b['layers']]
"
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
  # --seed keys every device draw: the same seed gives the same logits, another seed others.
  check "noisy run, seed 5" run_net --out "$work/s5" "${noisy_net[@]}" --seed 5 -q
  check "noisy run, seed 5 again" run_net --out "$work/s5b" "${noisy_net[@]}" --seed 5 -q
  check "noisy run, seed 6" run_net --out "$work/s6" "${noisy_net[@]}" --seed 6 -q
  check "same seed, same logits" cmp -s "$work/s5/logits.npy" "$work/s5b/logits.npy"
  check "another seed, other logits" bash -c "! cmp -s '$work/s5/logits.npy' '$work/s6/logits.npy'"
  check "noisy run, seed 1" run_net --out "$work/s1" "${noisy_net[@]}" --seed 1 -q
  check "the default seed is 1" cmp -s "$work/n2/logits.npy" "$work/s1/logits.npy"
  # Logits against a computation of this script's own from docs/model-bundle.md and the IDX file:
  # ideal converter and devices, so the layer is x_q . W exactly, then (y * s_w) * s_x + bias.
  check "ideal run" run_net --limit 30 --out "$work/ideal" --set adc.ideal=true -q
  check "ideal logits equal an independent forward pass" /usr/bin/python3 -c "
import gzip, numpy as np, re, sys
m = open('$model/model.yaml').read()
sw, sx = (float(re.search(r'%s: (\S+)' % k, m).group(1)) for k in ('weight_scale', 'input_scale'))
W = np.load('$model/fc.weight.npy').astype(np.int64).T; b = np.load('$model/fc.bias.npy').astype(np.float64)
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()
px = np.frombuffer(raw, np.uint8, offset=16)[:30 * 784].reshape(30, 784).astype(np.float64)
q = np.clip(np.rint((px / 255.0 - 0.0) / 1.0 / sx), 0, 255).astype(np.int64)
expected = (q @ W).astype(np.float64) * sw * sx + b
got = np.load('$work/ideal/logits.npy')
sys.exit(0 if got.shape == expected.shape and (got == expected).all() else 1)"
  # digital.*: the digital unit's cycles are ceil(ops / ops_per_cycle) per layer, its energy ops x pj_per_op.
  check "run with another digital unit" run_net --limit 10 --out "$work/dig" --set digital.ops_per_cycle=3 \
    --set digital.pj_per_op=0.7 -q
  check "digital cycles and energy follow digital.*" /usr/bin/python3 -c "
import json, math, sys
d = json.load(open('$work/dig/stats.json'))
ok = all(l['digital_cycles_per_image'] == math.ceil(l['digital_ops_per_image'] / 3) for l in d['layers'])
ops = sum(l['digital_ops_per_image'] for l in d['layers'])
ok &= ops > 0 and abs(d['digital_energy_pj'] - ops * d['images'] * 0.7) <= 1e-9 * d['digital_energy_pj']
ok &= d['cycles_per_image'] == sum(l['cycles_per_image'] for l in d['layers'])
sys.exit(0 if ok else 1)"
  table() { "$cimsim" run --hw "$hw" --model "$model" "${noisy_net[@]}" "$@" 2>&1 | grep -v wall; }
  check "noisy table the same without histograms" diff <(table) <(table --stats "$work/n3.json")
  expect_error "bits do not match the hardware" "quantized for 8-bit weights" "--set macro.weight_bits=8" -- \
    run_net --limit 5 --set macro.weight_bits=4 --out "$work/bad.npy"
  expect_error "network does not fit the chip" "needs 14 macros (fc: 14)" "chip.macros = 8" -- \
    run_net --limit 5 --set chip.macros=8 --out "$work/bad.npy"
else
  skip 27 "cimsim run on Fashion-MNIST needs dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"
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

# 7. cimsim calibrate: intervals chosen on 40 training images, written, read back by cimsim run.
lenet="$src/configs/models/lenet5-fmnist-4b"
hw4="$src/configs/hw/rram-neurosim-128-4b.yaml"
if [ -d /usr/share/datasets/fashion-mnist ]; then
  cal="$work/cal"
  check "calibrate percentile 99" "$cimsim" calibrate --hw "$hw4" --model "$lenet" --limit 40 --method percentile \
    --percentile 99 --out "$cal/p99.yaml" -q
  check "calibrate mse" "$cimsim" calibrate --hw "$hw4" --model "$lenet" --limit 40 --method mse --out "$cal/mse.yaml" -q
  check "run with the percentile calibration" "$cimsim" run --hw "$hw4" --model "$lenet" --split train --limit 40 \
    --calib "$cal/p99.yaml" --stats "$cal/p99.json" -q
  check "run with the mse calibration" "$cimsim" run --hw "$hw4" --model "$lenet" --split train --limit 40 \
    --calib "$cal/mse.yaml" --stats "$cal/mse.json" -q
  full=()
  for layer in conv1 conv2 fc1 fc2 fc3; do full+=(--set "adc.layers.$layer=full"); done
  check "run with full-range intervals" "$cimsim" run --hw "$hw4" --model "$lenet" --split train --limit 40 \
    "${full[@]}" --stats "$cal/full.json" -q
  # The run uses the file's intervals and clips exactly the fractions calibration chose (at most
  # 0.5% per side for 99% kept); the mse intervals waste fewer levels than the full range: a
  # higher SQNR in every layer.
  clip_limit=0.005
  calibrated_runs_check() {
    /usr/bin/python3 -c "
import json, re, sys
def layers(path): return {l['name']: l['cim'] for l in json.load(open(path))['layers'] if 'cim' in l}
p99, mse, full = layers('$cal/p99.json'), layers('$cal/mse.json'), layers('$cal/full.json')
text = open('$cal/p99.yaml').read()
ok = len(p99) == 5
for name, c in p99.items():
    lo, hi, cl, ch = map(float, re.search(r'^  %s: \\{lo: ([^,]+), hi: ([^,]+), clip_low: ([^,]+), clip_high: ([^,]+),' % name, text, re.M).groups())
    ok &= c['adc_interval']['lo'] == lo and c['adc_interval']['hi'] == hi
    ok &= abs(c['clip_rate_low'] - cl) < 1e-12 and abs(c['clip_rate_high'] - ch) < 1e-12
    ok &= c['clip_rate_low'] <= $clip_limit and c['clip_rate_high'] <= $clip_limit
    ok &= mse[name]['error']['sqnr_db'] > full[name]['error']['sqnr_db'] + 10
sys.exit(0 if ok else 1)"
  }
  check "calibrated runs clip as chosen and beat the full range" calibrated_runs_check
  fails() { ! "$@"; }
  clip_limit=0.001  # the check can fail: at 99% kept some layer clips more than 0.1% on a side
  check "(negative control) a tighter clip bound fails" fails calibrated_runs_check
  # --zero-level: every interval moved so that 0 is one of the ADC's levels (docs/calibration.md).
  check "calibrate --zero-level" "$cimsim" calibrate --hw "$hw4" --model "$lenet" --limit 40 --method mse --zero-level \
    --out "$cal/zero.yaml" -q
  zero_is_a_level() {
    /usr/bin/python3 - "$cal/zero.yaml" "$cal/mse.yaml" <<'PY'
import sys, yaml
zero, plain = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
assert zero["zero_level"] is True and "zero_level" not in plain
n = 2 ** zero["adc_bits"] - 1
for name, iv in zero["layers"].items():
    step = (iv["hi"] - iv["lo"]) / n
    k = round(-iv["lo"] / step)
    assert 0 <= k <= n and abs(iv["lo"] + k * step) < 1e-9 * step, (name, iv)
# the first layer sees the same partial sums either way: moved by at most half a step
a, b = zero["layers"]["conv1"], plain["layers"]["conv1"]
assert abs(a["lo"] - b["lo"]) <= (b["hi"] - b["lo"]) / n / 2 + 1e-12
PY
  }
  check "--zero-level: 0 is a level of every interval" zero_is_a_level
  check "same calibration twice" "$cimsim" calibrate --hw "$hw4" --model "$lenet" --limit 40 --method mse --out "$cal/mse2.yaml" -q
  check "calibration is deterministic" cmp -s "$cal/mse.yaml" "$cal/mse2.yaml"
  # With read noise the measured partial sums depend on --seed, and so may the intervals.
  noisy_cal() { "$cimsim" calibrate --hw "$hw4" --model "$lenet" --limit 20 --method mse -q \
    --set device.read_noise_sigma=0.5 "$@"; }
  check "noisy calibration, seed 3" noisy_cal --seed 3 --out "$cal/n3.yaml"
  check "noisy calibration, seed 3 again" noisy_cal --seed 3 --out "$cal/n3b.yaml"
  check "noisy calibration, seed 4" noisy_cal --seed 4 --out "$cal/n4.yaml"
  check "same seed, same intervals" cmp -s "$cal/n3.yaml" "$cal/n3b.yaml"
  check "another seed, other intervals" bash -c "! cmp -s '$cal/n3.yaml' '$cal/n4.yaml'"
  # Bad calibration files: one clear error naming the file and the fix; nothing written.
  sed 's/^adc_bits: 5/adc_bitz: 5/' "$cal/mse.yaml" >"$work/typo.cal.yaml"
  expect_error "misspelled calibration key" "typo.cal.yaml:3" "adc_bitz" -- \
    "$cimsim" run --hw "$hw4" --model "$lenet" --limit 2 --calib "$work/typo.cal.yaml" --out "$work/bad.npy"
  expect_error "calibration for other adc_bits" "mse.yaml" "adc_bits 5" "recalibrate" -- \
    "$cimsim" run --hw "$hw4" --model "$lenet" --limit 2 --calib "$cal/mse.yaml" --set macro.adc_bits=4 --out "$work/bad.npy"
  sed 's/^  conv2:/  conv9:/' "$cal/mse.yaml" >"$work/other.cal.yaml"
  expect_error "calibration of another model" "other.cal.yaml" "conv9" -- \
    "$cimsim" run --hw "$hw4" --model "$lenet" --limit 2 --calib "$work/other.cal.yaml" --out "$work/bad.npy"
  expect_error "missing calibration file" "nope.yaml" -- \
    "$cimsim" run --hw "$hw4" --model "$lenet" --limit 2 --calib "$work/nope.yaml" --out "$work/bad.npy"
else
  skip 20 "cimsim calibrate on Fashion-MNIST needs dataset-fashion-mnist"
fi

cli_summary
