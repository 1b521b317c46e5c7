#!/usr/bin/python3
"""Give a model a rank-2 input OpenCV.js can build (eval/opencv-compat.sh).

    /usr/bin/python3 eval/opencv_flat_input.py IN.onnx OUT.onnx

OpenCV.js builds blobs from JavaScript only as [rows, cols] matrices or, through blobFromImage,
[1, C, H, W] with C of 1, 3 or 4. An input of another shape (oww-embed [1,76,32,1], oww-jarvis
[1,16,96]) is declared [prod(dims[:-1]), dims[-1]] and reshaped back by a leading Reshape, so the
same bytes reach the same graph. Inputs OpenCV.js can build already are kept; dims must be
static (set-input-shapes first).
"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def buildable(dims):
    return len(dims) == 2 or (len(dims) == 4 and dims[0] == 1 and dims[1] in (1, 3, 4))


def rename_uses(graph, old, new):
    """Every use of `old` in `graph` and the subgraphs it holds (If/Loop bodies see outer values)."""
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                rename_uses(sub, old, new)


def main():
    model = onnx.load(sys.argv[1])
    graph = model.graph
    init_names = {i.name for i in graph.initializer}
    prologue = []
    for inp in graph.input:
        if inp.name in init_names:
            continue
        shape = inp.type.tensor_type.shape
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in shape.dim]
        if min(dims, default=-1) <= 0:
            sys.exit(f"opencv_flat_input: input '{inp.name}' has dynamic dims {dims}")
        if buildable(dims):
            continue
        inner = f"{inp.name}__unflat"
        rename_uses(graph, inp.name, inner)
        shape_name = f"{inp.name}__shape"
        graph.initializer.append(numpy_helper.from_array(np.array(dims, dtype=np.int64), shape_name))
        prologue.append(helper.make_node("Reshape", [inp.name, shape_name], [inner],
                                         name=f"{inp.name}__unflatten"))
        del shape.dim[:]
        for d in (int(np.prod(dims[:-1])), dims[-1]):
            shape.dim.add().dim_value = d
    nodes = prologue + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
