#!/usr/bin/env bash
# Builds onnx-opt with AddressSanitizer + UndefinedBehaviorSanitizer (-DONNX_OPT_SANITIZE=ON) and
# runs the whole test suite (GoogleTest, lit, fuzz replays, the embedding example) under it.
# scripts/test.sh (and so CI) runs it after the plain build's tests.
#
#   scripts/asan-test.sh [ctest args...]        build dir: ${ASAN_BUILD_DIR:-build-asan}
#
# The build is scripts/configure-sanitized.sh's: clang-14, -O1 -gline-tables-only, with the
# libFuzzer coverage instrumentation too, so the same build directory also holds the fuzzers and
# scripts/fuzz.sh (the next CI phase) compiles nothing again. bench/ has no tests and is not built
# (CMakeLists.txt). eval_quick stays: it is the only test that loads and quantizes real models.
#
# Sanitizer reports abort the process (abort_on_error), so a report inside an expected-failure
# lit test (`not onnx-opt ...`) shows up as a crash, which `not` does not accept, instead of
# passing as an ordinary non-zero exit. Leaks are reported at exit the same way.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${ASAN_BUILD_DIR:-build-asan}
start=$SECONDS
scripts/configure-sanitized.sh "$build"
ninja -C "$build" -j2
built=$SECONDS

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-abort_on_error=1:halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-abort_on_error=1}
status=0
ctest --test-dir "$build" --output-on-failure -j2 "$@" 2>&1 |
  tee "$build/ctest.log" || status=$?
echo "asan-test: build $((built - start)) s, tests $((SECONDS - built)) s"
exit $status
