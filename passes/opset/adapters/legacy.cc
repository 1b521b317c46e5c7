// Steps into opsets 2-7 (models exported at opset 1-6).
//   consumed_inputs removed at 6 (Abs, Add, BatchNormalization, Ceil, Clip, Div, Dropout, Elu, Exp,
//     Floor, HardSigmoid, InstanceNormalization, LeakyRelu, Log, Max, Mean, Min, Mul, Neg, PRelu,
//     Reciprocal, Relu, Selu, Sigmoid, Sqrt, Sub, Sum, Tanh): a memory hint, dropped.
//   Selu 6:       default alpha/gamma changed (1.6732/1.0507 -> 1.67326319/1.05070102): old
//                 defaults written out when absent.
//   Cast 6:       `to` string ("FLOAT") -> int enum (1).
//   Tile 6:       (input, tiles, axis) -> (input, repeats): constant tiles/axis and a known input
//                 rank build repeats = 1 everywhere but `tiles` at `axis`.
//   Concat 4:     axis (default 1) became required: axis=1 written out when absent.
//   Split 2:      the optional 'split' input became the 'split' attribute (constant only); Split-1
//                 has no documented default axis, so a node without `axis` is refused.
//   Pad 2:        `paddings` renamed `pads`.
//   LpPool 2, GlobalLpPool 2: p float -> int (integral values only).
//   GRU 3:        linear_before_reset added (default 0, the old behaviour).
//   GRU, LSTM, RNN 7: output_sequence removed (outputs are optional anyway): dropped.
//   Upsample 7:   height_scale/width_scale (4-D input) -> scales [1, 1, h, w]; bilinear -> linear.
#include <cctype>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/opset/adapters/adapter.h"
#include "passes/core/utils.h"

namespace onnx_opt::opset {
namespace {

absl::StatusOr<Node*> DropConsumedInputs(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("consumed_inputs");
  return &node;
}

absl::StatusOr<Node*> SeluOldDefaults(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("consumed_inputs");
  if (!node.FindAttribute("alpha")) node.SetAttribute(Attribute::Float("alpha", 1.6732f));
  if (!node.FindAttribute("gamma")) node.SetAttribute(Attribute::Float("gamma", 1.0507f));
  return &node;
}

// ---- Cast-6: the target type as a TensorProto.DataType number instead of its name.
std::optional<int64_t> DataTypeNumber(std::string name) {
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, int64_t> kNames[] = {
      {"FLOAT", 1},   {"UINT8", 2},   {"INT8", 3},    {"UINT16", 4},     {"INT16", 5},
      {"INT32", 6},   {"INT64", 7},   {"STRING", 8},  {"BOOL", 9},       {"FLOAT16", 10},
      {"DOUBLE", 11}, {"UINT32", 12}, {"UINT64", 13}, {"COMPLEX64", 14}, {"COMPLEX128", 15}};
  for (const auto& [type_name, number] : kNames) {
    if (name == type_name) return number;
  }
  return std::nullopt;
}

absl::Status CheckCastTo(const Node& node, int64_t target_opset) {
  const Attribute* to = node.FindAttribute("to");
  if (to == nullptr) return Refuse(node, "Cast-1 needs a 'to' attribute");
  if (to->type == AttrType::kString &&
      !DataTypeNumber(std::get<std::string>(to->value)).has_value()) {
    return Refuse(
        node, absl::StrCat("unknown Cast-1 type name '", std::get<std::string>(to->value), "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> CastToNumber(Node& node, RewriteContext& ctx) {
  const Attribute* to = node.FindAttribute("to");
  if (to->type == AttrType::kString) {
    node.SetAttribute(Attribute::Int("to", *DataTypeNumber(std::get<std::string>(to->value))));
  }
  return &node;
}

// ---- Tile-6: repeats[axis] = tiles, 1 elsewhere.
std::optional<int64_t> ConstantScalarInt(const Value* value) {
  TensorPtr data = GetConstantTensor(value);
  if (data == nullptr || data->num_elements() != 1) return std::nullopt;
  absl::StatusOr<std::vector<int64_t>> ints = data->ToInt64s();
  if (!ints.ok()) return std::nullopt;
  return (*ints)[0];
}

std::optional<int64_t> KnownRank(const Value* value) {
  if (value == nullptr || !value->type.is_tensor() || !value->type.shape) return std::nullopt;
  return static_cast<int64_t>(value->type.shape->size());
}

absl::Status CheckTileRepeats(const Node& node, int64_t target_opset) {
  std::optional<int64_t> tiles = ConstantScalarInt(node.input(1));
  std::optional<int64_t> axis = ConstantScalarInt(node.input(2));
  std::optional<int64_t> rank = KnownRank(node.input(0));
  if (!tiles || !axis || !rank) {
    return Refuse(node,
                  "Tile-1 -> 6 needs constant scalar tiles and axis and the input's rank to "
                  "build the repeats input");
  }
  if (*axis < -*rank || *axis >= *rank || *tiles < 0) {
    return Refuse(node, "Tile-1 axis out of range or negative tiles");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> TileToRepeats(Node& node, RewriteContext& ctx) {
  const int64_t tiles = *ConstantScalarInt(node.input(1));
  const int64_t rank = *KnownRank(node.input(0));
  int64_t axis = *ConstantScalarInt(node.input(2));
  if (axis < 0) axis += rank;
  std::vector<int64_t> repeats(static_cast<size_t>(rank), 1);
  repeats[static_cast<size_t>(axis)] = tiles;
  node.RemoveInput(2);
  node.SetInput(1, ctx.Int64s(repeats, &node, "Tile_repeats"));
  return &node;
}

// ---- Concat-4: axis required (Concat-1 defaulted to 1).
absl::StatusOr<Node*> ConcatExplicitAxis(Node& node, RewriteContext& ctx) {
  if (!node.FindAttribute("axis")) node.SetAttribute(Attribute::Int("axis", 1));
  return &node;
}

// ---- Split-2: 'split' input -> attribute.
absl::Status CheckSplitTwo(const Node& node, int64_t target_opset) {
  if (!node.GetInt("axis")) {
    return Refuse(node, "Split-1 without an axis attribute (its default axis is undocumented)");
  }
  if (node.input(1) != nullptr) {
    TensorPtr data = GetConstantTensor(node.input(1));
    if (data == nullptr || !data->ToInt64s().ok()) {
      return Refuse(node, "Split-1 'split' input is not a constant (Split-2 needs an attribute)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> SplitInputToAttribute(Node& node, RewriteContext& ctx) {
  if (node.input(1) != nullptr) {
    std::vector<int64_t> split = *GetConstantTensor(node.input(1))->ToInt64s();
    node.RemoveInput(1);
    node.SetAttribute(Attribute::Ints("split", std::move(split)));
  }
  return &node;
}

// ---- Pad-2: paddings -> pads.
absl::Status CheckPaddings(const Node& node, int64_t target_opset) {
  if (!node.GetInts("paddings")) return Refuse(node, "Pad-1 needs a paddings attribute");
  return absl::OkStatus();
}

absl::StatusOr<Node*> PaddingsToPads(Node& node, RewriteContext& ctx) {
  std::vector<int64_t> pads = *node.GetInts("paddings");
  node.RemoveAttribute("paddings");
  node.SetAttribute(Attribute::Ints("pads", std::move(pads)));
  return &node;
}

// ---- LpPool-2 / GlobalLpPool-2: float p -> int p.
absl::Status CheckIntegralP(const Node& node, int64_t target_opset) {
  std::optional<float> p = node.GetFloat("p");
  if (p && (*p != std::floor(*p) || *p < 1)) {
    return Refuse(node, absl::StrCat("p=", *p, " is not a positive integer (p is an int from 2)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> IntegralP(Node& node, RewriteContext& ctx) {
  if (std::optional<float> p = node.GetFloat("p")) {
    node.SetAttribute(Attribute::Int("p", static_cast<int64_t>(*p)));
  }
  return &node;
}

// ---- GRU/LSTM/RNN-7: output_sequence removed.
absl::StatusOr<Node*> DropOutputSequence(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("output_sequence");
  return &node;
}

// ---- Upsample-7: per-axis scales.
absl::Status CheckUpsampleSeven(const Node& node, int64_t target_opset) {
  if (!node.GetFloat("height_scale") || !node.GetFloat("width_scale")) {
    return Refuse(node, "Upsample-1 needs height_scale and width_scale");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> UpsampleScalesAttribute(Node& node, RewriteContext& ctx) {
  const float height = *node.GetFloat("height_scale");
  const float width = *node.GetFloat("width_scale");
  node.RemoveAttribute("height_scale");
  node.RemoveAttribute("width_scale");
  node.SetAttribute(Attribute::Floats("scales", {1.0f, 1.0f, height, width}));
  if (node.GetString("mode") == "bilinear") node.SetAttribute(Attribute::String("mode", "linear"));
  return &node;
}

}  // namespace

std::optional<std::vector<float>> LegacyUpsampleScales(const Node& node) {
  std::optional<float> height = node.GetFloat("height_scale");
  std::optional<float> width = node.GetFloat("width_scale");
  if (!height || !width) return std::nullopt;
  return std::vector<float>{1.0f, 1.0f, *height, *width};
}

void AppendLegacyRules(std::vector<StepRule>& rules) {
  for (std::string_view op : {"Abs",       "Add",         "BatchNormalization",
                              "Ceil",      "Clip",        "Div",
                              "Dropout",   "Elu",         "Exp",
                              "Floor",     "HardSigmoid", "InstanceNormalization",
                              "LeakyRelu", "Log",         "Max",
                              "Mean",      "Min",         "Mul",
                              "Neg",       "PRelu",       "Reciprocal",
                              "Relu",      "Sigmoid",     "Sqrt",
                              "Sub",       "Sum",         "Tanh"}) {
    rules.push_back(StepRule{op, 6, "consumed_inputs (legacy memory hint) removed: dropped",
                             nullptr, DropConsumedInputs});
  }
  rules.push_back(StepRule{"Selu", 6,
                           "consumed_inputs dropped; defaults changed: old alpha=1.6732, "
                           "gamma=1.0507 written out when absent",
                           nullptr, SeluOldDefaults});
  rules.push_back(
      StepRule{"Gemm", 6, "only the \"C can be in-place\" remark removed; same computation"});
  rules.push_back(StepRule{"Cast", 6, "'to' type name -> TensorProto.DataType number", CheckCastTo,
                           CastToNumber});
  rules.push_back(StepRule{"Tile", 6,
                           "(input, tiles, axis) -> (input, repeats): constant repeats with "
                           "tiles at axis, 1 elsewhere",
                           CheckTileRepeats, TileToRepeats});
  rules.push_back(StepRule{"Concat", 4, "axis became required: the old default 1 written out",
                           nullptr, ConcatExplicitAxis});
  rules.push_back(StepRule{"Split", 2,
                           "constant 'split' input -> 'split' attribute; axis must be given",
                           CheckSplitTwo, SplitInputToAttribute});
  rules.push_back(
      StepRule{"Pad", 2, "paddings attribute renamed pads", CheckPaddings, PaddingsToPads});
  for (std::string_view op : {"LpPool", "GlobalLpPool"}) {
    rules.push_back(StepRule{op, 2, "p float -> int (integral p only)", CheckIntegralP, IntegralP});
  }
  rules.push_back(StepRule{"GRU", 3, "linear_before_reset added with default 0 (old behaviour)"});
  for (std::string_view op : {"GRU", "LSTM", "RNN"}) {
    rules.push_back(StepRule{op, 7, "output_sequence attribute removed (outputs optional): dropped",
                             nullptr, DropOutputSequence});
  }
  rules.push_back(StepRule{"Upsample", 7,
                           "height_scale/width_scale -> scales [1, 1, h, w]; bilinear -> linear",
                           CheckUpsampleSeven, UpsampleScalesAttribute});
}

}  // namespace onnx_opt::opset
