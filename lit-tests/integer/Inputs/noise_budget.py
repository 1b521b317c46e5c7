#!/usr/bin/python3
"""Checks quantize-activations' output-noise budget against the .calib file it read.

    noise_budget.py threshold CALIB      prints a min-output-sqnr (dB) between the summed noise
                                         of all rows and that without the noisiest one
    noise_budget.py check CALIB REPORT DB
                                         the nodes kept float "min-output-sqnr" are the noisiest
                                         rows, exactly as many as the budget needs, and the rest
                                         of the integer nodes' noise sums to within the budget
"""
import json
import math
import struct
import sys


def layer_noise(path):
    with open(path, "rb") as f:
        head = f.read(16)
        assert head[:8] == b"OOCALIB1", path
        (length,) = struct.unpack("<Q", head[8:])
        index = json.loads(f.read(length))
    return {r["node"]: r["output_noise"] for r in index["layer_noise"]["layers"]}


def db(noise):
    return -10 * math.log10(noise)


def main():
    noise = layer_noise(sys.argv[2])
    ranked = sorted(noise.values(), reverse=True)
    if sys.argv[1] == "threshold":
        assert len(ranked) >= 2 and ranked[1] > 0, ranked
        print(f"{(db(sum(ranked)) + db(sum(ranked[1:]))) / 2:.3f}")
        return
    report = json.load(open(sys.argv[3]))
    budget = 10 ** (-float(sys.argv[4]) / 10)
    integer = [n["name"] for n in report["nodes"] if n["decision"] == "integer"]
    for_noise = [n["name"] for n in report["nodes"] if "min-output-sqnr" in n["reason"]]
    assert for_noise, "no node kept float for the budget"
    assert sum(noise.get(n, 0) for n in integer) <= budget, (integer, budget)
    # The float ones are the noisiest, and dropping one fewer would not fit.
    assert min(noise[n] for n in for_noise) >= max([noise.get(n, 0) for n in integer] or [0])
    assert sum(noise.get(n, 0) for n in integer) + min(noise[n] for n in for_noise) > budget
    print(f"budget ok: {len(for_noise)} float for noise, {len(integer)} integer")


main()
