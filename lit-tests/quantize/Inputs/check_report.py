#!/usr/bin/env python3
"""Checks quantize-weights report JSON files; exits 1 with a one-line reason when a check fails.

  better BASE.json OTHER.json...   every weight of OTHER has relative error <= BASE's, and the
                                   total SQNR of OTHER is at least 0.1 dB above BASE's
  budget REPORT.json BYTES|RATIO   sum of bytes_after <= budget (RATIO <= 1: of bytes_before);
                                   the promoted weights are the ones with the largest
                                   (e_low^2 - e_int8^2) * elements per extra byte
  max-error REPORT.json E          every relative error <= E and each weight's precision is the
                                   cheapest one whose error is <= E
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def fail(msg):
    print("check_report: " + msg)
    sys.exit(1)


def rows_by_weight(report):
    return {r["weight"]: r for r in report["weights"]}


def mixed(row):
    if "mixed" not in row:
        fail(f"{row['weight']}: no 'mixed' entry")
    m = row["mixed"]
    if not m.get("reason"):
        fail(f"{row['weight']}: empty reason")
    return m


def elements(row):
    n = 1
    for d in row["shape"]:
        n *= d
    return n


def main():
    mode, path = sys.argv[1], sys.argv[2]
    base = load(path)
    if mode == "better":
        base_rows = rows_by_weight(base)
        for other_path in sys.argv[3:]:
            other = load(other_path)
            for name, row in rows_by_weight(other).items():
                if row["relative_error"] > base_rows[name]["relative_error"] * (1 + 1e-9):
                    fail(f"{other_path}: {name} error {row['relative_error']} > "
                         f"{base_rows[name]['relative_error']}")
            gain = other["totals"]["sqnr_db"] - base["totals"]["sqnr_db"]
            if gain < 0.1:
                fail(f"{other_path}: total SQNR gain {gain:.3f} dB < 0.1 dB")
            print(f"{other_path}: +{gain:.2f} dB")
    elif mode == "budget":
        limit = float(sys.argv[3])
        before = sum(r["bytes_before"] for r in base["weights"])
        budget = limit * before if limit <= 1 else limit
        after = sum(r["bytes_after"] for r in base["weights"])
        if after > budget:
            fail(f"bytes_after {after} > budget {budget}")
        rows = base["weights"]
        low = [r for r in rows if r["mixed"]["chosen"] == list(mixed(r)["errors"])[0]]
        promoted = [r for r in rows if r not in low]
        if not low or not promoted:
            fail(f"expected some weights promoted and some not: {len(promoted)} of {len(rows)}")

        def gain_per_byte(r):
            m = mixed(r)
            names = list(m["errors"])
            e0, e1 = m["errors"][names[0]], m["errors"][names[1]]
            return (e0 * e0 - e1 * e1) * elements(r) / (m["bytes"][names[1]] - m["bytes"][names[0]])

        if min(map(gain_per_byte, promoted)) < max(map(gain_per_byte, low)):
            fail("a weight with a larger gain per byte was left at the lowest precision")
        print(f"bytes_after {after} <= {budget:.0f}; promoted {[r['weight'] for r in promoted]}")
    elif mode == "max-error":
        bound = float(sys.argv[3])
        for r in base["weights"]:
            m = mixed(r)
            if r["relative_error"] > bound:
                fail(f"{r['weight']}: error {r['relative_error']} > {bound}")
            cheapest = next(name for name, e in m["errors"].items() if e <= bound)
            if m["chosen"] != cheapest:
                fail(f"{r['weight']}: chose {m['chosen']}, cheapest within bound is {cheapest}")
        print("ok")
    else:
        fail("unknown mode " + mode)


main()
