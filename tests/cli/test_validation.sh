#!/usr/bin/env bash
# tools/validate_presets.py (docs/validation.md's table): every case runs and gets both ratios, and
# each validation preset loads. Usage: test_validation.sh CIMSIM SOURCE_DIR
set -euo pipefail
cimsim=$1
src=$2
out=$(/usr/bin/python3 "$src/tools/validate_presets.py" "$cimsim")
echo "$out"
rows=$(echo "$out" | grep -cE '^\| [^|]* 20[0-9]{2}, ' || true)
[ "$rows" -eq 6 ] || { echo "expected 6 cases, got $rows"; exit 1; }
# Every row has a latency and a TOPS/W ratio.
[ "$(echo "$out" | grep -cE '\(([0-9]+\.[0-9]+)x\).*\(([0-9]+\.[0-9]+)x\)')" -eq 6 ] || { echo "a ratio is missing"; exit 1; }
# The table in docs/validation.md is this output (the figures are exact: the runs are seeded).
while IFS= read -r line; do
  grep -qF -- "$line" "$src/docs/validation.md" || { echo "docs/validation.md lacks: $line"; exit 1; }
done < <(echo "$out" | grep -E '^\| [^|]* 20[0-9]{2}, ')
# ... and no other case: the doc's rows are exactly the cases run.
[ "$(grep -cE '^\| [^|]* 20[0-9]{2}, ' "$src/docs/validation.md")" -eq 6 ] || { echo "docs/validation.md has stale rows"; exit 1; }
echo "validation table: ok"
