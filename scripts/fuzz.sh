#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan, scripts/configure-sanitized.sh) and runs
# each for a bounded time.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Build dir: ${FUZZ_BUILD_DIR:-build-asan}, the sanitizer suite's (scripts/asan-test.sh): one build
# serves both, so after asan-test.sh nothing is compiled again. Working corpora:
# ${FUZZ_WORK:-<build dir>/corpus}/<target> (kept between runs, never committed). Seeds: the lit
# tests' .onnxtxt files, fuzz/seeds/ (pipeline_parser, calibration_reader), the saved reproducers in fuzz/regressions/, the
# malformed-model corpus and, when fetched, the first 64 KiB of the real models in
# ~/.cache/onnx-opt/models.
# A crash leaves crash-* / timeout-* / oom-* files in <build dir>/artifacts/<target>/ and makes the
# script exit 1: add the reproducer to fuzz/regressions/<target>/ (ctest fuzz-replay-<target> then
# replays it in every build) and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-build-asan}
work=${FUZZ_WORK:-$build/corpus}
models=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}

scripts/configure-sanitized.sh "$build"

all_targets=$(ninja -C "$build" -t targets all | sed -n 's|^fuzz/\([a-z_]*\)-fuzzer: .*|\1|p' | sort -u)
targets=("$@")
((${#targets[@]})) || mapfile -t targets <<<"$all_targets"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$all_targets" || { echo "fuzz: unknown target '$t' (have: $(tr '\n' ' ' <<<"$all_targets"))" >&2; exit 1; }
done
ninja -C "$build" -j2 make-malformed-models "${targets[@]/%/-fuzzer}"

# Seeds are generated into the build tree at run time.
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{model_loader,text_parser,pipeline_parser,fold_constants,calibration_reader}
find lit-tests -name '*.onnxtxt' -exec cp {} "$seeds/text_parser/" \; 2>/dev/null || true
cp fuzz/seeds/pipeline_parser/* "$seeds/pipeline_parser/" 2>/dev/null || true
cp fuzz/seeds/fold_constants/* lit-tests/simplify/*.onnxtxt "$seeds/fold_constants/" 2>/dev/null || true
cp fuzz/seeds/calibration_reader/* "$seeds/calibration_reader/" 2>/dev/null || true
"$build/bin/make-malformed-models" "$seeds/malformed" >/dev/null
find "$seeds/malformed" -name '*.onnx' -size -1000k -exec sh -c 'cp "$1" "$2/$(echo "$1" | tr / _)"' _ {} "$seeds/model_loader" \;
if [[ -d "$models" ]]; then
  for m in "$models"/*.onnx; do
    [[ -f "$m" ]] && head -c 65536 "$m" >"$seeds/model_loader/head-$(basename "$m")"
  done
fi

status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$build/artifacts/$t"
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  echo "fuzz: $t for ${seconds}s"
  # Inputs: the working corpus first (new finds are written there), then read-only seed dirs.
  # FUZZ_SEED fixes libFuzzer's random seed (CI: the same mutations on every run); unset, each
  # run explores differently.
  seed=()
  [[ -n ${FUZZ_SEED:-} ]] && seed=(-seed="$FUZZ_SEED")
  if ! "$build/fuzz/$t-fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${seed[@]}" "${dict[@]}" -artifact_prefix="$build/artifacts/$t/" \
      "$work/$t" "$seeds/$t" "fuzz/regressions/$t" >"$build/artifacts/$t/log.txt" 2>&1; then
    echo "fuzz: $t FOUND A FAILURE; log $build/artifacts/$t/log.txt, reproducer(s):" >&2
    ls "$build/artifacts/$t"/{crash,timeout,oom,leak}-* 2>/dev/null >&2 || true
    grep -m3 -E "ERROR|SUMMARY|abort|spans|not parse|not stable" "$build/artifacts/$t/log.txt" >&2 || true
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov:" "$build/artifacts/$t/log.txt" | tail -3
done
exit $status
