// JSON in quantize-weights, one way: files are read through protobuf's JSON parser into a
// google::protobuf::Struct (already a dependency), reports are written with these writers.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace onnx_opt {

// Reads the JSON file at `path` whose top level is an object. Errors are one line starting with
// "<what> <path>: " (cannot read: <reason>, from ReadInputFile; not valid JSON: <message>).
absl::StatusOr<google::protobuf::Struct> ReadJsonFile(const std::string& path,
                                                      std::string_view what);
// The same for JSON text already in memory (`path` only names it in errors).
absl::StatusOr<google::protobuf::Struct> ParseJson(std::string_view json, const std::string& path,
                                                   std::string_view what);

// Any JSON value (object, array, number...) in memory; the error is one line, "<what> is not
// valid JSON: <message>".
absl::StatusOr<google::protobuf::Value> ParseJsonValue(std::string_view json,
                                                       std::string_view what);

// `text` as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);
// A finite number with 6 significant digits; null for infinity and NaN (JSON has neither).
std::string JsonNumber(double value);

}  // namespace onnx_opt
