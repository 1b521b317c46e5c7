#!/usr/bin/env bash
# Lossless round trip on the real models of the evaluation set: `onnx-opt MODEL -o OUT` with an
# empty pipeline, then (1) the ModelProtos compared field by field (scripts/roundtrip_compare.py)
# and (2) ONNX Runtime outputs compared with zero tolerance (eval/compare.js).
#   scripts/roundtrip-real-models.sh [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
opt=$(realpath "${1:-build}")/driver/onnx-opt
cache=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
"$root/scripts/fetch-models.sh" ocr-det ocr-rec ocr-cls oww-mel oww-embed oww-jarvis isnet >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A dims=([oww-mel]=batch_size=1,samples=16000)
status=0
for m in ocr-det ocr-rec ocr-cls oww-mel oww-embed oww-jarvis isnet; do
  # --verify-input=false keeps ISNet's stored node order (loading would otherwise sort it).
  "$opt" "$cache/$m.onnx" --verify-input=false -o "$work/$m.onnx"
  "$root/scripts/roundtrip_compare.py" "$cache/$m.onnx" "$work/$m.onnx" || status=1
  (cd "$root/eval" && node compare.js "$cache/$m.onnx" "$work/$m.onnx" --rtol 0 --atol 0 \
     ${dims[$m]:+--dims "${dims[$m]}"} | tail -1) || status=1
done
exit $status
