#!/usr/bin/python3
"""make-fp16.py IN.onnx OUT.onnx: a float16 copy of a float32 model, laid out like ISNet's fp16
export (eval/models.json): every float32 tensor (Constant, initializer, value_info, Cast target)
becomes float16, each float32 graph input is Cast to float16 and each float32 output Cast back,
so the harness still feeds and reads float32. eval.sh makes ocr-cls-fp16 with it (from ocr-cls
upgraded to opset 21), the float16 model of the quick gate. Needs python3-onnx."""
import sys

import numpy
import onnx
from onnx import TensorProto, helper, numpy_helper

F, H = TensorProto.FLOAT, TensorProto.FLOAT16


def half(t):
    if t.data_type != F:
        return t
    return numpy_helper.from_array(numpy_helper.to_array(t).astype(numpy.float16), t.name)


def rename(name_lists, old, new):
    """Every `old` in the given repeated name fields (node inputs or outputs) becomes `new`."""
    for names in name_lists:
        for k, name in enumerate(names):
            if name == old:
                names[k] = new


def main(src, dst):
    model = onnx.load(src)
    g = model.graph
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                a.t.CopyFrom(half(a.t))
            if node.op_type == "Cast" and a.name == "to" and a.i == F:
                a.i = H
    for t in g.initializer:
        t.CopyFrom(half(t))
    for vi in g.value_info:
        if vi.type.tensor_type.elem_type == F:
            vi.type.tensor_type.elem_type = H
    head, tail = [], []
    for inp in g.input:
        if inp.type.tensor_type.elem_type != F:
            continue
        rename((node.input for node in g.node), inp.name, inp.name + "_fp16")
        head.append(helper.make_node("Cast", [inp.name], [inp.name + "_fp16"], to=H,
                                     name=inp.name + "_to_fp16"))
    for out in g.output:
        if out.type.tensor_type.elem_type != F:
            continue
        rename((node.output for node in g.node), out.name, out.name + "_fp16")
        tail.append(helper.make_node("Cast", [out.name + "_fp16"], [out.name], to=F,
                                     name=out.name + "_to_fp32"))
    nodes = head + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(model, dst)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make-fp16.py IN.onnx OUT.onnx")
    main(sys.argv[1], sys.argv[2])
