// Textual pass pipelines: `dce,quantize-weights{bits=4,block-size=32,ops=MatMul,Gemm}`.
//
// Grammar:
//   pipeline := element (',' element)*
//   element  := pass-name ('{' [option (',' option)*] '}')?
//   option   := key '=' value (',' item)*     -- extra items only for list options
//   value    := bare | '"' chars '"'          -- quotes allow ',', '=', '{', '}' and spaces;
//                                                '\"' and '\\' escape inside quotes
// Whitespace around names, keys and values is ignored. After a list option, the following
// comma-separated words that contain no '=' are further items of that list.
//
// Printing writes every option that was set, in declaration order, quoting only when needed;
// for input in that canonical form, Print(Parse(text)) == text.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "passes/core/pass.h"
#include "passes/core/registry.h"

namespace onnx_opt {

// Creates and configures the passes of `text`, then runs each pass's ValidateOptions.
// Errors: an unknown pass lists the valid passes; an unknown option lists that pass's options; a
// bad value names the pass, the option and what is accepted.
absl::StatusOr<std::vector<std::unique_ptr<Pass>>> ParsePipeline(std::string_view text,
                                                                 const PassRegistry& registry);

// `name` or `name{opt=value,...}` with the options that were set.
std::string PrintPass(const Pass& pass);
std::string PrintPipeline(const std::vector<std::unique_ptr<Pass>>& passes);

// Quotes `text` when it could not be read back as one bare value.
std::string QuotePipelineValue(std::string_view text);

}  // namespace onnx_opt
