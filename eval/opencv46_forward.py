#!/usr/bin/python3
"""OpenCV 4.6 (Debian's python3-opencv) half of eval/opencv-run.js --opencv 4.6.

    /usr/bin/python3 eval/opencv46_forward.py SPEC.json

SPEC: {"models": [A, B?], "inputs": {name: [file.f32, shape]}, "outputs": [name, ...],
"runs": N, "out_dir": DIR}. Loads every model with cv2.dnn.readNetFromONNX, runs it on the
inputs (raw little-endian float32) and writes output k of model m to DIR/m.k.f32; then times
N forward passes, the models interleaved. Prints one JSON line: {"version", "dims": [[...]],
"times_ms": [[...]]}, or {"error": "load"|"run", "model", "message"} (one line).
"""
import json
import os
import sys
import time

import cv2
import numpy as np


def one_line(e):
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    errors = [l for l in lines if "error:" in l]
    return " | ".join(errors[-2:] if errors else lines[-1:])


def main():
    spec = json.load(open(sys.argv[1]))
    blobs = {n: np.fromfile(f, dtype="<f4").reshape(shape) for n, (f, shape) in spec["inputs"].items()}
    nets = []
    for m, path in enumerate(spec["models"]):
        try:
            nets.append(cv2.dnn.readNetFromONNX(path))
        except cv2.error as e:
            print(json.dumps({"error": "load", "model": path, "message": one_line(e)}))
            return

    def forward(m):
        net = nets[m]
        for n, blob in blobs.items():
            net.setInput(blob, n)
        return net.forward(spec["outputs"])

    dims = []
    for m, path in enumerate(spec["models"]):
        try:
            outs = forward(m)
        except cv2.error as e:
            print(json.dumps({"error": "run", "model": path, "message": one_line(e)}))
            return
        dims.append([list(o.shape) for o in outs])
        for k, o in enumerate(outs):
            o.astype("<f4").tofile(os.path.join(spec["out_dir"], f"{m}.{k}.f32"))
    times = [[] for _ in nets]
    for _ in range(spec.get("runs", 0)):
        for m in range(len(nets)):
            t0 = time.perf_counter()
            forward(m)
            times[m].append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"version": cv2.__version__, "dims": dims, "times_ms": times}))


if __name__ == "__main__":
    main()
