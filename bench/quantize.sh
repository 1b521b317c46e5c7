#!/usr/bin/env bash
# End-to-end quantization speed and memory: load, quantize int4 block 32, save.
#  1. a generated fp32 MatMul-chain model of SIZE_MIB (bench/make_model): input GB/s and peak RSS
#     against the input size;
#  2. the ISNet fp16 model of the evaluation set (when fetched: scripts/fetch-models.sh isnet).
# Medians of 3 runs after a warm-up, each after `sync`, next to `cp` of the same file (a gauge of
# how busy the machine is). Wall, CPU (user + sys) and peak RSS from /usr/bin/time. Prints a
# Markdown table. Peak RSS counts the pages of the memory-mapped input that were touched and not
# yet released, as well as allocated memory.
#   bench/quantize.sh [BUILD_DIR=build] [SIZE_MIB=1024] [WORK_DIR=/tmp/onnx-opt-bench]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
SIZE_MIB=${2:-1024}
WORK=${3:-/tmp/onnx-opt-bench}
OPT=$BUILD/driver/onnx-opt
MAKE_MODEL=$BUILD/bench/make_model
ISNET=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}/isnet.onnx
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[[ -x $OPT && -x $MAKE_MODEL ]] || { echo "build onnx-opt and bench/make_model in $BUILD" >&2; exit 1; }
PIPELINE='upgrade-opset{target=21},quantize-weights{bits=4,block-size=32}'

mkdir -p "$WORK"
[[ -f $WORK/model.onnx ]] || "$MAKE_MODEL" "$WORK/model.onnx" --size-mib "$SIZE_MIB"

source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"  # measure CMD...: medians of 3 runs

row() {  # row LABEL FILE CP_STATS STATS
  local bytes; bytes=$(stat -c %s "$2")
  read -r cp_wall _ _ <<< "$3"
  read -r wall cpu rss <<< "$4"
  awk -v l="$1" -v b="$bytes" -v cw="$cp_wall" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
    printf "| %s | %.1f MB | %.2f s | %.2f s (%.2fx cp) | %.2f GB/s | %.2f s | %d MiB (%.2fx input) |\n",
      l, b / 1e6, cw, w, w / cw, b / 1e9 / w, c, r / 1024, r * 1024 / b }'
}

# `cp` of the same input, measured alongside, shows how busy the machine was.
echo "| model | input | cp (wall) | quantize (wall, median of 3) | input throughput | CPU (user+sys) | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row "fp32 MatMul chain, ${SIZE_MIB} MiB" "$WORK/model.onnx" \
  "$(measure cp "$WORK/model.onnx" "$WORK/copy.onnx")" \
  "$(measure "$OPT" "$WORK/model.onnx" -p "$PIPELINE" -o "$WORK/model.q.onnx")"
if [[ -f $ISNET ]]; then
  row "ISNet fp16" "$ISNET" "$(measure cp "$ISNET" "$WORK/copy.onnx")" \
    "$(measure "$OPT" "$ISNET" -p "$PIPELINE" -o "$WORK/isnet.q.onnx")"
fi
rm -f "$WORK/copy.onnx"
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
