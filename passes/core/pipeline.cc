#include "passes/core/pipeline.h"

#include <cctype>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"

namespace onnx_opt {

namespace {

struct Token {
  std::string text;
  bool quoted = false;
};

class PipelineParser {
 public:
  PipelineParser(std::string_view text, const PassRegistry& registry)
      : text_(text), registry_(registry) {}

  absl::StatusOr<std::vector<std::unique_ptr<Pass>>> Parse() {
    std::vector<std::unique_ptr<Pass>> passes;
    SkipSpace();
    if (AtEnd()) return passes;
    while (true) {
      std::string name = ReadWord();
      if (name.empty()) return Error("expected a pass name");
      absl::StatusOr<std::unique_ptr<Pass>> pass = registry_.Create(name);
      if (!pass.ok()) return pass.status();
      SkipSpace();
      if (Peek() == '{') {
        ++pos_;
        if (absl::Status s = ParseOptions(**pass); !s.ok()) return s;
      }
      if (absl::Status s = (*pass)->ValidateOptions(); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
      }
      passes.push_back(*std::move(pass));
      SkipSpace();
      if (AtEnd()) return passes;
      if (Peek() != ',') return Error(absl::StrCat("expected ',' after pass '", name, "'"));
      ++pos_;
      SkipSpace();
    }
  }

 private:
  absl::Status ParseOptions(Pass& pass) {
    const std::string pass_name(pass.name());
    absl::flat_hash_set<std::string> seen;
    SkipSpace();
    if (Peek() == '}') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      SkipSpace();
      std::string key = ReadWord();
      if (key.empty())
        return Error(absl::StrCat("expected an option name for pass '", pass_name, "'"));
      PassOptionBase* option = pass.FindOption(key);
      if (option == nullptr) {
        std::vector<std::string> names;
        for (const PassOptionBase* o : pass.options()) names.push_back(o->name());
        return absl::InvalidArgumentError(absl::StrCat(
            pass_name, ": unknown option '", key, "'; ",
            names.empty() ? std::string("the pass has no options")
                          : absl::StrCat("valid options: ", absl::StrJoin(names, ", "))));
      }
      if (!seen.insert(key).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(pass_name, ": option '", key, "' is given twice"));
      }
      SkipSpace();
      if (Peek() != '=') {
        return Error(
            absl::StrCat("expected '=' after option '", key, "' of pass '", pass_name, "'"));
      }
      ++pos_;
      absl::StatusOr<Token> first = ReadValue();
      if (!first.ok()) return first.status();
      std::vector<std::string> items = {first->text};
      // Following words without '=' continue the value (a list, or an error for scalars).
      while (Peek() == ',') {
        size_t save = pos_;
        ++pos_;
        absl::StatusOr<Token> next = ReadValue();
        if (!next.ok()) return next.status();
        if (!next->quoted && (next->text.find('=') != std::string::npos || PeekIsEquals())) {
          pos_ = save;
          break;
        }
        items.push_back(next->text);
      }
      if (absl::Status s = option->ParseItems(items); !s.ok()) return s;
      SkipSpace();
      if (Peek() == '}') {
        ++pos_;
        return absl::OkStatus();
      }
      if (Peek() != ',') {
        return Error(
            absl::StrCat("expected ',' or '}' after option '", key, "' of pass '", pass_name, "'"));
      }
      ++pos_;
    }
  }

  // A bare value runs to the next ',', '{', '}' or '='; a quoted one to the closing quote.
  absl::StatusOr<Token> ReadValue() {
    SkipSpace();
    Token token;
    if (Peek() == '"') {
      token.quoted = true;
      ++pos_;
      while (true) {
        if (AtEnd()) return Error("unterminated quoted value");
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\' && !AtEnd()) c = text_[pos_++];
        token.text.push_back(c);
      }
      SkipSpace();
      return token;
    }
    size_t start = pos_;
    while (!AtEnd() && Peek() != ',' && Peek() != '}' && Peek() != '{' && Peek() != '"' &&
           Peek() != '=') {
      ++pos_;
    }
    token.text = std::string(Trim(text_.substr(start, pos_ - start)));
    if (Peek() == '{' || Peek() == '"') return Error("unexpected character in option value");
    return token;
  }

  // After a bare word stopped at '=', the word was the key of the next option.
  bool PeekIsEquals() const { return Peek() == '='; }

  std::string ReadWord() {
    size_t start = pos_;
    while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(Peek())) || Peek() == '-' ||
                        Peek() == '_' || Peek() == '.')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }

  absl::Status Error(std::string_view message) const {
    std::string where =
        AtEnd() ? std::string("at end of pipeline")
                : absl::StrCat("at offset ", pos_, " ('", ToAbsl(text_.substr(pos_, 10)), "')");
    return absl::InvalidArgumentError(absl::StrCat("pipeline: ", ToAbsl(message), " ", where));
  }

  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(Peek()))) ++pos_;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  std::string_view text_;
  const PassRegistry& registry_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Pass>>> ParsePipeline(std::string_view text,
                                                                 const PassRegistry& registry) {
  auto passes = PipelineParser(text, registry).Parse();
  if (passes.ok()) return passes;
  // Messages quote the user's text: escape control characters so a diagnostic stays one line.
  std::string message;
  for (char c : passes.status().message()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(&message, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      message.push_back(c);
    }
  }
  return absl::Status(passes.status().code(), message);
}

std::string QuotePipelineValue(std::string_view text) {
  bool needs_quotes = text.empty();
  for (char c : text) {
    if (c == ',' || c == '=' || c == '{' || c == '}' || c == '"' || c == '\\' ||
        std::isspace(static_cast<unsigned char>(c))) {
      needs_quotes = true;
    }
  }
  if (!needs_quotes) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string PrintPass(const Pass& pass) {
  std::vector<std::string> parts;
  for (const PassOptionBase* option : pass.options()) {
    if (!option->is_set()) continue;
    std::string value;
    if (option->is_list()) {
      // ValueText joins items with ','; quote each item on its own.
      const auto* list = static_cast<const PassOption<std::vector<std::string>>*>(option);
      std::vector<std::string> items;
      for (const std::string& item : list->value()) items.push_back(QuotePipelineValue(item));
      value = absl::StrJoin(items, ",");
    } else {
      value = QuotePipelineValue(option->ValueText());
    }
    parts.push_back(absl::StrCat(option->name(), "=", value));
  }
  if (parts.empty()) return std::string(pass.name());
  return absl::StrCat(ToAbsl(pass.name()), "{", absl::StrJoin(parts, ","), "}");
}

std::string PrintPipeline(const std::vector<std::unique_ptr<Pass>>& passes) {
  std::vector<std::string> parts;
  for (const auto& pass : passes) parts.push_back(PrintPass(*pass));
  return absl::StrJoin(parts, ",");
}

}  // namespace onnx_opt
