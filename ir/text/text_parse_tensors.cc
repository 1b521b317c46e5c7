// Tensor literals of the ONNX textual syntax: {...} lists, hex"..." bytes and generators.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "ir/text/tensor_gen.h"
#include "ir/text/text.h"
#include "ir/text/text_internal.h"
#include "ir/text/text_parser_internal.h"
#include "onnx/onnx_pb.h"
#include "quant/float16.h"

namespace onnx_opt::text_internal {

// Contents after "type name =": {...}, hex"...", a generator, or an elided placeholder.
absl::StatusOr<TensorPtr> Parser::ParseTensorData(const ValueType& type, std::string_view name,
                                                  const Token& where) {
  if (!type.is_tensor())
    return ErrorAt(where, absl::StrCat("'", ToAbsl(name), "': constant data needs a tensor type"));
  std::optional<std::vector<int64_t>> dims = type.static_dims();
  if (!dims) {
    return ErrorAt(where,
                   absl::StrCat("tensor '", ToAbsl(name), "' needs a shape with fixed dimensions"));
  }
  Tensor probe(type.elem_type, *dims, nullptr);
  int64_t count = probe.num_elements();
  if (count < 0)
    return ErrorAt(where, absl::StrCat("tensor '", ToAbsl(name), "' has invalid dims"));
  DataType elem = type.elem_type;
  const Token start = Peek();
  std::shared_ptr<Tensor> tensor;
  if (start.kind == Token::Kind::kHex) {
    Next();
    if (elem == DataType::kString) return ErrorAt(start, "string tensors cannot be written in hex");
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < start.text.size(); i += 2) {
      bytes.push_back(static_cast<uint8_t>(std::stoi(start.text.substr(i, 2), nullptr, 16)));
    }
    std::optional<int64_t> expected = RawByteSize(elem, count);
    if (!expected || *expected != static_cast<int64_t>(bytes.size())) {
      return ErrorAt(start, absl::StrCat("tensor '", ToAbsl(name), "': hex\"...\" has ",
                                         bytes.size(), " bytes but ", ToAbsl(DataTypeName(elem)),
                                         "[", count, " elements] needs ", expected.value_or(-1)));
    }
    tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(bytes)));
  } else if (IsPunct("<") && IsIdent("elided", 1)) {
    return ErrorAt(start, absl::StrCat("tensor '", ToAbsl(name),
                                       "' has elided contents (printed with "
                                       "elide_tensors_larger_than); elided text cannot be parsed"));
  } else if (start.kind == Token::Kind::kIdent && IsGeneratorName(start.text) && IsPunct("(", 1)) {
    absl::StatusOr<std::vector<uint8_t>> bytes = ParseGenerator(elem, count, name);
    if (!bytes.ok()) return bytes.status();
    tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(*bytes)));
  } else if (Accept("{")) {
    // Encoded in batches (of an even size, for 4-bit packing) to bound memory on big tensors.
    constexpr size_t kBatch = 4096;
    std::vector<Token> batch;
    std::vector<uint8_t> bytes;
    std::vector<std::string> strings;
    int64_t seen = 0;
    auto flush = [&]() -> absl::Status {
      if (elem == DataType::kString) {
        for (Token& e : batch) {
          if (e.kind != Token::Kind::kString) {
            return ErrorAt(e, absl::StrCat("expected a string, found ", Describe(e)));
          }
          strings.push_back(std::move(e.text));
        }
      } else if (!batch.empty()) {
        absl::StatusOr<std::vector<uint8_t>> encoded = EncodeLiterals(elem, batch);
        if (!encoded.ok()) return encoded.status();
        bytes.insert(bytes.end(), encoded->begin(), encoded->end());
      }
      batch.clear();
      return absl::OkStatus();
    };
    if (!Accept("}")) {
      do {
        batch.push_back(Next());
        ++seen;
        if (batch.size() == kBatch) TEXT_RETURN_IF_ERROR(flush());
      } while (Accept(","));
      TEXT_RETURN_IF_ERROR(Expect("}", "to close the tensor contents"));
    }
    TEXT_RETURN_IF_ERROR(flush());
    if (seen != count) {
      return ErrorAt(start, absl::StrCat("tensor '", ToAbsl(name), "' has ", seen,
                                         " values but its shape holds ", count));
    }
    if (elem == DataType::kString) {
      tensor = std::make_shared<Tensor>(Tensor::FromStrings(*dims, std::move(strings)));
    } else {
      tensor = std::make_shared<Tensor>(elem, *dims, Buffer::FromVector(std::move(bytes)));
    }
  } else {
    return Unexpected("tensor contents ({...}, hex\"...\", randn/uniform/arange/constant(...))");
  }
  tensor->name = std::string(name);
  return TensorPtr(std::move(tensor));
}

absl::StatusOr<std::vector<uint8_t>> Parser::EncodeLiterals(DataType elem,
                                                            const std::vector<Token>& elements) {
  std::vector<uint8_t> out;
  auto is_number = [](const Token& e) {
    return e.kind == Token::Kind::kInt || e.kind == Token::Kind::kFloat ||
           (e.kind == Token::Kind::kIdent && IsSpecialFloatWord(e.text));
  };
  switch (elem) {
    case DataType::kFloat:
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kDouble:
      for (const Token& e : elements) {
        if (!is_number(e))
          return ErrorAt(e, absl::StrCat("expected a number, found ", Describe(e)));
        if (elem == DataType::kDouble) {
          std::optional<double> d = ParseFloating<double>(e.text);
          if (!d) return ErrorAt(e, absl::StrCat("invalid number ", e.text));
          AppendRaw(out, *d);
          continue;
        }
        std::optional<float> f = ParseFloating<float>(e.text);
        if (!f) return ErrorAt(e, absl::StrCat("invalid number ", e.text));
        if (elem == DataType::kFloat) {
          AppendRaw(out, *f);
        } else if (elem == DataType::kFloat16) {
          AppendRaw(out, quant::FloatToHalf(*f));
        } else {
          AppendRaw(out, quant::FloatToBFloat16(*f));
        }
      }
      return out;
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64:
    case DataType::kBool:
    case DataType::kInt4:
    case DataType::kUint4:
      break;
    default:
      return ErrorAt(elements.empty() ? Peek() : elements[0],
                     absl::StrCat("write ", ToAbsl(DataTypeName(elem)),
                                  " tensor contents as hex\"...\" (raw bytes)"));
  }
  std::vector<uint8_t> nibbles;
  for (const Token& e : elements) {
    if (e.kind != Token::Kind::kInt) {
      return ErrorAt(e, absl::StrCat("expected an integer for ", ToAbsl(DataTypeName(elem)),
                                     ", found ", Describe(e)));
    }
    auto out_of_range = [&] {
      return ErrorAt(
          e, absl::StrCat("value ", e.text, " is out of range for ", ToAbsl(DataTypeName(elem))));
    };
    if (elem == DataType::kUint64) {
      uint64_t u = 0;
      auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), u);
      if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size()) return out_of_range();
      AppendRaw(out, u);
      continue;
    }
    int64_t v = 0;
    auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
    if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size()) return out_of_range();
    auto check = [&](int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
    switch (elem) {
      case DataType::kInt8:
        if (!check(-128, 127)) return out_of_range();
        AppendRaw(out, static_cast<int8_t>(v));
        break;
      case DataType::kUint8:
        if (!check(0, 255)) return out_of_range();
        AppendRaw(out, static_cast<uint8_t>(v));
        break;
      case DataType::kInt16:
        if (!check(-32768, 32767)) return out_of_range();
        AppendRaw(out, static_cast<int16_t>(v));
        break;
      case DataType::kUint16:
        if (!check(0, 65535)) return out_of_range();
        AppendRaw(out, static_cast<uint16_t>(v));
        break;
      case DataType::kInt32:
        if (!check(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max())) {
          return out_of_range();
        }
        AppendRaw(out, static_cast<int32_t>(v));
        break;
      case DataType::kUint32:
        if (!check(0, std::numeric_limits<uint32_t>::max())) return out_of_range();
        AppendRaw(out, static_cast<uint32_t>(v));
        break;
      case DataType::kInt64:
        AppendRaw(out, v);
        break;
      case DataType::kBool:
        if (!check(0, 1)) return out_of_range();
        AppendRaw(out, static_cast<uint8_t>(v));
        break;
      case DataType::kInt4:
        if (!check(-8, 7)) return out_of_range();
        nibbles.push_back(static_cast<uint8_t>(v & 0xF));
        break;
      case DataType::kUint4:
        if (!check(0, 15)) return out_of_range();
        nibbles.push_back(static_cast<uint8_t>(v));
        break;
      default:
        break;
    }
  }
  for (size_t i = 0; i < nibbles.size(); i += 2) {
    uint8_t high = i + 1 < nibbles.size() ? nibbles[i + 1] : 0;
    out.push_back(static_cast<uint8_t>(nibbles[i] | (high << 4)));
  }
  return out;
}

// randn(seed: S, mean: M, std: D) | uniform(seed: S, low: L, high: H) | arange(start: A,
// step: B) | constant(V); arguments by name or by position, in that order.
absl::StatusOr<std::vector<uint8_t>> Parser::ParseGenerator(DataType elem, int64_t count,
                                                            std::string_view name) {
  const Token gen_token = Next();
  const std::string& gen = gen_token.text;
  Next();  // '('
  textgen::GenSpec spec;
  std::vector<std::string> params;
  if (gen == "randn") {
    spec.kind = textgen::GenKind::kRandn;
    params = {"seed", "mean", "std"};
  } else if (gen == "uniform") {
    spec.kind = textgen::GenKind::kUniform;
    params = {"seed", "low", "high"};
  } else if (gen == "arange") {
    spec.kind = textgen::GenKind::kArange;
    spec.a = 0;
    params = {"start", "step"};
  } else {
    spec.kind = textgen::GenKind::kConstant;
    params = {"value"};
  }
  std::vector<bool> seen(params.size(), false);
  size_t position = 0;
  if (!IsPunct(")")) {
    do {
      size_t index = position;
      if (Peek().kind == Token::Kind::kIdent && IsPunct(":", 1)) {
        const Token key = Next();
        Next();
        auto it = std::find(params.begin(), params.end(), key.text);
        if (it == params.end()) {
          return ErrorAt(key, absl::StrCat(gen, "() has no parameter '", key.text,
                                           "' (parameters: ", absl::StrJoin(params, ", "), ")"));
        }
        index = static_cast<size_t>(it - params.begin());
      } else if (index >= params.size()) {
        return ErrorAt(Peek(), absl::StrCat(gen, "() takes at most ", params.size(), " arguments"));
      }
      if (seen[index]) return ErrorAt(Peek(), absl::StrCat("'", params[index], "' given twice"));
      seen[index] = true;
      ++position;
      const Token value = Next();
      bool numeric = value.kind == Token::Kind::kInt || value.kind == Token::Kind::kFloat;
      if (!numeric) {
        return ErrorAt(value, absl::StrCat("expected a number for '", params[index], "', found ",
                                           Describe(value)));
      }
      if (params[index] == "seed") {
        auto r =
            std::from_chars(value.text.data(), value.text.data() + value.text.size(), spec.seed);
        if (value.kind != Token::Kind::kInt || r.ec != std::errc() ||
            r.ptr != value.text.data() + value.text.size()) {
          return ErrorAt(value, "seed must be a non-negative integer below 2^64");
        }
        continue;
      }
      std::optional<double> d = ParseFloating<double>(value.text);
      if (!d) return ErrorAt(value, absl::StrCat("invalid number ", value.text));
      bool first = params[index] == "mean" || params[index] == "low" || params[index] == "start" ||
                   params[index] == "value";
      (first ? spec.a : spec.b) = *d;
    } while (Accept(","));
  }
  TEXT_RETURN_IF_ERROR(Expect(")", absl::StrCat("to close ", gen, "(")));
  if ((gen == "randn" || gen == "uniform") && !seen[0]) {
    return ErrorAt(gen_token, absl::StrCat(gen, "() needs a seed"));
  }
  if (gen == "constant" && !seen[0]) return ErrorAt(gen_token, "constant() needs a value");
  if ((gen == "randn" || gen == "uniform") && !IsFloatingPoint(elem)) {
    return ErrorAt(gen_token, absl::StrCat(gen, "() fills floating-point tensors only, not ",
                                           ToAbsl(DataTypeName(elem))));
  }
  std::vector<double> values = textgen::GenerateValues(spec, count);
  absl::StatusOr<std::vector<uint8_t>> bytes = textgen::EncodeValues(elem, values);
  if (!bytes.ok()) {
    return ErrorAt(gen_token,
                   absl::StrCat("tensor '", ToAbsl(name), "': ", bytes.status().message()));
  }
  return bytes;
}

}  // namespace onnx_opt::text_internal
