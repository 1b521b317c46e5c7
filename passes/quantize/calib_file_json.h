// JSON helpers shared by the .calib reader and writer (calib_file.cc, calib_file_writer.cc):
// protobuf's Struct/Value, which onnx-opt already uses for its JSON files (parsed and printed
// through json.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"

namespace onnx_opt::calib_json {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using JsonValue = google::protobuf::Value;

template <typename Text>
inline std::string OneLine(const Text& text) {
  std::string s(text.data(), text.size());
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

inline JsonValue Text(const std::string& s) {
  JsonValue v;
  v.set_string_value(s);
  return v;
}
inline JsonValue Number(double d) {
  JsonValue v;
  v.set_number_value(d);
  return v;
}
template <typename T>
inline JsonValue List(const std::vector<T>& items) {
  JsonValue v;
  ListValue* list = v.mutable_list_value();
  for (const T& item : items) {
    if constexpr (std::is_same_v<T, std::string>) {
      *list->add_values() = Text(item);
    } else {
      *list->add_values() = Number(static_cast<double>(item));
    }
  }
  return v;
}

// A JSON number as an integer: -1 unless finite, integral and within +-2^53 (no undefined
// conversions from a damaged file).
inline int64_t ToInt(double v) {
  return std::isfinite(v) && std::fabs(v) <= 9007199254740992.0 && v == std::floor(v)
             ? static_cast<int64_t>(v)
             : -1;
}

inline const JsonValue* Field(const Struct& s, const char* name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}
inline std::string StringField(const Struct& s, const char* name) {
  const JsonValue* v = Field(s, name);
  return v != nullptr ? v->string_value() : std::string();
}
inline double NumberField(const Struct& s, const char* name) {
  const JsonValue* v = Field(s, name);
  return v != nullptr ? v->number_value() : 0;
}
inline int64_t IntField(const Struct& s, const char* name) { return ToInt(NumberField(s, name)); }
template <typename T>
inline std::vector<T> ListField(const Struct& s, const char* name) {
  std::vector<T> out;
  const JsonValue* v = Field(s, name);
  if (v == nullptr || !v->has_list_value()) return out;
  for (const JsonValue& item : v->list_value().values()) {
    if constexpr (std::is_same_v<T, std::string>) {
      out.push_back(item.string_value());
    } else {
      out.push_back(static_cast<T>(ToInt(item.number_value())));
    }
  }
  return out;
}

}  // namespace onnx_opt::calib_json
