// The pybind11 extension behind python/onnx_opt/__init__.py: thin wrappers over the public API
// (include/onnx_opt/onnx_opt.h). An absl::Status error becomes onnx_opt.Error with the one-line
// message; the work runs without the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <iostream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "onnx_opt/onnx_opt.h"
#include "passes/core/registry.h"

namespace py = pybind11;

namespace {

PyObject* error_type = nullptr;

[[noreturn]] void Raise(const absl::Status& status) {
  PyErr_SetString(error_type, std::string(status.message()).c_str());
  throw py::error_already_set();
}

py::dict SummaryDict(const onnx_opt::ModelSummary& s) {
  py::dict d;
  d["nodes"] = s.nodes;
  d["float_weights"] = s.float_weights;
  d["float_weight_bytes"] = s.float_weight_bytes;
  d["quantized_weights"] = s.quantized_weights;
  d["op_counts"] = s.op_counts;
  return d;
}

py::dict Optimize(const py::bytes& model, const std::string& pipeline, bool verify_each,
                  bool collect_reports) {
  std::string bytes = model;  // a copy: the GIL is released while it is read
  onnx_opt::OptimizeOptions options;
  options.verify_each = verify_each;
  options.collect_reports = collect_reports;
  absl::StatusOr<onnx_opt::OptimizeResult> result;
  {
    py::gil_scoped_release release;
    result = onnx_opt::Optimize(bytes, pipeline, options);
  }
  if (!result.ok()) Raise(result.status());
  py::dict out;
  out["model"] = py::bytes(result->model);
  py::list statistics;
  for (const onnx_opt::StatisticValue& s : result->statistics) {
    statistics.append(py::make_tuple(s.pass_index, s.pass, s.name, s.value));
  }
  out["statistics"] = statistics;
  out["warnings"] = result->warnings;
  py::list reports;
  for (const onnx_opt::PassReport& r : result->reports) reports.append(py::make_tuple(r.pass, r.json));
  out["reports"] = reports;
  out["before"] = SummaryDict(result->before);
  out["after"] = SummaryDict(result->after);
  return out;
}

void OptimizeFile(const std::string& input, const std::string& pipeline,
                  const std::string& output) {
  absl::Status status;
  {
    py::gil_scoped_release release;
    status = onnx_opt::OptimizeModelFile(input, pipeline, output);
  }
  if (!status.ok()) Raise(status);
}

std::vector<std::pair<std::string, std::string>> ListPasses() {
  std::vector<std::pair<std::string, std::string>> passes;
  onnx_opt::PassRegistry registry = onnx_opt::MakeDefaultPassRegistry();
  for (const auto& entry : registry.entries()) passes.emplace_back(entry.name, entry.summary);
  return passes;
}

// `python3 -m onnx_opt ...`: the onnx-opt command line, on the process's stdout and stderr.
int Main(const std::vector<std::string>& args) {
  py::gil_scoped_release release;
  int code = onnx_opt::RunOnnxOpt(args, std::cout, std::cerr);
  std::cout.flush();
  std::cerr.flush();
  return code;
}

}  // namespace

PYBIND11_MODULE(_onnx_opt, m) {
  m.doc() = "onnx-opt's C++ core; use the onnx_opt package, not this module";
  error_type = PyErr_NewExceptionWithDoc(
      "onnx_opt.Error", "An onnx-opt failure; str(error) is the one-line diagnostic.",
      PyExc_RuntimeError, nullptr);
  m.attr("Error") = py::handle(error_type);
  m.attr("__version__") = std::string(onnx_opt::Version());
  m.def("optimize", &Optimize, py::arg("model"), py::arg("pipeline"), py::arg("verify_each"),
        py::arg("collect_reports"));
  m.def("optimize_file", &OptimizeFile, py::arg("input"), py::arg("pipeline"),
        py::arg("output"));
  m.def("list_passes", &ListPasses);
  m.def("main", &Main, py::arg("args"));
}
