#!/usr/bin/env python3
"""Prints an ONNX text model with three MatMul weights [128, 32] of different distributions:
w_gauss (normal), w_laplace (heavy tails), w_outlier (normal plus 1% outliers of 15x).
Deterministic (fixed seed); used by the scale-search and mixed-precision lit tests."""
import random

rng = random.Random(1234)


def gauss():
    return [rng.gauss(0, 0.05) for _ in range(128 * 32)]


def laplace():
    return [rng.choice((-1, 1)) * rng.expovariate(1 / 0.03) for _ in range(128 * 32)]


def outliers():
    values = gauss()
    for i in rng.sample(range(len(values)), len(values) // 100):
        values[i] = rng.choice((-1, 1)) * 0.75 * (1 + rng.random())
    return values


weights = {"w_gauss": gauss(), "w_laplace": laplace(), "w_outlier": outliers()}
print('<\n  ir_version: 10,\n  opset_import: ["" : 21]\n>')
outputs = ", ".join(f"float[2, 32] y_{name}" for name in weights)
print(f"main (float[2, 128] x) => ({outputs})\n<")
print(",\n".join(f"  float[128, 32] {name} = {{{', '.join('%.6g' % v for v in values)}}}"
                 for name, values in weights.items()))
print(">\n{")
for name in weights:
    print(f"  [mm_{name}] y_{name} = MatMul (x, {name})")
print("}")
