#!/usr/bin/env bash
# onnx-opt-calibrate on 16 and 64 photos of PP-OCRv4 detection (ocr-det, 480x640, ImageNet
# normalisation as PP-OCR uses): wall time per stage and file size (docs/performance.md).
#   bench/calibrate/run.sh [MODEL] [SIZE HxW]   (default: the harness's cached ocr-det, 480x640)
# Needs a build (build/driver/onnx-opt, build/calibrate/onnx-opt-calibrate-helper), npm ci in
# calibrate/, python3-skimage and python3-pil (scripts/install-deps.sh --eval).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:-${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}/ocr-det.onnx}
size=${2:-480x640}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/calibrate/make-images.py" "$work/photos" 64 "${size#*x}" "${size%x*}"
for n in 16 64; do
  start=$(date +%s.%N)
  node "$root/calibrate/calibrate.js" "$model" --images "$work/photos" --size "$size" \
    --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --max-samples "$n" \
    -o "$work/m$n.calib" --onnx-opt "${ONNX_OPT:-$root/build/driver/onnx-opt}" 2> "$work/log$n"
  end=$(date +%s.%N)
  printf 'samples %d: %.1f s, %d bytes (%s)\n' "$n" "$(echo "$end - $start" | bc)" \
    "$(stat -c %s "$work/m$n.calib")" "$(grep -c '^' "$work/log$n") progress lines"
done
