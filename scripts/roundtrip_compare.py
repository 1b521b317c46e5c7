#!/usr/bin/python3
"""Compares two ONNX models field by field (Debian's python3-onnx).

Tensor payloads are compared by value and type, so a typed field (float_data, int32_data...) that
onnx-opt writes back as raw_data counts as equal, and an empty `domain` counts as equal to an
absent one (proto2 presence only: the IR keeps the value, not whether "" was written); every other
field must match exactly.
Usage: roundtrip_compare.py A.onnx B.onnx   (exit 0 equal, 1 different)
"""
import sys

import onnx
from onnx import numpy_helper


def normalise_tensor(t):
    if t.data_type in (onnx.TensorProto.UNDEFINED,) or t.data_location == onnx.TensorProto.EXTERNAL:
        return
    values = numpy_helper.to_array(t)
    fresh = numpy_helper.from_array(values, t.name)
    fresh.doc_string = t.doc_string
    fresh.data_type = t.data_type
    t.CopyFrom(fresh)


def walk_graph(g):
    for n in g.node:
        if not n.domain:
            n.ClearField("domain")
    for t in g.initializer:
        normalise_tensor(t)
    for n in g.node:
        for a in n.attribute:
            if a.HasField("t"):
                normalise_tensor(a.t)
            for t in a.tensors:
                normalise_tensor(t)
            if a.HasField("g"):
                walk_graph(a.g)
            for sub in a.graphs:
                walk_graph(sub)


def main():
    a, b = (onnx.load(p, load_external_data=False) for p in sys.argv[1:3])
    for m in (a, b):
        for imp in m.opset_import:
            if not imp.domain:
                imp.ClearField("domain")
        walk_graph(m.graph)
        for f in m.functions:
            for n in f.node:
                for attr in n.attribute:
                    if attr.HasField("t"):
                        normalise_tensor(attr.t)
    if a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True):
        print(f"{sys.argv[1]}: ModelProto equal field by field")
        return 0
    for field in a.DESCRIPTOR.fields:
        if getattr(a, field.name) != getattr(b, field.name):
            print(f"{sys.argv[1]}: field '{field.name}' differs")
    return 1


sys.exit(main())
