#!/usr/bin/env bash
# The sanitizer build (docs/testing.md): configures build-asan/ (g++, -O1 -g, CIMSIM_SANITIZE=ON:
# AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal), builds it and runs ctest there.
#   tools/sanitize.sh          the simulator, the trainer and every test
#   tools/sanitize.sh --ci     the models and simulator libraries with their unit and simulation
#                              tests (cimsim_unit_tests, cimsim_sim_tests): no LibTorch trainer, no
#                              cimsim program and its end-to-end tests (a few minutes on 2 cores)
# Extra arguments go to ctest (e.g. -R Network). Exit status: ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

ci=0
ctest_args=()
for a in "$@"; do
  case "$a" in
    --ci) ci=1 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) ctest_args+=("$a") ;;
  esac
done

build=build-asan
trainer=ON
targets=()
select=()
if ((ci)); then
  # The trainer's LibTorch compiles, and those of the cimsim program (every subcommand, the ONNX
  # importer), take longer under the sanitizers than CI has; these tests run in full mode.
  trainer=OFF
  targets=(--target cimsim_unit_tests cimsim_sim_tests)
  select=(-L "^(unit|sim)$")  # the labels of tests/CMakeLists.txt's two GoogleTest programs
fi
# -O1 and -g1 (line tables): quick to compile, fast enough to run, symbolized stack traces.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCIMSIM_SANITIZE=ON -DCIMSIM_BUILD_BENCH=OFF \
  -DCIMSIM_BUILD_TRAINER=$trainer >/dev/null
cmake --build "$build" "${targets[@]}" -- -j2

# halt_on_error: the first report fails the test. detect_leaks: leaks are findings too.
# SystemC's coroutine switches: libsystemc announces them to ASan, sim/asan_systemc_fibers.cpp
# completes what it misses (docs/testing.md).
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:strict_string_checks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
ctest --test-dir "$build" --output-on-failure -j2 "${select[@]}" "${ctest_args[@]}"
