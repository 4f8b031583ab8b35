#!/usr/bin/env bash
# The reproduction of docs/results.md for one network on Fashion-MNIST: every row of its table, each
# cell over 5 device seeds on all 10,000 test images. Every step is resumable: rerun the same command
# after an interruption and finished steps are skipped (cimsim flow and cimsim sweep records; a
# stage-2 training resumes from its checkpoint).
# Usage: tools/reproduce_results.sh resnet20|vgg8 [OUT]     (OUT: out/repro; CIMSIM: ./build/cimsim)
# For a quick trial of the procedure: EXP=EXPERIMENT.yaml (with a flow section) instead of the
# network's, LIMIT=N test images per run instead of all, SEEDS=N instead of 5. JOBS=N points at once
# (default 2: single-threaded runs side by side are faster than one two-threaded run). ROWS="noise flow"
# runs only those rows, in that order (default: qat-full qat-calibrated noise flow flow-sums; stage 1
# always runs first).
set -euo pipefail
net="${1:?usage: tools/reproduce_results.sh resnet20|vgg8 [OUT]}"
out="${2:-out/repro}/$net"
cimsim="${CIMSIM:-./build/cimsim}"
exp="${EXP:-configs/experiments/$net-fmnist.yaml}"
hw="configs/hw/rram-repro-4b-var.yaml"
cols=(3 4 5 6 8 ideal)
[ -f "$exp" ] || { echo "error: $exp does not exist; use resnet20 or vgg8" >&2; exit 2; }
rows="${ROWS:-qat-full qat-calibrated noise flow flow-sums}"
for row in $rows; do
  case "$row" in qat-full|qat-calibrated|noise|flow|flow-sums) ;;
    *) echo "error: ROWS: no row '$row'; use some of qat-full qat-calibrated noise flow flow-sums" >&2; exit 2 ;;
  esac
done
mkdir -p "$out/gen"
out="$(cd "$out" && pwd)"  # absolute: the generated files name paths under it
gen="$out/gen"
log() { echo "== $(date +%H:%M:%S) $net: $*"; }

# Stage 1: fp32, then QAT (the flow's first two steps).
log "fp32 and qat"
"$cimsim" flow "$exp" --out "$out/base" --stop-after qat

# One hardware file per column (the preset with that ADC), and per column the experiment of the whole
# flow on it and the experiment of stage 2 with the intervals fixed.
for c in "${cols[@]}"; do
  if [ "$c" = ideal ]; then bits=8 ideal=true; else bits=$c ideal=false; fi
  sed -e "s/^  adc_bits: 5$/  adc_bits: $bits/" -e "s/^  ideal: false$/  ideal: $ideal/" \
    -e "s/^name: rram-repro-4b-var$/name: rram-repro-4b-var-adc-$c/" "$hw" >"$gen/hw-$c.yaml"
  # (the flow's own final run on 1,000 images: the row's sweep measures the bundle on all of them)
  sed -e "s|^  hw: .*|  hw: $gen/hw-$c.yaml|" -e "/^  final_images:/d" -e "s|^  stats_images: \(.*\)$|  stats_images: \1\n  final_images: 1000|" \
    "$exp" >"$gen/flow-$c.yaml"
done
sed -e 's/^cim:.*$/cim:\n  learn_intervals: false/' "$exp" >"$gen/fixed.yaml"
grep -q "learn_intervals: false" "$gen/fixed.yaml" || { echo "error: $exp has no cim: section" >&2; exit 2; }

# The sweep over the columns: ADC bits zipped with adc.ideal, 5 device seeds, all test images.
columns() {  # columns MODEL_LINE [EXTRA]: a sweep file body
  cat <<YAML
hw: $(pwd)/$hw
$1
data: fashion-mnist
split: test
limit: ${LIMIT:-all}
vary:
  macro.adc_bits: [3, 4, 5, 6, 8, 8]
  adc.ideal: [false, false, false, false, false, true]
$2
combine: zip
seeds: {first: 1, count: ${SEEDS:-5}}
${3:-}
YAML
}
qat_bundle="$out/base/qat/run/bundle"
models() {  # models DIR_PATTERN: the vary.model line for the six columns (% = the column)
  local list=""
  for c in "${cols[@]}"; do list+="${list:+, }${1//%/$c}"; done
  echo "  model: [$list]"
}

# Row "QAT only, full-range intervals" and row "QAT, calibrated intervals" (mse on 500 training
# images of each device seed's chip).
row_qat-full() {
  columns "model: $qat_bundle" "" >"$gen/qat-full.yaml"
  log "sweep qat-full"
  "$cimsim" sweep "$gen/qat-full.yaml" --out "$out/qat-full" --jobs "${JOBS:-2}"
}
row_qat-calibrated() {
  columns "model: $qat_bundle" "" "calibration: {method: mse, split: train, limit: 500}" >"$gen/qat-calibrated.yaml"
  log "sweep qat-calibrated"
  "$cimsim" sweep "$gen/qat-calibrated.yaml" --out "$out/qat-calibrated" --jobs "${JOBS:-2}"
}

# Row "two-stage, noise injection, full-range intervals": stage 2 per column with the device model's
# noise injected and the intervals fixed at the full range.
row_noise() {
  for c in "${cols[@]}"; do
    local run="$out/noise-$c"
    [ -f "$run/cim-bundle/model.yaml" ] && continue
    log "stage 2 with noise injection, full range, ADC $c"
    local resume=()
    [ -f "$run/cim.ckpt" ] && resume=(--resume)
    "$cimsim" train --config "$gen/fixed.yaml" --out "$run" --stage cim --from "$out/base/qat/run" \
      --hw "$gen/hw-$c.yaml" "${resume[@]}" -q
  done
  columns "" "$(models "$out/noise-%/cim-bundle")" >"$gen/noise.yaml"
  log "sweep noise"
  "$cimsim" sweep "$gen/noise.yaml" --out "$out/noise" --jobs "${JOBS:-2}"
}

# Row "the whole flow" (ROW flow: per-cell feedback, the default `cim.feedback: cells`; ROW flow-sums:
# the earlier per-partial-sum feedback): per column, the statistics run, calibration, stage 2 with the
# fed-back noise and the calibrated, learned intervals, the final run. The flow reuses stage 1 (same
# hashes), and flow-sums the statistics and calibration of flow when they are there (they do not
# depend on the cim: section).
whole_flow() {  # whole_flow ROW FLOW_FILE_SUFFIX
  for c in "${cols[@]}"; do
    local dir="$out/$1-$c" step
    mkdir -p "$dir"
    for step in fp32 qat; do [ -e "$dir/$step" ] || cp -r "$out/base/$step" "$dir/$step"; done
    if [ "$1" != flow ]; then
      for step in calibrate stats; do
        [ -e "$dir/$step" ] || [ ! -f "$out/flow-$c/$step/step.json" ] || cp -r "$out/flow-$c/$step" "$dir/$step"
      done
    fi
    log "whole flow ($1), ADC $c"
    "$cimsim" flow "$gen/flow-$c$2.yaml" --out "$dir"
  done
  columns "" "$(models "$out/$1-%/cim/run/cim-bundle")" >"$gen/$1.yaml"
  log "sweep $1"
  "$cimsim" sweep "$gen/$1.yaml" --out "$out/$1" --jobs "${JOBS:-2}"
}
row_flow() { whole_flow flow ""; }
row_flow-sums() {
  for c in "${cols[@]}"; do
    sed -e 's/^cim:.*$/cim:\n  feedback: partial_sums/' "$gen/flow-$c.yaml" >"$gen/flow-$c-sums.yaml"
  done
  whole_flow flow-sums -sums
}

for row in $rows; do "row_$row"; done
log "done: tools/results_table.py $out"
