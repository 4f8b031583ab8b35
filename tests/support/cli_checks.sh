# Shared helpers of the command-line test scripts (tests/cli/test_cli.sh, tests/train/test_train_cli.sh).
# The sourcing script sets `work` (a scratch directory) and `passed=0 failed=0`, and ends with
# `cli_summary`. Commands that are expected to fail write any output to "$work/bad.npy".

check() {  # check NAME COMMAND...: passes when the command succeeds
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

# expect_error NAME EXPECTED_TEXT... -- COMMAND...: exit code 2, exactly one "error: " line in
# stderr containing every text, and no "$work/bad.npy" written.
expect_error() {
  local name="$1"
  shift
  local texts=()
  while [ "$1" != "--" ]; do texts+=("$1"); shift; done
  shift
  rm -f "$work/bad.npy"
  "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  local ok=1
  [ "$rc" -eq 2 ] || { echo "  exit code $rc, expected 2"; ok=0; }
  [ "$(grep -c '^error: ' "$work/stderr")" -eq 1 ] || { echo "  expected exactly one 'error:' line"; ok=0; }
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$work/stderr" || { echo "  message lacks '$t'"; ok=0; }
  done
  [ ! -e "$work/bad.npy" ] || { echo "  an output file was written"; ok=0; }
  if [ $ok -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; cat "$work/stderr"; fi
}

skipped=0
skip() {  # skip COUNT REASON: COUNT checks that cannot run here, reported in the summary
  skipped=$((skipped + $1))
  echo "SKIPPED: $1 checks: $2"
}

cli_summary() {  # the last command of a script: prints the counts, fails if any check failed
  if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
  [ "$failed" -eq 0 ]
}
