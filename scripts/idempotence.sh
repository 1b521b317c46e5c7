#!/usr/bin/env bash
# Idempotence of passes on the real-model corpus: for each pipeline P of
# scripts/idempotent-passes.txt and each model M, `onnx-opt M -p P -o once` then
# `onnx-opt once -p P -o twice`; `once` and `twice` must be byte-identical (saving is canonical
# and deterministic, so any change a second run makes shows). Every run verifies after each pass
# (--verify-each is the default). A line "@ID PIPELINE" runs only on model ID (for options that
# name a model's inputs, e.g. set-input-shapes).
#   scripts/idempotence.sh [BUILD_DIR=build] [model-id...]   (default: every cached model)
# Models come from ${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models} (scripts/fetch-models.sh);
# exits 77 (skipped) when none is cached. Nothing is downloaded.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
opt=$(realpath "${1:-build}")/driver/onnx-opt
shift || true
cache=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
models=("$@")
((${#models[@]})) || models=(ocr-det ocr-rec ocr-cls oww-mel oww-embed oww-jarvis isnet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t pipelines < <(grep -vE '^\s*(#|$)' "$root/scripts/idempotent-passes.txt")
status=0 ran=0
for m in "${models[@]}"; do
  [[ -f $cache/$m.onnx ]] || { echo "idempotence: $m not cached, skipped"; continue; }
  for p in "${pipelines[@]}"; do
    if [[ $p == @* ]]; then  # "@ID PIPELINE": this model only
      [[ ${p%% *} == "@$m" ]] || continue
      p=${p#* }
    fi
    if ! "$opt" "$cache/$m.onnx" -p "$p" -o "$work/once.onnx" 2>"$work/err" ||
       ! "$opt" "$work/once.onnx" -p "$p" -o "$work/twice.onnx" 2>>"$work/err"; then
      echo "idempotence: $m: '$p' failed: $(head -c 300 "$work/err")"
      status=1
    elif ! cmp -s "$work/once.onnx" "$work/twice.onnx"; then
      echo "idempotence: $m: '$p' is not idempotent (a second run changed the model)"
      status=1
    fi
    ran=$((ran + 1))
  done
done
((ran)) || { echo "idempotence: no model cached (scripts/fetch-models.sh)"; exit 77; }
((status)) || echo "idempotence: $ran runs (pipelines x models): a second run changes nothing"
exit $status
