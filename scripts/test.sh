#!/usr/bin/env bash
# Installs what is missing, builds onnx-opt and runs every test (GoogleTest + lit, through ctest).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2

# ONNX Runtime (npm onnxruntime-node, see eval/.npmrc) proves numerical equivalence in lit tests.
if [[ -f eval/package-lock.json && ! -d eval/node_modules/onnxruntime-node ]]; then
  (cd eval && npm ci --no-audit --no-fund --loglevel=error)
fi

ctest --test-dir "$build" --output-on-failure -j2
