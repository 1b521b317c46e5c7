#!/usr/bin/env bash
# Runtime compatibility of the real models in OpenCV 4.12 and 5.0 (OpenCV.js, npm) and 4.6
# (Debian's python3-opencv) beside ONNX Runtime: loads/runs, fidelity and latency.
#
#   bash eval/opencv-compat.sh [ONNX_OPT] > table.md
#   (RUNS=7 by default; MODELS="ocr-cls ..." and VERSIONS="4.12 5 4.6" select rows, CONFIGS="fp32
#   int8 qop" the configurations: qop needs CALIB_DIR)
#
# For each model (cached by scripts/fetch-models.sh), configuration and OpenCV version V:
#   fp32: set-input-shapes{...},fold-constants,dce,legalize{runtime=opencv-V}
#   int8: upgrade-opset{target=21},quantize-weights{runtime=opencv-V},<the fp32 pipeline>
#         (runtime=opencv-V: int8, blocks of 32 or the largest divisor of the axis below it;
#         for 4.6 format=post-scale, int8 per output channel)
#   qop:  optimize-speed{prepare-only=true},quantize-activations{calibration=CALIB_DIR/<id>.calib,
#         latency-table=none},set-input-shapes{...},fold-constants,dce,fuse-integer-ops,
#         legalize{runtime=opencv-V} (4.12: fuse-integer-ops{matmul-b=constant}; shapes fixed on the QDQ graph, whose ops shape inference
#         knows, so Shape chains fold before the com.microsoft ops; the QOperator model of
#         fuse-integer-ops, every layer quantized; CALIB_DIR from eval/activations.js ID --prepare
#         speed --what ranges, as bench/speed.mjs makes it), for OpenCV's int8 engine
# then eval/opencv-run.js runs it in OpenCV V on the evaluation's real input (eval/make-inputs.py;
# oww-embed and oww-jarvis, whose inputs are features, on seeded random ones) and reports each
# output's SQNR against ONNX Runtime (level basic) on the same file (>= 60 dB passes), against
# ONNX Runtime on the fp32 model, and against the fp32 model in OpenCV; and OpenCV's forward
# latency, median of RUNS runs with the fp32 model interleaved, and the ratio. OpenCV 4.6 files
# carry the opset-6 Clip attributes ONNX Runtime does not load: their ORT reference is the same
# pipeline ending in legalize{runtime=opencv-5} (the same arithmetic). Inputs OpenCV.js cannot build from
# JavaScript (oww-embed [1,76,32,1], oww-jarvis [1,16,96]) go through eval/opencv_flat_input.py
# (a rank-2 input and a leading Reshape), in every runtime alike. ISNet (1024x1024) is run once,
# without latency (RUNS_ISNET, default 0): one forward takes minutes in single-threaded WebAssembly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
onnx_opt=${1:-$here/../build/driver/onnx-opt}
cache=${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}
inputs=$cache/inputs
runs=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# model id, input shapes for set-input-shapes, input name=file under inputs/ (or "random")
declare -A shapes=(
  [ocr-det]=x:1x3x608x800 [ocr-rec]=x:1x3x48x608 [ocr-cls]=x:1x3x48x192
  [oww-mel]=input:1x52506 [oww-embed]=input_1:1x76x32x1 [oww-jarvis]=x.1:1x16x96
  [isnet]=input:1x3x1024x1024
)
declare -A feeds=(
  [ocr-det]=x=det_page.f32 [ocr-rec]=x=rec_line00.f32 [ocr-cls]=x=cls_line00_0.f32
  [oww-mel]=input=wake_en-us_0.f32 [oww-embed]=random [oww-jarvis]=random
  [isnet]=input=isnet_astronaut.f32
)
models=${MODELS:-ocr-det ocr-rec ocr-cls oww-mel oww-embed oww-jarvis isnet}
versions=${VERSIONS:-4.12 5 4.6}
configs=${CONFIGS:-fp32 int8}

sqnr() { { grep -o "sqnr=[^ ]* dB vs $1" <<<"$2" || true; } | sed "s/sqnr=\([^ ]*\) dB.*/\1/" | paste -sd/ -; }

prepare() {  # src, pipeline, out -> adapted model, or the refusal on stdout
  local msg
  if ! msg=$("$onnx_opt" "$1" -p "$2" -o "$3.raw.onnx" 2>&1); then
    echo "onnx-opt refuses: ${msg##*: }"
    return 1
  fi
  /usr/bin/python3 "$here/opencv_flat_input.py" "$3.raw.onnx" "$3"
}

echo "| model | config | OpenCV | result | vs ORT same file | vs ORT fp32 | vs OpenCV fp32 | OpenCV latency (ratio to fp32) |"
echo "|---|---|---|---|---:|---:|---:|---|"
for id in $models; do
  src=$cache/$id.onnx
  [[ -f $src ]] || { echo "| $id | (not cached: scripts/fetch-models.sh) | | | | | | |"; continue; }
  base="set-input-shapes{shapes=${shapes[$id]}},fold-constants,dce"
  feed=()
  [[ ${feeds[$id]} == random ]] || feed=(--input "${feeds[$id]%%=*}=$inputs/${feeds[$id]#*=}")
  r=$runs
  [[ $id == isnet ]] && r=${RUNS_ISNET:-0}
  ortref=$work/$id.ortref.onnx
  if ! refusal=$(prepare "$src" "$base,legalize{runtime=opencv-5}" "$ortref"); then
    echo "| $id | fp32 | 5 | $refusal | | | | |"
    continue
  fi
  for v in $versions; do
    fp32=$work/$id.fp32.$v.onnx
    for config in $configs; do
      out=$work/$id.$config.$v.onnx
      pipeline="$base,legalize{runtime=opencv-$v}"
      [[ $config == int8 ]] &&
        pipeline="upgrade-opset{target=21},quantize-weights{runtime=opencv-$v},$pipeline"
      fuse=fuse-integer-ops
      [[ $v == 4.12 ]] && fuse="fuse-integer-ops{matmul-b=constant}"  # 4.12: no QLinearMatMul with computed B
      [[ $config == qop ]] &&
        pipeline="optimize-speed{prepare-only=true},quantize-activations{calibration=${CALIB_DIR:?qop needs CALIB_DIR}/$id.calib,latency-table=none},$base,$fuse,legalize{runtime=opencv-$v}"
      row="| $id | $config | $v |"
      if ! refusal=$(prepare "$src" "$pipeline" "$out"); then
        echo "$row $refusal | | | | |"
        continue
      fi
      ref=$out
      if [[ $v == 4.6 ]]; then  # the same arithmetic in a form ONNX Runtime loads
        ref=$work/$id.$config.4.6.ref.onnx
        prepare "$src" "${pipeline%legalize*}legalize{runtime=opencv-5}" "$ref" >/dev/null
      fi
      args=(--opencv "$v" --ref "$ref" "${feed[@]}" --runs "$r")
      [[ $config != fp32 ]] && args+=(--also-ref "$ortref" --baseline "$fp32")
      rc=0
      res=$(node "$here/opencv-run.js" "$out" "${args[@]}" 2>&1 | grep -v 'W:onnxruntime') || rc=$?
      case $rc in
        0) verdict="loads, runs" ;;
        1) verdict="runs, below 60 dB" ;;
        3) echo "$row load fails: $(sed -n 's/.*cannot load [^:]*: \(.\{0,110\}\).*/\1/p' <<<"$res" | head -1) | | | | |"; continue ;;
        4) echo "$row run fails: $(sed -n 's/.*failed running [^:]*: \(.\{0,110\}\).*/\1/p' <<<"$res" | head -1) | | | | |"; continue ;;
        *) echo "$row error: $(tail -1 <<<"$res" | cut -c1-100) | | | | |"; continue ;;
      esac
      same=$(sqnr ORT "$res")
      vsfp32=$same
      [[ $config != fp32 ]] && vsfp32=$(sqnr also-ref "$res")
      [[ $config == fp32 && $v != 4.6 ]] && vsfp32=$same
      vscv=$(sqnr baseline "$res")
      [[ $config == fp32 ]] && vscv="(itself)"
      lat=$(sed -n 's/^latency: OpenCV [^ ]* median \([^ ]*\) ms over [0-9]* runs\(, baseline [^ ]* ms, ratio \(.*\)\)\{0,1\}$/\1 ms \3/p' <<<"$res")
      [[ -n $lat && $config != fp32 ]] && lat="${lat%% *} ms (${lat##* })"
      [[ -n $lat && $config == fp32 ]] && lat="${lat%% *} ms"
      [[ -z $lat ]] && lat="(not timed)"
      echo "$row $verdict | $same | $vsfp32 | $vscv | $lat |"
    done
  done
done
