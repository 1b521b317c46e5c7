#!/usr/bin/env python3
"""big_external.py DIR: writes DIR/big.txtpb (an ONNX ModelProto in protobuf text, for
protoc --encode) and DIR/big.bin, the external data of its one initializer: w, float32
[4096, 131200] (2,149,580,800 bytes, 2 MB over 2 GiB; row 4095 starts above 2^31), y = MatMul(x, w). big.bin is sparse: only the
first and the last 32 rows (one quantization block along the reduction axis each, 16.8 MB) hold
seeded normal values (std 0.05), the rest is a hole that reads as zeros.
same A B: the files are byte-identical (compared in 64 MiB chunks; cmp takes ten times longer).
check DIR MODEL.txt SIDECAR: dequantizes, from the int4 codes and scales of a quantize-weights
model (MODEL.txt: protoc --decode of it; codes and scales external in SIDECAR), the first and
last 32 rows and checks them against big.bin: relative error below 0.15 (int4 b32 sym measures
~0.1), so a wrong offset above 2 GiB, which reads other rows or zeros, fails."""
import os
import re
import sys

import numpy

K, N, BLOCK = 4096, 131200, 32
NBYTES = K * N * 4


def rows(seed):
    return numpy.random.default_rng(seed).normal(0, 0.05, (BLOCK, N)).astype("<f4")


def write(d):
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.truncate(NBYTES)
        f.write(rows(1).tobytes())
        f.seek((K - BLOCK) * N * 4)
        f.write(rows(2).tobytes())
    with open(os.path.join(d, "big.txtpb"), "w") as f:
        f.write(f"""ir_version: 10
opset_import {{ domain: "" version: 21 }}
graph {{
  name: "big"
  node {{ input: "x" input: "w" output: "y" op_type: "MatMul" name: "mm" }}
  initializer {{
    name: "w" data_type: 1 dims: {K} dims: {N} data_location: EXTERNAL
    external_data {{ key: "location" value: "big.bin" }}
    external_data {{ key: "offset" value: "0" }}
    external_data {{ key: "length" value: "{NBYTES}" }}
  }}
  input {{ name: "x" type {{ tensor_type {{ elem_type: 1 shape {{ dim {{ dim_value: 1 }} dim {{ dim_value: {K} }} }} }} }} }}
  output {{ name: "y" type {{ tensor_type {{ elem_type: 1 shape {{ dim {{ dim_value: 1 }} dim {{ dim_value: {N} }} }} }} }} }}
}}
""")


def external(text, name):
    """(offset, length) of initializer `name` in protoc's text of a ModelProto."""
    for block in re.split(r"\n  initializer \{", text)[1:]:
        if re.search(r'^\s*name: "%s"' % re.escape(name), block, re.M):
            offset = re.search(r'key: "offset"\s*value: "(\d+)"', block)
            length = re.search(r'key: "length"\s*value: "(\d+)"', block)
            if offset and length:
                return int(offset.group(1)), int(length.group(1))
    sys.exit(f"big_external: no external initializer {name}")


def check(d, model_text, sidecar):
    text = open(model_text).read()
    data = numpy.memmap(sidecar, dtype=numpy.uint8, mode="r")
    q_off, q_len = external(text, "w_q")
    s_off, s_len = external(text, "w_scale")
    if q_len != K * N // 2 or s_len != (K // BLOCK) * N * 4:
        sys.exit(f"big_external: w_q {q_len} bytes, w_scale {s_len} bytes")
    scales = numpy.frombuffer(data[s_off:s_off + s_len], dtype="<f4").reshape(K // BLOCK, N)
    for seed, first in ((1, 0), (2, K - BLOCK)):
        packed = data[q_off + first * N // 2:q_off + (first + BLOCK) * N // 2]
        low = (packed & 0x0F).astype(numpy.int8)
        high = (packed >> 4).astype(numpy.int8)
        codes = numpy.empty(packed.size * 2, numpy.int8)
        codes[0::2], codes[1::2] = low, high
        codes = numpy.where(codes > 7, codes - 16, codes).reshape(BLOCK, N)
        got = codes * scales[first // BLOCK]
        want = rows(seed)
        err = numpy.linalg.norm(got - want) / numpy.linalg.norm(want)
        print(f"rows {first}-{first + BLOCK - 1}: relative error {err:.4f}")
        if not err < 0.15:
            sys.exit(f"big_external: rows {first}-{first + BLOCK - 1}: relative error {err:.4f}")
    print("big_external: PASS")


def same(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        sys.exit(f"big_external: {a} and {b} differ in size")
    with open(a, "rb") as fa, open(b, "rb") as fb:
        offset = 0
        while True:
            x, y = fa.read(64 << 20), fb.read(64 << 20)
            if x != y:
                sys.exit(f"big_external: {a} and {b} differ in the 64 MiB from byte {offset}")
            if not x:
                break
            offset += len(x)
    print(f"big_external: {offset} bytes identical")


if __name__ == "__main__":
    if sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:5])
    else:
        write(sys.argv[1])
