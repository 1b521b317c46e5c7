#!/usr/bin/env bash
# Lossless round trip on every model of eval/models.json (the ocr-keys text asset aside):
# `onnx-opt MODEL -o OUT` with an empty pipeline, then (1) the ModelProtos compared field by field
# with presence, and `cmp` where the input is canonical (scripts/roundtrip_compare.py), and (2) the
# ONNX Runtime half: original and round-tripped file run on the same seeded inputs, at ORT's level
# basic and at its default level (all), and the outputs must be identical (eval/compare.js
# --rtol 0 --atol 0). Inputs have the sizes the models are used at (a symbolic dim left at 1
# would make ocr-det's input 1x1 pixels).
#   scripts/roundtrip-real-models.sh [--cached-only] [BUILD_DIR=build] [model-id...]
# (default: every model). Models come from ${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models};
# missing ones are fetched (scripts/fetch-models.sh), a missing derived one (ocr-cls-fp16, made by
# scripts/eval.sh) is a failure. With --cached-only (ctest roundtrip_real_models) nothing is
# fetched: models not cached are skipped, exit 77 when none is. Exit 0: all round-trip exactly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cached_only=0
if [[ ${1:-} == --cached-only ]]; then cached_only=1; shift; fi
opt=$(realpath "${1:-build}")/driver/onnx-opt
shift || true
cache=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
models=("$@")
if ((${#models[@]} == 0)); then
  mapfile -t models < <(node -e '
    for (const m of require(process.argv[1]).models) if (m.asset !== "txt") console.log(m.id);' \
    "$root/eval/models.json")
fi
mapfile -t fetched < <(node -e '
  const ids = new Set(process.argv.slice(2));
  for (const m of require(process.argv[1]).models)
    if (ids.has(m.id) && !m.derived_from) console.log(m.id);' "$root/eval/models.json" "${models[@]}")
((cached_only || ${#fetched[@]} == 0)) || "$root/scripts/fetch-models.sh" "${fetched[@]}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
d='p2o.DynamicDimension'
declare -A dims=(
  [ocr-det]="$d.0=1,$d.1=96,$d.2=128"
  [ocr-rec]="$d.0=1,$d.1=160"
  [ocr-cls]="$d.0=1,$d.1=48,$d.2=192"
  [ocr-cls-fp16]="$d.0=1,$d.1=48,$d.2=192"
  [oww-mel]="batch_size=1,samples=16000"
)
status=0 ran=0
for m in "${models[@]}"; do
  if [[ ! -f $cache/$m.onnx ]] && ((cached_only)); then
    echo "roundtrip: $m: not cached, skipped"
    continue
  fi
  if [[ ! -f $cache/$m.onnx ]]; then
    echo "roundtrip: $m: not in $cache (a derived model: run scripts/eval.sh)"
    status=1
    continue
  fi
  ran=$((ran + 1))
  # --verify-input=false keeps ISNet's stored node order (loading would otherwise sort it).
  "$opt" "$cache/$m.onnx" --verify-input=false -o "$work/$m.onnx"
  "$root/scripts/roundtrip_compare.py" "$cache/$m.onnx" "$work/$m.onnx" || status=1
  for level in basic all; do
    if ! (cd "$root/eval" && node compare.js "$cache/$m.onnx" "$work/$m.onnx" --rtol 0 --atol 0 \
          --level $level ${dims[$m]:+--dims "${dims[$m]}"} >"$work/compare.txt" 2>&1); then
      status=1
    fi
    echo "$m: ORT level $level: $(tail -1 "$work/compare.txt")"
  done
done
((ran)) || { echo "roundtrip: no model cached (scripts/fetch-models.sh)"; exit 77; }
((status)) || echo "roundtrip: $ran models: exact as protobuf and in ONNX Runtime"
exit $status
