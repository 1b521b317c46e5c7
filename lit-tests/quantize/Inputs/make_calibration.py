#!/usr/bin/env python3
"""Writes the small calibration set of lit-tests/quantize/gptq.onnxtxt into Inputs/calibration/.

Synthetic activations with the shapes the nodes read (not computed by the model): a few shared
factors mixed into every channel plus smoothing, so inputs are strongly correlated as in real
layers and data-aware rounding has something to exploit. Deterministic (seeded). Rerun only when
the test's model changes:  python3 lit-tests/quantize/Inputs/make_calibration.py
"""
import json
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration")


def correlated(rng, shape, factors=3):
    channels = shape[1]
    z = rng.standard_normal((shape[0], factors) + tuple(shape[2:]))
    mixing = rng.standard_normal((channels, factors))
    x = np.einsum("cf,nf...->nc...", mixing, z) + 0.1 * rng.standard_normal(shape)
    if len(shape) == 4:  # smooth spatially: neighbouring patch entries correlate too
        x = (x + np.roll(x, 1, axis=2) + np.roll(x, 1, axis=3)) / 3
    return x.astype("<f4")


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(7)
    values = {}
    shapes = {"x": (1, 8, 20, 20), "h": (1, 16, 20, 20), "a": (1, 40, 64), "ga": (40, 64),
              "c": (1, 2, 64)}
    for name, shape in shapes.items():
        files = []
        for sample in range(1 if name == "c" else 2):
            data = correlated(rng, shape)
            if name in ("a", "c"):  # MatMul rows: correlate along the last axis (K)
                data = np.moveaxis(correlated(rng, (1, 64, shape[1])), 1, 2).astype("<f4")
            file = f"{name}_{sample}.npy"
            np.save(os.path.join(HERE, file), np.ascontiguousarray(data))
            files.append(file)
        values[name] = files
    # float16 for one sample: the reader widens it.
    half = correlated(rng, (1, 64, 40)).swapaxes(1, 2).astype("<f2").copy()
    np.save(os.path.join(HERE, "a_half.npy"), half)
    values["a"].append("a_half.npy")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"format": "onnx-opt-calibration-1", "values": values}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
