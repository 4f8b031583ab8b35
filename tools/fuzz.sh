#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang 14, address + undefined sanitizers) into
# build-fuzz/ and runs each for a bounded time (docs/testing.md):
#   tools/fuzz.sh [--ci] [-j N] [SECONDS] [HARNESS...]
# SECONDS per harness (default 60), every harness unless some are named, N at a time (default 1).
# --ci is the reproducible run of CI: no time limit but a fixed number of executions (4,000 per
# harness, random seed 1, from the seeds alone, not build-fuzz/corpus/), so one commit always gets the
# same verdict; exploring (the timed runs) finds new inputs, which are kept in tests/fuzz/regressions/.
# Fails (exit 1) on any crash, sanitizer report, leak, timeout (-timeout) or allocation over the
# limits (-rss_limit_mb, -malloc_limit_mb); the inputs that did are kept as
# build-fuzz/artifacts/<harness>-crash-* (and leak-, timeout-, oom-) and their names printed.
# Prints the executions of each harness at the end. The seeds are assembled by tools/fuzz_corpus.py;
# what the fuzzer finds accumulates in build-fuzz/corpus/<harness>/ across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=60
ci=0
jobs=1
harnesses=()
while (($#)); do
  case "$1" in
    --ci) ci=1 ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    [0-9]*) seconds=$1 ;;
    *) harnesses+=("$1") ;;
  esac
  shift
done

build=$root/build-fuzz
# -O1 and line tables only: quick to compile, still symbolized stack traces.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCIMSIM_FUZZ=ON -DCIMSIM_BUILD_TESTS=OFF -DCIMSIM_BUILD_BENCH=OFF -DCIMSIM_BUILD_TRAINER=OFF >/dev/null
cmake --build "$build" --target fuzzers -- -j2

all=$(cd "$build/fuzz" && ls fuzz_* | sort)
((${#harnesses[@]})) || mapfile -t harnesses <<<"$all"

cimsim_bin=""
[ -x build/cimsim ] && cimsim_bin=build/cimsim
/usr/bin/python3 tools/fuzz_corpus.py "$build/seeds" $cimsim_bin
mkdir -p "$build/artifacts" "$build/logs"
stamp=$build/logs/.run-start
touch "$stamp"

# Leaks are findings; UB stops the run (the harness libraries are built with -fno-sanitize-recover).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:print_stacktrace=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 OMP_NUM_THREADS=1

run_one() {
  local h=$1
  local status=0 dirs=("$build/corpus/$h" "$build/seeds/$h") budget=(-max_total_time="$seconds")
  # CI: a fixed budget from the seeds alone, into a scratch corpus (600 s is a guard, not the budget).
  ((ci)) && { rm -rf "$build/ci-corpus/$h"; dirs=("$build/ci-corpus/$h" "$build/seeds/$h"); budget=(-seed=1 -runs=4000 -max_total_time=600); }
  mkdir -p "${dirs[0]}"
  "$build/fuzz/$h" "${dirs[@]}" "${budget[@]}" -timeout=20 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$h-" >"$build/logs/$h.log" 2>&1 || status=$?
  echo "$status" >"$build/logs/$h.status"
}

if ((ci)); then each="4000 executions (seed 1)"; else each="${seconds}s"; fi
echo "fuzz: ${#harnesses[@]} harnesses, $each each, $jobs at a time; logs in $build/logs"
running=0
for h in "${harnesses[@]}"; do
  [ -x "$build/fuzz/$h" ] || { echo "fuzz: no harness $h (have: $(echo $all))" >&2; exit 2; }
  rm -f "$build/logs/$h.status"
  run_one "$h" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
printf '%-20s %12s  %s\n' harness executions result
for h in "${harnesses[@]}"; do
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/logs/$h.log" | tail -1 | grep -o '[0-9]*$' || true)
  status=$(cat "$build/logs/$h.status" 2>/dev/null || echo "?")
  if [ "$status" = 0 ]; then
    result=ok
  else
    result="FAILED (exit $status): $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
      "$build/logs/$h.log" || echo "see $build/logs/$h.log")"
    failed=1
  fi
  printf '%-20s %12s  %s\n' "$h" "${execs:-?}" "$result"
done
artifacts=$(find "$build/artifacts" -type f -newer "$stamp" | sort)
if [ -n "$artifacts" ]; then
  echo "fuzz: the failing inputs of this run (reproduce: build-fuzz/fuzz/<harness> <file>):"
  echo "$artifacts" | sed 's/^/  /'
fi
exit $failed
