// The onnx-opt command line, callable in-process (tests run it without spawning a process).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace onnx_opt {

// Runs onnx-opt with `args` (without the program name). Model text and reports go to `out`,
// diagnostics to `err`; standard input is read for the input file "-". Returns the exit code:
// 0 on success, 1 on any error (reported as one line "onnx-opt: <file>: <message>").
int RunOnnxOpt(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The Markdown reference of every registered pass (docs/passes.md is this text).
std::string PassDocsMarkdown();

}  // namespace onnx_opt
