#include "passes/quantize/json.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "ir/strings.h"

namespace onnx_opt {

absl::StatusOr<google::protobuf::Struct> ReadJsonFile(const std::string& path,
                                                      std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(ToAbsl(what), " ", path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(ToAbsl(what), " ", path, ": read error"));
  return ParseJson(text.str(), path, what);
}

absl::StatusOr<google::protobuf::Struct> ParseJson(std::string_view json, const std::string& path,
                                                   std::string_view what) {
  google::protobuf::Struct root;
  if (auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &root); !s.ok()) {
    std::string why(s.message().data(), s.message().size());
    for (char& c : why) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), " ", path, ": not valid JSON: ", why));
  }
  return root;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

}  // namespace onnx_opt
