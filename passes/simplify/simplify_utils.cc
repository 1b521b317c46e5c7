#include "passes/simplify/simplify_utils.h"

#include <cmath>
#include <span>
#include <string>
#include <utility>

#include "passes/core/utils.h"
#include "quant/float16.h"

namespace onnx_opt::simplify {
namespace {

bool IsStoredFloat(DataType type) {
  return type == DataType::kFloat || type == DataType::kFloat16 || type == DataType::kBFloat16 ||
         type == DataType::kDouble;
}

std::optional<ConstantOperand> ReadTensor(const TensorPtr& tensor) {
  if (tensor == nullptr || !IsStoredFloat(tensor->type())) return std::nullopt;
  absl::StatusOr<std::vector<float>> values = tensor->ToFloats();
  if (!values.ok() || static_cast<int64_t>(values->size()) != tensor->num_elements()) {
    return std::nullopt;
  }
  ConstantOperand out;
  out.values = *std::move(values);
  out.dims = tensor->dims();
  out.storage = tensor->type();
  return out;
}

}  // namespace

std::optional<ConstantOperand> ReadConstant(const Value* value) {
  if (value == nullptr) return std::nullopt;
  if (TensorPtr tensor = GetConstantTensor(value)) return ReadTensor(tensor);
  const Node* cast = value->producer();
  if (cast == nullptr || !cast->Is("Cast") || cast->GetInt("to") != 1) return std::nullopt;
  std::optional<ConstantOperand> stored = ReadTensor(GetConstantTensor(cast->input(0)));
  // Only widening casts are exact; a double constant cast to float is not read through.
  if (!stored || stored->storage == DataType::kDouble || stored->storage == DataType::kFloat) {
    return std::nullopt;
  }
  stored->through_cast = true;
  return stored;
}

Value* MakeConstantLike(Rewriter& rewriter, Node* user, const ConstantOperand& like,
                        std::vector<int64_t> dims, const std::vector<float>& values,
                        std::string_view name_hint) {
  Tensor tensor;
  switch (like.storage) {
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      std::vector<uint16_t> bits(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        bits[i] = like.storage == DataType::kFloat16 ? quant::FloatToHalf(values[i])
                                                     : quant::FloatToBFloat16(values[i]);
      }
      tensor = Tensor::FromValues<uint16_t>(like.storage, std::move(dims), bits);
      break;
    }
    case DataType::kDouble: {
      std::vector<double> wide(values.begin(), values.end());
      tensor = Tensor::FromValues<double>(like.storage, std::move(dims), wide);
      break;
    }
    default:
      tensor = Tensor::FromValues<float>(DataType::kFloat, std::move(dims), values);
  }
  Graph& graph = *user->graph();
  Value* stored =
      graph.AddInitializer(name_hint, std::make_shared<const Tensor>(std::move(tensor)));
  if (!like.through_cast) return stored;
  Node* cast =
      rewriter.CreateNodeBefore(user, "Cast", {stored}, 1, "", {std::string(name_hint) + "_cast"});
  cast->SetAttribute(Attribute::Int("to", 1));
  cast->output(0)->type = ValueType::Tensor(DataType::kFloat, stored->type.shape);
  cast->output(0)->in_value_info = true;
  return cast->output(0);
}

void CopyType(Value* to, const Value* from) {
  to->type = from->type;
  to->in_value_info = from->type.kind != ValueType::Kind::kNone;
}

Node* SoleUser(const Value* value) {
  if (value == nullptr || value->is_graph_output() || value->uses().size() != 1) return nullptr;
  return value->uses()[0].node;
}

std::optional<std::vector<float>> PerChannel(const ConstantOperand& constant, int64_t rank,
                                             int64_t axis, int64_t channels) {
  const int64_t r = static_cast<int64_t>(constant.dims.size());
  if (r > rank || channels <= 0) return std::nullopt;
  int64_t varying = 1;
  for (int64_t i = 0; i < r; ++i) {
    const int64_t out_axis = i + (rank - r);
    const int64_t d = constant.dims[i];
    if (d == 1) continue;
    if (out_axis != axis || d != channels) return std::nullopt;
    varying = d;
  }
  if (varying == 1) {
    if (constant.values.size() != 1) return std::nullopt;
    return std::vector<float>(channels, constant.values[0]);
  }
  if (static_cast<int64_t>(constant.values.size()) != channels) return std::nullopt;
  return constant.values;
}

bool CanTakeOver(const Value* from, const Value* to) {
  if (!from->is_graph_output()) return true;
  // A node output (so not a graph input or initializer) of the same graph, not already an output.
  return to->producer() != nullptr && to->graph() == from->graph() && !to->is_graph_output();
}

absl::Status ReplaceAndErase(Rewriter& rewriter, Node* node, Value* from, Value* to) {
  const bool keep_name = from->is_graph_output();
  std::string name = from->name();
  ValueType type = from->type;
  rewriter.ReplaceAllUsesWith(from, to);
  if (absl::Status s = rewriter.EraseNode(node); !s.ok()) return s;
  if (keep_name) {
    to->set_name(std::move(name));
    if (type.kind != ValueType::Kind::kNone) to->type = std::move(type);
  }
  return absl::OkStatus();
}

absl::Status ReplaceAndEraseKeepingName(Rewriter& rewriter, Node* node, Value* from, Value* to) {
  std::string name = from->name();
  if (absl::Status s = ReplaceAndErase(rewriter, node, from, to); !s.ok()) return s;
  if (to->name() != name) to->set_name(std::move(name));
  return absl::OkStatus();
}

std::optional<BinaryWithConstant> SplitConstantOperand(const Node& node) {
  if (node.inputs().size() != 2 || node.input(0) == nullptr || node.input(1) == nullptr) {
    return std::nullopt;
  }
  std::optional<ConstantOperand> a = ReadConstant(node.input(0));
  std::optional<ConstantOperand> b = ReadConstant(node.input(1));
  if (a.has_value() == b.has_value()) return std::nullopt;
  if (a) return BinaryWithConstant{node.input(1), 0, *std::move(a)};
  return BinaryWithConstant{node.input(0), 1, *std::move(b)};
}

}  // namespace onnx_opt::simplify
