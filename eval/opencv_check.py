#!/usr/bin/env python3
"""Do onnx-opt's quantized models run in OpenCV DNN, and how close are they to fp32 there?

    /usr/bin/python3 eval/opencv_check.py build/driver/onnx-opt [models dir]

For the OCR direction classifier of the evaluation (cached by scripts/fetch-models.sh / eval/, inputs from
eval/make-inputs.py), writes each configuration below with onnx-opt, loads it with cv2.dnn
(Debian's python3-opencv), runs every input and compares the output with the fp32 model run in
OpenCV: output SQNR over all inputs and the share of inputs whose decision (class, or the greedy
CTC string for recognition) matches fp32's. A model OpenCV refuses prints its one-line error.
"""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

CONFIGS = [
    ("int8-channel", "upgrade-opset{target=21},quantize-weights{bits=8,granularity=channel}"),
    ("int8-channel-asym",
     "upgrade-opset{target=21},quantize-weights{bits=8,granularity=channel,symmetric=false}"),
    ("int8-qdq-axis", "upgrade-opset{target=13},quantize-weights{bits=8,format=qdq-axis}"),
    ("int8-arith", "quantize-weights{bits=8,format=arith}"),
    ("int8-b64-asym", "upgrade-opset{target=21},quantize-weights{bits=8,block-size=64,symmetric=false}"),
    ("int4-b32-asym", "upgrade-opset{target=21},quantize-weights{bits=4,block-size=32,symmetric=false}"),
]


def decision(target, out):
    if target == "ocr-cls":
        return int(np.argmax(out.reshape(-1)))
    # ocr-rec: greedy CTC over [1, T, classes]
    ids = np.argmax(out.reshape(out.shape[-2], out.shape[-1]), axis=1)
    collapsed = [int(i) for j, i in enumerate(ids) if i != 0 and (j == 0 or ids[j - 1] != i)]
    return tuple(collapsed)


def run(model_path, inputs):
    net = cv2.dnn.readNetFromONNX(model_path)
    outs = []
    for x in inputs:
        net.setInput(x)
        outs.append(net.forward().copy())
    return outs


def main():
    onnx_opt = sys.argv[1]
    models = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser("~/.cache/onnx-opt/models")
    meta = json.load(open(os.path.join(models, "inputs", "inputs.json")))["sets"]
    print(f"OpenCV {cv2.__version__}")
    print("| model | config | size vs fp32 | output SQNR in OpenCV | same decision as fp32 |")
    print("|---|---|---:|---:|---:|")
    # OpenCV 4.6 refuses the models' dynamic shapes: fix the input shape and fold the shape
    # arithmetic first (ocr-cls has one input shape; ocr-rec's width varies by line).
    for target, prefix in (("ocr-cls", "set-input-shapes{shapes=x:1x3x48x192},simplify"),):
        items = meta[target]["items"]
        inputs = [np.fromfile(os.path.join(models, "inputs", it["file"]), dtype="<f4")
                  .reshape(it["shape"]) for it in items]
        original = os.path.join(models, f"{target}.onnx")
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = os.path.join(tmp, "fp32.onnx")
            subprocess.run([onnx_opt, original, "-p", prefix, "-o", fp32], check=True)
            ref = run(fp32, inputs)
            for name, pipeline in CONFIGS:
                out_path = os.path.join(tmp, f"{name}.onnx")
                subprocess.run([onnx_opt, fp32, "-p", pipeline, "-o", out_path], check=True)
                ratio = os.path.getsize(out_path) / os.path.getsize(original)
                try:
                    outs = run(out_path, inputs)
                except cv2.error as e:
                    lines = [l for l in str(e).splitlines() if "error:" in l]
                    msg = lines[-1].split("error:")[-1].strip()[:110] if lines else str(e)[:110]
                    print(f"| {target} | {name} | {ratio:.3f} | refused: {msg} | |")
                    continue
                signal = sum(float(np.sum(r.astype(np.float64) ** 2)) for r in ref)
                noise = sum(float(np.sum((r.astype(np.float64) - o) ** 2)) for r, o in zip(ref, outs))
                sqnr = 10 * np.log10(signal / noise) if noise > 0 else float("inf")
                same = np.mean([decision(target, r) == decision(target, o) for r, o in zip(ref, outs)])
                print(f"| {target} | {name} | {ratio:.3f} | {sqnr:.1f} dB | {same:.3f} ({len(inputs)} inputs) |")


if __name__ == "__main__":
    main()
