#!/usr/bin/env bash
# Installs what is missing, builds onnx-opt and runs every test (GoogleTest + lit, through ctest),
# then builds it again with clang, AddressSanitizer + UndefinedBehaviorSanitizer and the libFuzzer
# instrumentation, runs the whole suite under the sanitizers (scripts/asan-test.sh) and each
# libFuzzer target from that same build for a bounded time (scripts/fuzz.sh). CI (.ci/run) runs
# exactly this.
#
#   ONNX_OPT_CI_SANITIZE=0 scripts/test.sh     skips the sanitizer phase (quick local runs)
#   ONNX_OPT_CI_FUZZ_SECONDS=0 scripts/test.sh skips the bounded fuzzing phase (default 20 s
#                                              per libFuzzer target, scripts/fuzz.sh)
#
# Prints the wall and CPU time of each phase and, last, the closing ctest lines of each suite.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
asan_build=${ASAN_BUILD_DIR:-build-asan}
sanitize=${ONNX_OPT_CI_SANITIZE:-1}
# CPU seconds (user + sys, in 1/100 s) of this shell's finished children: fields 16 and 17 of
# /proc/<pid>/stat. Wall time on the shared 2-core machine depends on the load; CPU time does not.
children_cpu() {
  local fields
  read -ra fields </proc/$$/stat
  echo $((fields[15] + fields[16]))
}
phase_start=$SECONDS
phase_cpu_start=$(children_cpu)
phase_times=()
end_phase() {
  local cpu
  cpu=$(children_cpu)
  phase_times+=("$(printf '%-22s %4d s wall %5d s CPU' "$1" $((SECONDS - phase_start)) \
    $(((cpu - phase_cpu_start) / 100)))")
  phase_start=$SECONDS
  phase_cpu_start=$cpu
}
# The "N% tests passed" line, the total time, any list of failed or skipped tests, and the
# reason each skip printed (a missing prerequisite: scripts/missing-prerequisite.sh,
# lit-tests/run-lit.py). Under CI=true (.ci/run) a missing prerequisite fails instead.
ctest_summary() {
  sed -n '/% tests passed/,$p' "$1"
  local last
  last=$(dirname "$1")/Testing/Temporary/LastTest.log
  [[ -f $last ]] && grep -h '^SKIPPED: ' "$last" | cut -c1-300 || true
}
report() {
  echo
  echo "== test.sh summary"
  printf '  %s\n' "${phase_times[@]}"
  echo "-- $build:"
  ctest_summary "$build/ctest.log"
  if [[ -f "$asan_build/ctest.log" && $sanitize == 1 ]]; then
    echo "-- $asan_build (ASan + UBSan):"
    ctest_summary "$asan_build/ctest.log"
  fi
}

scripts/install-deps.sh --eval
# ONNX Runtime (npm onnxruntime-node, see eval/.npmrc) proves numerical equivalence in lit tests.
if [[ -f eval/package-lock.json && ! -d eval/node_modules/onnxruntime-node ]]; then
  (cd eval && npm ci --no-audit --no-fund --loglevel=error)
fi
# onnx-opt-calibrate (calibrate/: onnxruntime-node, pngjs, jpeg-js) and its tests.
if [[ -f calibrate/package-lock.json && ! -d calibrate/node_modules/onnxruntime-node ]]; then
  (cd calibrate && npm ci --no-audit --no-fund --loglevel=error)
fi
end_phase "dependencies"

# A new build directory (CI's clean clone) gets -g1: line tables are all a failing test's backtrace
# needs, and full -g costs a third more compile CPU for test files (docs/reliability.md). An
# existing directory keeps its flags, so a local debug build is not rebuilt behind one's back.
plain_flags=()
[[ -f $build/CMakeCache.txt ]] || plain_flags=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${plain_flags[@]}" >/dev/null
ninja -C "$build" -j2
end_phase "build"

rm -f "$asan_build/ctest.log"
status=0
ctest --test-dir "$build" --output-on-failure -j2 2>&1 | tee "$build/ctest.log" || status=$?
end_phase "tests"
if ((status != 0)); then
  report
  exit $status
fi

if [[ $sanitize == 1 ]]; then
  mkdir -p "$asan_build"
  ASAN_BUILD_DIR=$asan_build scripts/asan-test.sh 2>&1 | tee "$asan_build/asan-test.log" ||
    status=$?
  # asan-test.sh prints its own build and test times last.
  asan_times=$(sed -n 's/^asan-test: //p' "$asan_build/asan-test.log" || true)
  end_phase "sanitizer build+tests"
  phase_times[-1]+="  (${asan_times:-build failed})"
fi

# Bounded fuzzing: each libFuzzer target (clang-14, ASan+UBSan) for ONNX_OPT_CI_FUZZ_SECONDS
# (default 20) from the seed corpora, with a fixed seed so CI repeats the same search; a crash
# fails CI and leaves its reproducer in $asan_build/artifacts/ (docs/reliability.md says how to keep
# it as a regression test). The fuzzers are built in the sanitizer phase's directory, so this
# phase compiles nothing after it.
fuzz_seconds=${ONNX_OPT_CI_FUZZ_SECONDS:-20}
if [[ $fuzz_seconds != 0 && $status == 0 ]]; then
  mkdir -p "$asan_build"
  fuzz_log=$asan_build/fuzz.log
  FUZZ_BUILD_DIR=$asan_build FUZZ_SEED=${FUZZ_SEED:-1} scripts/fuzz.sh "$fuzz_seconds" \
    >"$fuzz_log" 2>&1 || { status=$?; tail -n 30 "$fuzz_log"; }
  end_phase "fuzzing"
  phase_times[-1]+="  ($(grep -c 'DONE ' "$fuzz_log" || true) targets ran for $fuzz_seconds s each)"
fi
report
exit $status
