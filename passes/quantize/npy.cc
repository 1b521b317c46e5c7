#include "passes/quantize/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "ir/file_io.h"
#include "ir/strings.h"
#include "quant/float16.h"

namespace onnx_opt {
namespace {

// The value of `key` in a NumPy header dict ("{'descr': '<f4', 'fortran_order': False, ...}"):
// the text after "'key':" up to the next top-level comma or closing brace.
std::optional<std::string> HeaderField(const std::string& header, const std::string& key) {
  size_t at = header.find(absl::StrCat("'", key, "'"));
  if (at == std::string::npos) return std::nullopt;
  at = header.find(':', at);
  if (at == std::string::npos) return std::nullopt;
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  int depth = 0;
  size_t end = at;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  return header.substr(at, end - at + (header[end] == ')' ? 1 : 0));
}

}  // namespace

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  absl::StatusOr<std::string> read = ReadInputFile(path);
  if (!read.ok()) {
    return absl::Status(read.status().code(),
                        absl::StrCat("calibration file ", read.status().message()));
  }
  return ParseNpy(*read, path);
}

absl::StatusOr<NpyArray> ParseNpy(std::string_view bytes, const std::string& path) {
  // Header text is quoted in errors with control characters escaped: one line whatever it holds.
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(EscapeString(
        absl::StrCat("calibration file ", path, ": ", parts...), EscapeStyle::kControl));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    return error("not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return error("truncated header");
    for (int i = 3; i >= 0; --i)
      header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    return error("unsupported .npy format version ", major);
  }
  if (bytes.size() < offset + header_len) return error("truncated header");
  const std::string header(bytes.substr(offset, header_len));
  const std::optional<std::string> descr = HeaderField(header, "descr");
  const std::optional<std::string> order = HeaderField(header, "fortran_order");
  const std::optional<std::string> shape_text = HeaderField(header, "shape");
  if (!descr || !order || !shape_text) return error("header lacks descr, fortran_order or shape");
  if (*order != "False") return error("Fortran order is not supported; save in C order");
  int width = 0;
  if (*descr == "'<f4'") width = 4;
  if (*descr == "'<f2'") width = 2;
  if (width == 0) return error("dtype ", *descr, " is not little-endian float32 or float16");
  NpyArray array;
  if (shape_text->size() < 2 || shape_text->front() != '(' || shape_text->back() != ')') {
    return error("bad shape ", *shape_text);
  }
  std::stringstream dims(shape_text->substr(1, shape_text->size() - 2));
  int64_t count = 1;
  for (std::string item; std::getline(dims, item, ',');) {
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    if (item.empty()) continue;
    char* end = nullptr;
    errno = 0;
    const long long d = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || d < 0 || errno == ERANGE) return error("bad shape ", *shape_text);
    array.shape.push_back(d);
    // The data must fit in the file, so a product past its size is an error (and no overflow).
    if (d != 0 && count > static_cast<int64_t>(bytes.size()) / d) {
      return error("shape ", *shape_text, " needs more data than the file holds");
    }
    count *= d;
  }
  const size_t data_begin = offset + header_len;
  if (bytes.size() - data_begin != static_cast<size_t>(count) * width) {
    return error("holds ", bytes.size() - data_begin, " data bytes but shape ",
                 FormatDims(array.shape), " needs ", count * width);
  }
  array.values.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    if (width == 4) {
      std::memcpy(&array.values[i], bytes.data() + data_begin + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, bytes.data() + data_begin + 2 * i, 2);
      array.values[i] = quant::HalfToFloat(h);
    }
  }
  return array;
}

}  // namespace onnx_opt
