#!/usr/bin/python3
"""Stand-in for onnx-opt used to test the evaluation harness and to give a
reference for what a weight-only quantizer should achieve.

    /usr/bin/python3 eval/mock-onnx-opt.py IN.onnx -p PIPELINE -o OUT.onnx [--stats]

It understands the same pipelines as eval/configs.json, but instead of
storing low-bit weights it *fake-quantizes* them: every weight of Conv,
ConvTranspose, MatMul and Gemm (initializer or Constant) is quantized and
dequantized in place and stays float (fp32/fp16). So the output has the
numerics of the quantized model but not its size. 'upgrade-opset' is a copy.

Layout: the weight is viewed as [output channel, reduction...] (Conv
[O, I*kh*kw]; ConvTranspose [O, I*kh*kw]; MatMul [N, K]; Gemm by transB);
per-tensor, per-channel (one scale per output channel) or blocks of
block-size along the flattened reduction (last block padded). Symmetric:
scale = absmax / (2^(b-1)-1), q in [-2^(b-1), 2^(b-1)-1]. Asymmetric: range
includes 0, scale = (max-min)/(2^b-1), zero point round(-min/scale), q in
[0, 2^b-1]. format=matmul-nbits touches MatMul weights only. Weights with
fewer than min-elements (default 1024, as onnx-opt) stay as they are.
Needs Debian's python3-onnx and python3-numpy.
"""
import re
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper


def parse_pipeline(p):
    passes = []
    for m in re.finditer(r"\s*([a-z0-9-]+)\s*(?:\{([^}]*)\})?\s*(?:,|$)", p):
        if not m.group(1):
            continue
        opts = {}
        for kv in filter(None, (m.group(2) or "").split(",")):
            k, _, v = kv.partition("=")
            opts[k.strip()] = v.strip()
        passes.append((m.group(1), opts))
    return passes


def fake_quant(w2d, bits, granularity, block, symmetric):
    """w2d: [C, R] float64. Returns the dequantized array."""
    C, R = w2d.shape
    if granularity == "tensor":
        groups = w2d.reshape(1, -1)
    elif granularity == "channel":
        groups = w2d
    else:
        nb = -(-R // block)
        pad = nb * block - R
        padded = np.pad(w2d, ((0, 0), (0, pad)))
        groups = padded.reshape(C * nb, block)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        amax = np.abs(groups).max(axis=1, keepdims=True)
        scale = np.where(amax > 0, amax / qmax, 1.0)
        q = np.clip(np.round(groups / scale), -qmax - 1, qmax)
        deq = q * scale
    else:
        qmax = 2 ** bits - 1
        lo = np.minimum(groups.min(axis=1, keepdims=True), 0)
        hi = np.maximum(groups.max(axis=1, keepdims=True), 0)
        scale = np.where(hi > lo, (hi - lo) / qmax, 1.0)
        zp = np.clip(np.round(-lo / scale), 0, qmax)
        q = np.clip(np.round(groups / scale) + zp, 0, qmax)
        deq = (q - zp) * scale
    if granularity == "block":
        return deq.reshape(C, -1)[:, :R]
    return deq.reshape(C, R)


def to_2d(w, op, node):
    """Return (2d, inverse function)."""
    if op in ("Conv",):
        C = w.shape[0]
        return w.reshape(C, -1), lambda a: a.reshape(w.shape)
    if op == "ConvTranspose":
        t = np.moveaxis(w, 1, 0)
        C = t.shape[0]
        return t.reshape(C, -1), lambda a: np.moveaxis(a.reshape(t.shape), 0, 1)
    if op == "MatMul" or (op == "Gemm" and not any(a.name == "transB" and a.i for a in node.attribute)):
        t = np.swapaxes(w, -1, -2)  # [..., N, K]
        flat = t.reshape(-1, t.shape[-1])
        return flat, lambda a: np.swapaxes(a.reshape(t.shape), -1, -2)
    # Gemm with transB=1: B is [N, K]
    return w.reshape(w.shape[0], -1), lambda a: a.reshape(w.shape)


def quantize(model, opts):
    bits = int(opts.get("bits", 8))
    block = int(opts.get("block-size", 0) or 0)
    gran = opts.get("granularity", "block" if block else "channel")
    if gran not in ("tensor", "channel", "block"):
        sys.exit(f"mock-onnx-opt: error: unknown granularity {gran}")
    if gran == "block" and not block:
        block = 32
    symmetric = opts.get("symmetric", "true").lower() in ("1", "true", "yes")
    min_elements = int(opts.get("min-elements", 1024))
    ops = {"MatMul"} if opts.get("format") == "matmul-nbits" else {"Conv", "ConvTranspose", "MatMul", "Gemm"}
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consts = {}
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = a.t
    done = set()
    count = 0
    for n in g.node:
        if n.op_type not in ops or len(n.input) < 2:
            continue
        name = n.input[1]
        t = inits.get(name) or consts.get(name)
        if t is None or name in done or t.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            continue
        w = numpy_helper.to_array(t)
        if w.ndim < 2 or w.size < min_elements:
            continue
        w2, inv = to_2d(w.astype(np.float64), n.op_type, n)
        deq = inv(fake_quant(w2, bits, gran, block, symmetric)).astype(w.dtype)
        t.CopyFrom(numpy_helper.from_array(deq, t.name))
        done.add(name)
        count += 1
    return count


def main(argv):
    args = list(argv)
    try:
        inp = args.pop(0)
        pipe = args[args.index("-p") + 1]
        out = args[args.index("-o") + 1]
    except (IndexError, ValueError):
        sys.exit("usage: mock-onnx-opt.py IN.onnx -p PIPELINE -o OUT.onnx [--stats]")
    t0 = time.time()
    model = onnx.load(inp)
    stats = []
    for name, opts in parse_pipeline(pipe):
        if name == "upgrade-opset":
            stats.append("upgrade-opset: copy (mock)")
        elif name == "quantize-weights":
            stats.append(f"quantize-weights: {quantize(model, opts)} weights fake-quantized (mock)")
        else:
            sys.exit(f"mock-onnx-opt: error: unknown pass '{name}'")
    onnx.save(model, out)
    if "--stats" in args:
        for s in stats:
            print(s)
        print(f"time: {time.time() - t0:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
