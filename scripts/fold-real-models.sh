#!/usr/bin/env bash
# Runs infer-shapes / set-input-shapes / fold-constants (+ dce) on every real model of
# eval/models.json and checks, per model: the verifier is clean after every pass (onnx-opt
# verifies after each pass by default), ONNX Runtime's outputs are unchanged (eval/compare.js,
# exact: --rtol 0 --atol 0), and a second run of each pass changes nothing (byte-identical
# output). Prints node counts before, after folding with the declared (dynamic) dims and after
# folding with static input shapes, and the folded counts of the static run.
#
#   scripts/fold-real-models.sh [build-dir] [model.onnx:DIMS ...]
#
# DIMS are set-input-shapes specifications; default: the models of eval/models.json in the
# model cache (scripts/fetch-models.sh) with the dims below. Needs eval/node_modules (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
opt=$build/driver/onnx-opt
models=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

specs=("$@")
if ((${#specs[@]} == 0)); then
  specs=(
    "$models/ocr-det.onnx:x:1x3x96x128"
    "$models/ocr-rec.onnx:x:1x3x48x160"
    "$models/ocr-cls.onnx:x:1x3x48x192"
    "$models/oww-mel.onnx:input:1x1280"
    "$models/oww-embed.onnx:input_1:1x76x32x1"
    "$models/oww-jarvis.onnx:x.1:1x16x96"
    "$models/isnet.onnx:input:1x3x1024x1024"
  )
fi

count_nodes() {  # node lines of the text form (subgraphs included)
  "$opt" "$1" --elide-tensors-larger-than=0 >"$work/text.txt"
  grep -cE '= [A-Za-z][A-Za-z0-9_.]* [(<]' "$work/text.txt" || true
}
stat() {  # value of statistic $2 in the --stats report $1
  { grep -E " $2 " "$1" || true; } | awk 'NR == 1 {print $2}'
}

status=0
printf "%-12s %6s %8s %8s %7s %7s %-5s %-5s\n" model nodes dynamic static folded shapes ort twice
for spec in "${specs[@]}"; do
  file=${spec%%:*}
  shapes=${spec#*:}
  id=$(basename "$file" .onnx)
  [[ -f "$file" ]] || { echo "$id: missing (scripts/fetch-models.sh)"; status=1; continue; }
  dims=$(echo "$shapes" | tr ',' '\n' | sed -n 's/^[^:]*:\(.*\)$/\1/p' | head -1)
  before=$(count_nodes "$file")
  # Dynamic dims: shapes as the model declares them.
  if ! "$opt" "$file" -p infer-shapes,fold-constants,dce --stats -o "$work/$id.dyn.onnx" \
      2>"$work/$id.dyn.stats"; then
    echo "$id: $(grep onnx-opt: "$work/$id.dyn.stats")"; status=1; continue
  fi
  # Static dims.
  if ! "$opt" "$file" -p "set-input-shapes{shapes=\"$shapes\"},fold-constants,dce" --stats \
      -o "$work/$id.static.onnx" 2>"$work/$id.static.stats"; then
    echo "$id: $(grep onnx-opt: "$work/$id.static.stats")"; status=1; continue
  fi
  dyn=$(count_nodes "$work/$id.dyn.onnx")
  static=$(count_nodes "$work/$id.static.onnx")
  folded=$(stat "$work/$id.static.stats" nodes-folded)
  shapes_folded=$(stat "$work/$id.static.stats" shapes-folded)
  # ORT: the static model with the same dims as the original's inputs.
  ort=ok
  "$opt" "$file" --elide-tensors-larger-than=0 >"$work/text.txt"
  node_dims=$(grep -m1 '=>' "$work/text.txt" | grep -oE '\[[^]]*\]' | sed -n 1p | tr -d '[]"')
  # Map each symbolic input dim to the static size given for it.
  dim_flags=$(paste -d= <(echo "$node_dims" | tr ',' '\n') <(echo "$dims" | tr 'x' '\n') |
              { grep -vE '^[0-9]+=' || true; } | paste -sd, -)
  # Exact comparisons at ORT's level basic. Static input shapes by themselves change ORT's own
  # optimizations (and its last bits: ocr-rec), so the statically folded model is compared with
  # the model given the same static shapes and nothing else. (Not at level disabled: there ORT
  # computes float16 constant chains in float32 through inserted Casts, so ISNet's folded fp16
  # constants, which match ORT's own constant folding bit for bit, differ in the last bit.)
  "$opt" "$file" -p "set-input-shapes{shapes=\"$shapes\"}" -o "$work/$id.shaped.onnx"
  for pair in "$file $work/$id.dyn.onnx basic" "$work/$id.shaped.onnx $work/$id.static.onnx basic"; do
    read -r a b level <<<"$pair"
    if ! node eval/compare.js "$a" "$b" --rtol 0 --atol 0 --level "$level" \
        ${dim_flags:+--dims "$dim_flags"} >"$work/cmp.txt" 2>&1; then
      ort="FAIL($(basename "$b" .onnx),$level)"
      status=1
      tail -3 "$work/cmp.txt"
    fi
  done
  # Idempotence: each pass run again on its own output changes nothing.
  twice=ok
  for p in infer-shapes fold-constants dce; do
    "$opt" "$work/$id.static.onnx" -p "$p" -o "$work/$id.again.onnx"
    "$opt" "$work/$id.again.onnx" -p "$p" -o "$work/$id.again2.onnx"
    cmp -s "$work/$id.again.onnx" "$work/$id.again2.onnx" || { twice="FAIL($p)"; status=1; }
  done
  "$opt" "$work/$id.static.onnx" -p fold-constants,dce -o "$work/$id.again.onnx"
  cmp -s "$work/$id.static.onnx" "$work/$id.again.onnx" || { twice="FAIL(refold)"; status=1; }
  printf "%-12s %6s %8s %8s %7s %7s %-5s %-5s\n" "$id" "$before" "$dyn" "$static" "$folded" \
    "$shapes_folded" "$ort" "$twice"
done
exit $status
