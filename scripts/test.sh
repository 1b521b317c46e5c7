#!/usr/bin/env bash
# Installs what is missing, builds onnx-opt and runs every test (GoogleTest + lit, through ctest).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --eval
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2

# ONNX Runtime (npm onnxruntime-node, see eval/.npmrc) proves numerical equivalence in lit tests.
if [[ -f eval/package-lock.json && ! -d eval/node_modules/onnxruntime-node ]]; then
  (cd eval && npm ci --no-audit --no-fund --loglevel=error)
fi

ctest --test-dir "$build" --output-on-failure -j2

# Sanitizers (ASan+UBSan) over the whole suite, as a separate, opt-in job (it roughly doubles the
# build): ONNX_OPT_CI_SANITIZE=1 scripts/test.sh
if [[ "${ONNX_OPT_CI_SANITIZE:-0}" == 1 ]]; then
  scripts/asan-test.sh
fi
