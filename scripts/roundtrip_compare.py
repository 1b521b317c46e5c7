#!/usr/bin/python3
"""Compares two ONNX models field by field, with presence (Debian's python3-onnx).

Equal means protobuf's serialization of both ModelProtos is the same: every field, including the
typed data fields of tensors, and whether an optional field is present (proto2: `domain: ""`
differs from no domain). When the first file is protobuf's canonical serialization of itself,
the second must also be byte-identical to it (what `cmp` checks).
Usage: roundtrip_compare.py A.onnx B.onnx [C.onnx D.onnx ...]   (exit 0 all equal, 1 otherwise)
"""
import sys

import onnx


def differences(a, b, path, out, limit=5):
    """Paths of fields that differ, with presence: 'only in A' / 'only in B' / 'differs'."""
    fields_a = {f.name: (f, v) for f, v in a.ListFields()}
    fields_b = {f.name: (f, v) for f, v in b.ListFields()}
    for name in sorted(set(fields_a) | set(fields_b)):
        if len(out) >= limit:
            return
        here = f"{path}.{name}"
        if name not in fields_b:
            out.append(f"{here}: only in the first (dropped)")
            continue
        if name not in fields_a:
            out.append(f"{here}: only in the second (added)")
            continue
        field, va = fields_a[name]
        vb = fields_b[name][1]
        is_message = field.type == field.TYPE_MESSAGE
        if field.label == field.LABEL_REPEATED:
            if len(va) != len(vb):
                out.append(f"{here}: {len(va)} vs {len(vb)} entries")
                continue
            for i, (x, y) in enumerate(zip(va, vb)):
                if is_message:
                    differences(x, y, f"{here}[{i}]", out, limit)
                elif x != y:
                    out.append(f"{here}[{i}] differs")
        elif is_message:
            differences(va, vb, here, out, limit)
        elif va != vb:
            out.append(f"{here} differs")
    if not out and a.SerializeToString() != b.SerializeToString():
        out.append(f"{path}: unknown fields differ")


def compare(first, second):
    with open(first, "rb") as f:
        bytes_a = f.read()
    with open(second, "rb") as f:
        bytes_b = f.read()
    a, b = onnx.ModelProto(), onnx.ModelProto()
    a.ParseFromString(bytes_a)
    b.ParseFromString(bytes_b)
    found = []
    if a.SerializeToString() != b.SerializeToString():
        differences(a, b, "model", found)
        print(f"{first}: ModelProto differs: " + "; ".join(found or ["serialization differs"]))
        return False
    if a.SerializeToString() == bytes_a:
        if bytes_a != bytes_b:
            print(f"{first}: equal field by field, but the input is canonical and the files differ")
            return False
        print(f"{first}: ModelProto equal with presence; files byte-identical (canonical input)")
    else:
        print(f"{first}: ModelProto equal with presence (input not canonically serialized)")
    return True


def main():
    paths = sys.argv[1:]
    if len(paths) < 2 or len(paths) % 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    ok = all([compare(paths[i], paths[i + 1]) for i in range(0, len(paths), 2)])
    return 0 if ok else 1


sys.exit(main())
