"""pytest for the onnx_opt Python module (run by ctest as python_tests)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnx_opt

RNG = np.random.default_rng(17)
W = RNG.standard_normal((64, 32)).astype(np.float32)


def matmul_model(with_dead_node=False, opset=21):
    """y = x @ w (w 64x32 float)."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    if with_dead_node:
        nodes.append(helper.make_node("Neg", ["x"], ["dead"], name="dead"))
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
        [numpy_helper.from_array(W, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10 if opset >= 21 else 8)


def conv_model(opset=21):
    """A Conv-only model (at opset < 21 nothing format=matmul-nbits can take)."""
    k = RNG.standard_normal((16, 8, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "k"], ["y"], name="conv")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 6, 6])],
        [numpy_helper.from_array(k, "k")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10 if opset >= 21 else 8)


def test_optimize_model_proto_round_trip():
    out = onnx_opt.optimize(matmul_model(with_dead_node=True, opset=17), "dce")
    assert isinstance(out, onnx.ModelProto)
    onnx.checker.check_model(out)  # python3-onnx 1.12 checks up to IR version 8
    assert [n.op_type for n in out.graph.node] == ["MatMul"]
    np.testing.assert_array_equal(numpy_helper.to_array(out.graph.initializer[0]), W)


def test_quantize_then_dequantize_is_close_to_the_original():
    quantized = onnx_opt.optimize(matmul_model(), "quantize-weights{bits=8,block-size=32}")
    ops = [n.op_type for n in quantized.graph.node]
    assert "DequantizeLinear" in ops, ops
    assert not any(i.data_type == TensorProto.FLOAT and i.name == "w"
                   for i in quantized.graph.initializer)
    restored = onnx_opt.optimize(quantized, "dequantize-weights")
    (w,) = [numpy_helper.to_array(i) for i in restored.graph.initializer if i.dims == [64, 32]]
    error = np.linalg.norm(w - W) / np.linalg.norm(W)
    assert 0 < error < 0.02, error


def test_bytes_in_bytes_out():
    data = matmul_model(with_dead_node=True).SerializeToString()
    out = onnx_opt.optimize(data, "dce")
    assert isinstance(out, bytes)
    assert len(onnx.load_from_string(out).graph.node) == 1


def test_statistics_report_and_summaries():
    result = onnx_opt.run(matmul_model(with_dead_node=True),
                          "dce,quantize-weights{bits=4,symmetric=false,block-size=32}")
    assert list(result.statistics)[0] == "dce"
    assert result.statistics["dce"]["nodes-removed"] == 1
    quantize = list(result.statistics.values())[1]
    assert quantize["weights-quantized"] == 1
    assert quantize["skipped-small"] == 0  # zero counters are there too
    assert result.warnings == []
    assert result.report is not None
    (row,) = result.report["weights"]
    assert row["weight"] == "w" and row["bits"] == 4
    assert result.before["op_counts"] == {"MatMul": 1, "Neg": 1}
    assert result.after["quantized_weights"] == 1
    assert result.after["float_weights"] == 0


def test_errors_are_python_exceptions_with_one_line():
    with pytest.raises(onnx_opt.Error) as bad_pass:
        onnx_opt.optimize(matmul_model(), "dce,no-such-pass")
    assert "no-such-pass" in str(bad_pass.value) and "\n" not in str(bad_pass.value)
    with pytest.raises(onnx_opt.Error) as bad_option:
        onnx_opt.optimize(matmul_model(), "quantize-weights{bits=3}")
    assert "bits" in str(bad_option.value)
    with pytest.raises(onnx_opt.Error, match="not a valid ONNX protobuf"):
        onnx_opt.optimize(b"\x08\x01\xff\xff\xff", "dce")
    assert issubclass(onnx_opt.Error, RuntimeError)
    with pytest.raises(TypeError):
        onnx_opt.optimize(42, "dce")


def test_quantizing_nothing_warns():
    with pytest.warns(onnx_opt.QuantizationWarning, match="skipped-format: 1"):
        result = onnx_opt.run(conv_model(opset=17), "quantize-weights{format=matmul-nbits}")
    assert result.statistics["quantize-weights{format=matmul-nbits}"]["weights-quantized"] == 0
    (line,) = result.warnings
    assert line.startswith("quantize-weights: quantized none of the model's 1 float weights")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a model that quantizes fully warns about nothing
        onnx_opt.run(conv_model(), "quantize-weights")


def test_optimize_file(tmp_path):
    src = tmp_path / "in.onnx"
    onnx.save(matmul_model(with_dead_node=True), src)
    onnx_opt.optimize_file(src, "dce", tmp_path / "out.onnxtxt")
    text = (tmp_path / "out.onnxtxt").read_text()
    assert "MatMul" in text and "Neg" not in text
    with pytest.raises(onnx_opt.Error, match="missing.onnx"):
        onnx_opt.optimize_file(tmp_path / "missing.onnx", "dce", tmp_path / "x.onnx")


def test_command_line(tmp_path):
    src = tmp_path / "in.onnx"
    onnx.save(matmul_model(with_dead_node=True), src)
    out = tmp_path / "out.onnx"
    run = subprocess.run([sys.executable, "-m", "onnx_opt", str(src), "-p", "dce", "-o", str(out)],
                         capture_output=True, text=True, env=os.environ)
    assert run.returncode == 0, run.stderr
    assert len(onnx.load(out).graph.node) == 1
    bad = subprocess.run([sys.executable, "-m", "onnx_opt", str(src), "-p", "nope", "-o", str(out)],
                         capture_output=True, text=True, env=os.environ)
    assert bad.returncode == 1
    assert "unknown pass 'nope'" in bad.stderr and bad.stderr.count("\n") == 1
    version = subprocess.run([sys.executable, "-m", "onnx_opt", "--version"], capture_output=True,
                             text=True, env=os.environ)
    assert version.stdout.strip() == f"onnx-opt version {onnx_opt.__version__}"


def test_list_passes():
    passes = onnx_opt.list_passes()
    assert "quantize-weights" in passes and "dce" in passes


def test_star_import_gives_exactly_the_documented_public_names():
    namespace = {}
    exec("from onnx_opt import *", namespace)  # pylint: disable=exec-used
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(onnx_opt.__all__)
    assert len(set(onnx_opt.__all__)) == len(onnx_opt.__all__)
    # Every class and function the package defines is listed (imported helpers are not).
    defined = {name for name, value in vars(onnx_opt).items()
               if not name.startswith("_") and getattr(value, "__module__", None) == "onnx_opt"}
    assert defined == set(onnx_opt.__all__) - {"__version__"}
    for name in defined:
        doc = getattr(onnx_opt, name).__doc__
        assert doc and doc.strip(), f"onnx_opt.{name} has no docstring"
    # __version__ is a string: the module's docstring need not explain it, the CLI agrees with it.
    assert isinstance(onnx_opt.__version__, str) and onnx_opt.__version__[0].isdigit()
