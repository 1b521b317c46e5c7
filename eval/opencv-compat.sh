#!/usr/bin/env bash
# Runtime compatibility of the real models in OpenCV.js 4.12 and 5.0 beside ONNX Runtime.
#
#   bash eval/opencv-compat.sh [ONNX_OPT] > table.md
#
# For each model (cached by scripts/fetch-models.sh) and configuration (fp32; int8 blocks of 32,
# ragged=divisor), prepares the model with static input shapes, folding and
# legalize{runtime=opencv-V}, then runs eval/opencv-run.js: OpenCV.js loads and runs it on seeded
# random inputs and its outputs are compared with ONNX Runtime on the same file (SQNR, >= 60 dB
# passes). Prints a markdown table, one row per model and configuration.
# Models whose inputs OpenCV.js cannot build (opencv-run.js takes [rows, cols] or [1, C, H, W]
# with C of 1, 3 or 4) are not listed: oww-embed [N,76,32,1], oww-jarvis [1,16,96].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
onnx_opt=${1:-$here/../build/driver/onnx-opt}
cache=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# model id, input shapes for set-input-shapes
models=(
  "ocr-det x:1x3x96x160"
  "ocr-rec x:1x3x48x160"
  "ocr-cls x:1x3x48x192"
  "oww-mel input:1x4000"
)
declare -A configs=(
  [fp32]=""
  [int8-b32-divisor]="upgrade-opset{target=21},quantize-weights{bits=8,block-size=32,ragged=divisor},"
)

cell() {  # model file, OpenCV version -> one table cell
  local out rc=0
  out=$(node "$here/opencv-run.js" "$1" --opencv "$2" 2>&1 | grep -v 'W:onnxruntime') || rc=$?
  case $rc in
    0) echo "loads, runs, $(grep -o 'sqnr=[^ ]* dB' <<<"$out" | sed 's/sqnr=//' | paste -sd/ -)" ;;
    1) echo "runs, below 60 dB: $(grep -o 'sqnr=[^ ]* dB' <<<"$out" | sed 's/sqnr=//' | paste -sd/ -)" ;;
    3) echo "load fails: $(sed -n 's/.*error: (\([^)]*\)) \(.\{0,60\}\).*/\1 \2/p' <<<"$out" | head -1)" ;;
    4) echo "run fails: $(sed -n 's/.*error: (\([^)]*\)) \(.\{0,60\}\).*/\1 \2/p' <<<"$out" | head -1)" ;;
    *) echo "error: $(tail -1 <<<"$out" | cut -c1-80)" ;;
  esac
}

echo "| model | configuration | OpenCV.js 4.12 | OpenCV.js 5.0 |"
echo "|---|---|---|---|"
for entry in "${models[@]}"; do
  read -r id shapes <<<"$entry"
  src=$cache/$id.onnx
  [[ -f $src ]] || { echo "| $id | (not cached: scripts/fetch-models.sh) | | |"; continue; }
  for config in fp32 int8-b32-divisor; do
    row="| $id | $config |"
    for v in 4.12 5; do
      runtime=opencv-$v
      out=$work/$id.$config.$v.onnx
      pipeline="${configs[$config]}set-input-shapes{shapes=$shapes},fold-constants,dce,legalize{runtime=$runtime}"
      if msg=$("$onnx_opt" "$src" -p "$pipeline" -o "$out" 2>&1); then
        row+=" $(cell "$out" "$v") |"
      else
        row+=" onnx-opt refuses: ${msg##*: } |"
      fi
    done
    echo "$row"
  done
done
