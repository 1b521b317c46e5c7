#include "passes/quantize/json.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "ir/file_io.h"
#include "ir/strings.h"

namespace onnx_opt {

absl::StatusOr<google::protobuf::Struct> ReadJsonFile(const std::string& path,
                                                      std::string_view what) {
  absl::StatusOr<std::string> text = ReadInputFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat(ToAbsl(what), " ", text.status().message()));
  }
  return ParseJson(*text, path, what);
}

namespace {

// protobuf's JSON parser error, on one line.
template <typename Status>
std::string OneLine(const Status& s) {
  std::string why(s.message().data(), s.message().size());
  for (char& c : why) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return why;
}

}  // namespace

absl::StatusOr<google::protobuf::Struct> ParseJson(std::string_view json, const std::string& path,
                                                   std::string_view what) {
  google::protobuf::Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &root); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), " ", path, ": not valid JSON: ", OneLine(s)));
  }
  return root;
}

absl::StatusOr<google::protobuf::Value> ParseJsonValue(std::string_view json,
                                                       std::string_view what) {
  google::protobuf::Value value;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &value); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), " is not valid JSON: ", OneLine(s)));
  }
  return value;
}

std::string JsonString(std::string_view text) {
  return absl::StrCat("\"", EscapeString(text, EscapeStyle::kJson), "\"");
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

}  // namespace onnx_opt
