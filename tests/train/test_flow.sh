#!/usr/bin/env bash
# `cimsim flow` end to end on the tiny experiment: every step runs once; an interrupted flow resumes
# without redoing finished steps; a changed setting redoes exactly the steps downstream of it; the
# report holds the final run's figures; a bad flow section is one clear error.
# Usage: test_flow.sh CIMSIM_BINARY SOURCE_DIR
set -uo pipefail
cimsim="$1"
src="$(cd "$2" && pwd)"  # absolute: the flow section names the preset by it
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/support/cli_checks.sh"

exp="$work/flow.yaml"
cp "$src/configs/experiments/tiny-test.yaml" "$exp"
cat >>"$exp" <<YAML
flow:
  hw: $src/configs/hw/rram-neurosim-128-4b.yaml
  calibration: {method: mse, images: 40}
  stats_images: 40
  final_images: 100
YAML
flow() { "$cimsim" flow "$exp" --out "$work/f" "$@" >"$work/flow.log" 2>&1; }
# ran STEP...: exactly these steps ran in the last flow (the others were skipped)
ran() {
  local expected="$*" got
  got=$(grep -o 'flow: [a-z0-9]* done' "$work/flow.log" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$expected" ] || { echo "  ran '$got', expected '$expected'"; return 1; }
}

# 1. Interrupted after calibrate (as a kill between steps would leave it), then rerun.
check "flow stops after calibrate" flow --stop-after calibrate
check "the first three steps ran" ran fp32 qat calibrate
check "no cim output yet" test ! -e "$work/f/cim/step.json"
check "rerun completes the flow" flow
check "only the remaining steps ran" ran stats cim final report
check "report files written" test -s "$work/f/report/report.md" -a -s "$work/f/report/report.json" -a -s "$work/f/report/report.png"
check "report.png is a PNG" bash -c "head -c 8 '$work/f/report/report.png' | grep -q PNG"
check "report states the final run's accuracy, cycles and energy" /usr/bin/python3 -c "
import json, sys
r = json.load(open('$work/f/report/report.json'))['final']
s = json.load(open('$work/f/final/run/stats.json'))
ok = all(r[k] == s[k] for k in ('accuracy', 'correct', 'images', 'cycles_per_image', 'latency_per_image_us',
                                'energy_per_image_pj', 'tops_per_watt')) and s['images'] == 100
md = open('$work/f/report/report.md').read()
ok &= ('%.2f%%' % (100 * s['accuracy'])) in md and str(s['cycles_per_image']) in md and 'TOPS/W' in md
sys.exit(0 if ok else 1)"
# Stage cim started every CIM layer's interval at the calibration's and injected, per layer, the
# measured error less the quantization share: sqrt(std^2 - lsb^2 / 12) from the stats run.
check "stage cim was fed the stats and the calibration" /usr/bin/python3 -c "
import json, math, re, sys
log = open('$work/f/cim/log.txt').read()
calib = open('$work/f/calibrate/calib.yaml').read()
stats = json.load(open('$work/f/stats/stats.json'))
bits = stats['config']['macro']['adc_bits']
layers = [l for l in stats['layers'] if 'cim' in l]
ok = len(layers) > 0
for l in layers:
    name, c = l['name'], l['cim']
    lo, hi = map(float, re.search(r'^  %s: \\{lo: ([^,]+), hi: ([^,]+),' % name, calib, re.M).groups())
    start = re.search(r'layer %s: ADC interval starts at \\[([^,]+), ([^\\]]+)\\] \\(.*calib.yaml\\)' % name, log)
    ok &= start is not None and abs(float(start.group(1)) - lo) < 6e-5 and abs(float(start.group(2)) - hi) < 6e-5
    lsb = (c['adc_interval']['hi'] - c['adc_interval']['lo']) / (2 ** bits - 1)
    sigma = math.sqrt(max(0.0, c['error']['std'] ** 2 - lsb ** 2 / 12))
    noise = re.search(r'layer %s: injected partial-sum noise (\\S+)' % name, log)
    ok &= noise is not None and abs(float(noise.group(1)) - sigma) <= 1e-3 * max(sigma, 1e-9)
    ok &= c['adc_interval']['lo'] == lo and c['adc_interval']['hi'] == hi  # the stats run used them too
sys.exit(0 if ok else 1)"

# 2. Nothing changed: nothing runs. A step whose record is missing (killed inside it) runs again.
check "rerun of a complete flow" flow
check "nothing ran" ran
rm "$work/f/final/step.json"
check "rerun after a kill inside final" flow
check "final and report ran again" ran final report

# 3. A changed setting redoes the steps downstream of it, and only those.
sed -i 's/calibration: {method: mse, images: 40}/calibration: {method: minmax, images: 40}/' "$exp"
check "flow after changing the calibration method" flow
check "calibrate and what follows ran" ran calibrate stats cim final report
sed -i '/^cim:/,/^[a-z]/ s/^  lr: 0.003$/  lr: 0.002/' "$exp"
check "flow after changing stage cim's learning rate" flow
check "cim and what follows ran" ran cim final report
sed -i 's/^  stats_images: 40$/  stats_images: 30/' "$exp"
check "flow after changing the statistics images" flow
check "stats, cim and what follows ran (not calibrate)" ran stats cim final report

# 4. Bad flow sections.
sed 's/^  stats_images: 30$/  stats_image: 30/' "$exp" >"$work/typo.yaml"
line=$(grep -n "stats_image:" "$work/typo.yaml" | cut -d: -f1)
expect_error "misspelled flow key" "typo.yaml:$line" "stats_image" -- "$cimsim" flow "$work/typo.yaml" --out "$work/bad"
sed 's|^  hw: .*|  hw: nowhere.yaml|' "$exp" >"$work/nohw.yaml"
expect_error "missing hardware file" "nohw.yaml" "nowhere.yaml" -- "$cimsim" flow "$work/nohw.yaml" --out "$work/bad"
expect_error "experiment without a flow section" "flow" -- \
  "$cimsim" flow "$src/configs/experiments/tiny-test.yaml" --out "$work/bad"
check "no output directory for bad input" test ! -e "$work/bad"

cli_summary
