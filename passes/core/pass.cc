#include "passes/core/pass.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ir/strings.h"

namespace onnx_opt {

PassOptionBase::PassOptionBase(Pass* owner, std::string name, std::string help)
    : owner_(owner), name_(std::move(name)), help_(std::move(help)) {
  owner->options_.push_back(this);
}

std::string PassOptionBase::Where() const {
  return absl::StrCat(ToAbsl(owner_->name()), ": option '", name_, "'");
}

absl::Status PassOptionBase::ParseItems(const std::vector<std::string>& items) {
  if (items.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(Where(), " takes one value of type ", TypeName(),
                                                   ", got ", items.size(),
                                                   " (quote a value that contains ',')"));
  }
  return Parse(items[0]);
}

PassStatistic::PassStatistic(Pass* owner, std::string name, std::string help)
    : name_(std::move(name)), help_(std::move(help)) {
  owner->statistics_.push_back(this);
}

PassOptionBase* Pass::FindOption(std::string_view option_name) const {
  for (PassOptionBase* option : options_) {
    if (option->name() == option_name) return option;
  }
  return nullptr;
}

absl::Status Pass::RunOnModel(Model& model) {
  // Collect first so a pass may add or remove subgraphs of graphs it has already visited
  // without disturbing the walk; graphs removed by an outer run are not visited.
  absl::Status status = absl::OkStatus();
  model.WalkGraphs([&](Graph& graph) {
    if (!status.ok()) return;
    status = RunOnGraph(graph, model);
  });
  return status;
}

namespace {

// Shortest decimal text that reads back as the same double.
std::string DoubleText(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    double back = 0;
    if (absl::SimpleAtod(buf, &back) && back == v) break;
  }
  return buf;
}

std::string RangeText(double min, double max, bool integral) {
  if (integral) {
    return absl::StrCat("[", static_cast<int64_t>(min), ", ", static_cast<int64_t>(max), "]");
  }
  return absl::StrCat("[", DoubleText(min), ", ", DoubleText(max), "]");
}

}  // namespace

// ------------------------------------------------------------------ TypeName

template <>
std::string PassOption<bool>::TypeName() const {
  return "bool";
}
template <>
std::string PassOption<int64_t>::TypeName() const {
  return has_range_ ? absl::StrCat("int in ", RangeText(min_, max_, true)) : "int";
}
template <>
std::string PassOption<double>::TypeName() const {
  return has_range_ ? absl::StrCat("float in ", RangeText(min_, max_, false)) : "float";
}
template <>
std::string PassOption<std::string>::TypeName() const {
  return choices_.empty() ? "string" : absl::StrJoin(choices_, "|");
}
template <>
std::string PassOption<std::vector<std::string>>::TypeName() const {
  return choices_.empty() ? "list" : absl::StrCat("list of ", absl::StrJoin(choices_, "|"));
}

// ------------------------------------------------------------------ ValueText / DefaultText

namespace {
std::string Text(bool v) { return v ? "true" : "false"; }
std::string Text(int64_t v) { return absl::StrCat(v); }
std::string Text(double v) { return DoubleText(v); }
std::string Text(const std::string& v) { return v; }
std::string Text(const std::vector<std::string>& v) { return absl::StrJoin(v, ","); }
}  // namespace

template <typename T>
std::string PassOption<T>::ValueText() const {
  return Text(value_);
}
template <typename T>
std::string PassOption<T>::DefaultText() const {
  return Text(default_);
}

// ------------------------------------------------------------------ Parse

template <>
absl::Status PassOption<bool>::Parse(std::string_view text) {
  if (text == "true" || text == "1" || text == "on") {
    set_value(true);
  } else if (text == "false" || text == "0" || text == "off") {
    set_value(false);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(), " expects true or false, got '", ToAbsl(text), "'"));
  }
  return absl::OkStatus();
}

template <>
absl::Status PassOption<int64_t>::Parse(std::string_view text) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(ToAbsl(text), &v) ||
      (has_range_ && (static_cast<double>(v) < min_ || static_cast<double>(v) > max_))) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(), " expects an integer", has_range_ ? " in " : "",
                     has_range_ ? RangeText(min_, max_, true) : "", ", got '", ToAbsl(text), "'"));
  }
  set_value(v);
  return absl::OkStatus();
}

template <>
absl::Status PassOption<double>::Parse(std::string_view text) {
  double v = 0;
  if (!absl::SimpleAtod(ToAbsl(text), &v) || !std::isfinite(v) ||
      (has_range_ && (v < min_ || v > max_))) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(), " expects a number", has_range_ ? " in " : "",
                     has_range_ ? RangeText(min_, max_, false) : "", ", got '", ToAbsl(text), "'"));
  }
  set_value(v);
  return absl::OkStatus();
}

namespace {
bool IsChoice(const std::vector<std::string>& choices, std::string_view text) {
  if (choices.empty()) return true;
  for (const std::string& c : choices) {
    if (c == text) return true;
  }
  return false;
}
}  // namespace

template <>
absl::Status PassOption<std::string>::Parse(std::string_view text) {
  if (!IsChoice(choices_, text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(), " expects one of ", absl::StrJoin(choices_, ", "), "; got '", ToAbsl(text), "'"));
  }
  set_value(std::string(text));
  return absl::OkStatus();
}

template <>
absl::Status PassOption<std::vector<std::string>>::ParseItems(
    const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    if (item.empty()) continue;  // "ops=" is the empty list
    if (!IsChoice(choices_, item)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(), " accepts items from ", absl::StrJoin(choices_, ", "), "; got '", item, "'"));
    }
    out.push_back(item);
  }
  set_value(std::move(out));
  return absl::OkStatus();
}

template <>
absl::Status PassOption<std::vector<std::string>>::Parse(std::string_view text) {
  std::vector<std::string> items = absl::StrSplit(ToAbsl(text), ',');
  return ParseItems(items);
}

template <typename T>
absl::Status PassOption<T>::ParseItems(const std::vector<std::string>& items) {
  return PassOptionBase::ParseItems(items);
}

template class PassOption<bool>;
template class PassOption<int64_t>;
template class PassOption<double>;
template class PassOption<std::string>;
template class PassOption<std::vector<std::string>>;

}  // namespace onnx_opt
