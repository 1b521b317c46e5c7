"""onnx-opt from Python: run pass pipelines over ONNX models.

    import onnx, onnx_opt
    model = onnx.load("in.onnx")
    small = onnx_opt.optimize(model, "quantize-weights{bits=4,symmetric=false}")
    onnx.save(small, "out.onnx")

    result = onnx_opt.run(model, "dce,quantize-weights")   # model + what happened
    result.statistics["quantize-weights"]["weights-quantized"], result.warnings, result.report

Errors raise onnx_opt.Error (a RuntimeError) whose message is the one-line diagnostic naming the
file, pass, node or tensor. `python3 -m onnx_opt in.onnx -p PIPELINE -o out.onnx` is the onnx-opt
command line. See docs/embedding.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings as _warnings
from typing import Any, Dict, List, Optional, Union

from . import _onnx_opt

Error = _onnx_opt.Error
__version__ = _onnx_opt.__version__
# The public names (what `from onnx_opt import *` gives); python/tests/test_onnx_opt.py checks that
# every class and function the package defines is listed and documented.
__all__ = ["Error", "QuantizationWarning", "Result", "optimize", "run", "optimize_file",
           "list_passes", "__version__"]


class QuantizationWarning(UserWarning):
    """A quantizing pass quantized nothing, or far less than the model holds."""


@dataclasses.dataclass
class Result:
    """What run() returns."""

    model: Any  # onnx.ModelProto or bytes, as given
    # {pass as written in the pipeline: {statistic: value}}, zero counters included; a pass that
    # appears twice gets "#2" after its name the second time.
    statistics: Dict[str, Dict[str, int]]
    warnings: List[str]  # one line each
    # The JSON reports (parsed) of the passes that write one (quantize-weights), in pipeline order.
    reports: List[Dict[str, Any]]
    before: Dict[str, Any]  # nodes, op_counts, float_weights, quantized_weights, ...
    after: Dict[str, Any]

    @property
    def report(self) -> Optional[Dict[str, Any]]:
        """The first report, or None: {"weights": [...], "totals": {...}}."""
        return self.reports[0] if self.reports else None


def _to_bytes(model) -> bytes:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    if hasattr(model, "SerializeToString"):
        return model.SerializeToString()
    raise TypeError(f"expected onnx.ModelProto or bytes, got {type(model).__name__}")


def _like(original, data: bytes):
    if isinstance(original, (bytes, bytearray, memoryview)):
        return data
    out = type(original)()
    out.ParseFromString(data)
    return out


def run(model, pipeline: str, *, verify_each: bool = True, warn: bool = True) -> Result:
    """Runs `pipeline` over `model` (onnx.ModelProto or bytes of a binary/text model).

    Returns a Result whose .model has the type of `model`. With warn=True each warning is also
    issued as an onnx_opt.QuantizationWarning.
    """
    raw = _onnx_opt.optimize(_to_bytes(model), pipeline, verify_each, True)
    statistics: Dict[str, Dict[str, int]] = {}
    seen: Dict[str, int] = {}
    keys: Dict[int, str] = {}
    for index, pass_text, name, value in raw["statistics"]:
        if index not in keys:
            seen[pass_text] = seen.get(pass_text, 0) + 1
            keys[index] = pass_text if seen[pass_text] == 1 else f"{pass_text}#{seen[pass_text]}"
            statistics[keys[index]] = {}
        statistics[keys[index]][name] = value
    for line in raw["warnings"]:
        if warn:
            _warnings.warn(line, QuantizationWarning, stacklevel=2)
    reports = [json.loads(text) for _, text in raw["reports"]]
    return Result(_like(model, raw["model"]), statistics, list(raw["warnings"]), reports,
                  raw["before"], raw["after"])


def optimize(model, pipeline: str, *, verify_each: bool = True):
    """Runs `pipeline` over `model`; returns the result as the type given (ModelProto or bytes)."""
    return run(model, pipeline, verify_each=verify_each, warn=True).model


def optimize_file(input: Union[str, os.PathLike], pipeline: str,
                  output: Union[str, os.PathLike]) -> None:
    """File in, file out (external data and text models included), like the command line."""
    _onnx_opt.optimize_file(os.fspath(input), pipeline, os.fspath(output))


def list_passes() -> Dict[str, str]:
    """{pass name: one-line summary} of every registered pass."""
    return dict(_onnx_opt.list_passes())
