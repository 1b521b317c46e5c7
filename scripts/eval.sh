#!/usr/bin/env bash
# Evaluate onnx-opt on real models: every target x configuration -> docs/results.json, the
# summary docs/results.md, every row in docs/results-sweep.md and docs/plots/<target>.svg (see
# eval/evaluate.js for options).
#
#   scripts/eval.sh                 full run (all targets, all configurations)
#   scripts/eval.sh --quick         3 small targets (one float16) x configs.json's "quick" configurations
#                                   (sensitivity files and calibration dumps made on the way),
#                                   output in eval/out/quick, exits 1 below eval/thresholds.json
#   scripts/eval.sh --targets ocr-rec --configs fp32,int4-b32-sym
#
# ONNX_OPT=/path/to/onnx-opt overrides build/driver/onnx-opt.
# ONNX_OPT_MODEL_CACHE overrides the model/input cache (~/.cache/onnx-opt/models).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cache="${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}"
die() { echo "eval.sh: error: $*" >&2; exit 2; }

command -v node >/dev/null || die "node not found (apt-get install nodejs npm)"
if [[ ! -d "$root/eval/node_modules/onnxruntime-node" ]]; then
  echo "eval.sh: installing eval/ npm dependencies (npm ci)"
  (cd "$root/eval" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in eval/"
fi

# Which model files are needed.
quick=0
for a in "$@"; do [[ "$a" == "--quick" ]] && quick=1; done
if [[ $quick == 1 ]]; then
  ids=(ocr-cls oww-mel oww-embed oww-jarvis)
else
  ids=()
fi
"$here/fetch-models.sh" "${ids[@]}" | grep -v ': cached ' || true
[[ ${PIPESTATUS[0]} == 0 ]] || die "fetching models failed"
[[ -f "$cache/ocr-keys.txt" ]] || "$here/fetch-models.sh" ocr-keys >/dev/null

# Derived models (eval/models.json "derived_from"): ocr-cls-fp16, the float16 model of the quick
# gate, is remade from ocr-cls on every run (about a second) with this onnx-opt's upgrade-opset.
bin="${ONNX_OPT:-$root/build/driver/onnx-opt}"
if [[ -f "$cache/ocr-cls.onnx" ]]; then
  /usr/bin/python3 -c 'import onnx' 2>/dev/null || die "python3-onnx missing (apt-get install python3-onnx)"
  mkdir -p "$cache/work"
  "$bin" "$cache/ocr-cls.onnx" -p 'upgrade-opset{target=21}' -o "$cache/work/ocr-cls.opset21.onnx" ||
    die "upgrading ocr-cls for ocr-cls-fp16 failed"
  /usr/bin/python3 "$root/eval/make-fp16.py" "$cache/work/ocr-cls.opset21.onnx" "$cache/ocr-cls-fp16.onnx.$$" &&
    mv "$cache/ocr-cls-fp16.onnx.$$" "$cache/ocr-cls-fp16.onnx" || die "making ocr-cls-fp16 failed"
fi

# (Re)make the inputs when any set is missing (quickstart makes only the OCR ones).
if ! node -e 'const s = require(process.argv[1]).sets; for (const k of ["ocr-det","ocr-rec","ocr-cls","wakeword","isnet"]) if (!s[k]) process.exit(1)' \
     "$cache/inputs/inputs.json" 2>/dev/null; then
  [[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 missing (apt-get install python3-numpy python3-pil python3-skimage espeak-ng sox)"
  /usr/bin/python3 "$root/eval/make-inputs.py" || die "making inputs failed (apt-get install python3-numpy python3-pil python3-skimage espeak-ng sox fonts-dejavu-core)"
fi

# Calibration inputs of eval/sensitivity.js and eval/activations.js (measured-sensitivity and
# GPTQ configurations).
if ! node -e 'const s = require(process.argv[1]).sets; for (const k of ["ocr-det","ocr-rec","ocr-cls","wakeword","isnet"]) if (!s[k]) process.exit(1)' \
     "$cache/calib/inputs.json" 2>/dev/null; then
  /usr/bin/python3 "$root/eval/make-inputs.py" --calibration >/dev/null || die "making calibration inputs failed"
fi

cd "$root"
exec node "$root/eval/evaluate.js" "$@"
