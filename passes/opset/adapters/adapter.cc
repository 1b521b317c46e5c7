// Schema history, rule table and helpers shared by the opset-upgrade adapters.
#include "passes/opset/adapters/adapter.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ir/strings.h"
#include "passes/core/utils.h"
#include "quant/float16.h"

namespace onnx_opt::opset {
namespace {

struct OpHistory {
  std::string_view op_type;
  std::vector<int> versions;
};

// Since-versions of every default-domain operator through opset 21. Versions through 17 are
// those of the ONNX 1.12 schema registry; 18-21 follow ONNX's docs/Changelog.md (1.13-1.16).
// ImageScaler, an experimental operator of opsets 1-9 that exported models (tiny-yolov2,
// emotion-ferplus) still carry, is listed with a pseudo-version 10 for its removal.
const std::vector<OpHistory>& Histories() {
  static const auto* const kHistories = new std::vector<OpHistory>{
      {"Abs", {1, 6, 13}},
      {"Acos", {7}},
      {"Acosh", {9}},
      {"Add", {1, 6, 7, 13, 14}},
      {"AffineGrid", {20}},
      {"And", {1, 7}},
      {"ArgMax", {1, 11, 12, 13}},
      {"ArgMin", {1, 11, 12, 13}},
      {"Asin", {7}},
      {"Asinh", {9}},
      {"Atan", {7}},
      {"Atanh", {9}},
      {"AveragePool", {1, 7, 10, 11, 19}},
      {"BatchNormalization", {1, 6, 7, 9, 14, 15}},
      {"Bernoulli", {15}},
      {"BitShift", {11}},
      {"BitwiseAnd", {18}},
      {"BitwiseNot", {18}},
      {"BitwiseOr", {18}},
      {"BitwiseXor", {18}},
      {"BlackmanWindow", {17}},
      {"Cast", {1, 6, 9, 13, 19, 21}},
      {"CastLike", {15, 19, 21}},
      {"Ceil", {1, 6, 13}},
      {"Celu", {12}},
      {"CenterCropPad", {18}},
      {"Clip", {1, 6, 11, 12, 13}},
      {"Col2Im", {18}},
      {"Compress", {9, 11}},
      {"Concat", {1, 4, 11, 13}},
      {"ConcatFromSequence", {11}},
      {"Constant", {1, 9, 11, 12, 13, 19, 21}},
      {"ConstantOfShape", {9, 20, 21}},
      {"Conv", {1, 11}},
      {"ConvInteger", {10}},
      {"ConvTranspose", {1, 11}},
      {"Cos", {7}},
      {"Cosh", {9}},
      {"CumSum", {11, 14}},
      {"DFT", {17, 20}},
      {"DeformConv", {19}},
      {"DepthToSpace", {1, 11, 13}},
      {"DequantizeLinear", {10, 13, 19, 21}},
      {"Det", {11}},
      {"Div", {1, 6, 7, 13, 14}},
      {"Dropout", {1, 6, 7, 10, 12, 13}},
      {"DynamicQuantizeLinear", {11}},
      {"Einsum", {12}},
      {"Elu", {1, 6}},
      {"Equal", {1, 7, 11, 13, 19}},
      {"Erf", {9, 13}},
      {"Exp", {1, 6, 13}},
      {"Expand", {8, 13}},
      {"EyeLike", {9}},
      {"Flatten", {1, 9, 11, 13, 21}},
      {"Floor", {1, 6, 13}},
      {"GRU", {1, 3, 7, 14}},
      {"Gather", {1, 11, 13}},
      {"GatherElements", {11, 13}},
      {"GatherND", {11, 12, 13}},
      {"Gelu", {20}},
      {"Gemm", {1, 6, 7, 9, 11, 13}},
      {"GlobalAveragePool", {1}},
      {"GlobalLpPool", {1, 2}},
      {"GlobalMaxPool", {1}},
      {"Greater", {1, 7, 9, 13}},
      {"GreaterOrEqual", {12, 16}},
      {"GridSample", {16, 20}},
      {"GroupNormalization", {18, 21}},
      {"HammingWindow", {17}},
      {"HannWindow", {17}},
      {"HardSigmoid", {1, 6}},
      {"HardSwish", {14}},
      {"Hardmax", {1, 11, 13}},
      {"Identity", {1, 13, 14, 16, 19, 21}},
      {"If", {1, 11, 13, 16, 19, 21}},
      {"ImageDecoder", {20}},
      {"ImageScaler", {1, 10}},  // experimental; 10 stands for its removal
      {"InstanceNormalization", {1, 6}},
      {"IsInf", {10, 20}},
      {"IsNaN", {9, 13, 20}},
      {"LRN", {1, 13}},
      {"LSTM", {1, 7, 14}},
      {"LayerNormalization", {17}},
      {"LeakyRelu", {1, 6, 16}},
      {"Less", {1, 7, 9, 13}},
      {"LessOrEqual", {12, 16}},
      {"Log", {1, 6, 13}},
      {"LogSoftmax", {1, 11, 13}},
      {"Loop", {1, 11, 13, 16, 19, 21}},
      {"LpNormalization", {1}},
      {"LpPool", {1, 2, 11, 18}},
      {"MatMul", {1, 9, 13}},
      {"MatMulInteger", {10}},
      {"Max", {1, 6, 8, 12, 13}},
      {"MaxPool", {1, 8, 10, 11, 12}},
      {"MaxRoiPool", {1}},
      {"MaxUnpool", {9, 11}},
      {"Mean", {1, 6, 8, 13}},
      {"MeanVarianceNormalization", {9, 13}},
      {"MelWeightMatrix", {17}},
      {"Min", {1, 6, 8, 12, 13}},
      {"Mish", {18}},
      {"Mod", {10, 13}},
      {"Mul", {1, 6, 7, 13, 14}},
      {"Multinomial", {7}},
      {"Neg", {1, 6, 13}},
      {"NegativeLogLikelihoodLoss", {12, 13}},
      {"NonMaxSuppression", {10, 11}},
      {"NonZero", {9, 13}},
      {"Not", {1}},
      {"OneHot", {9, 11}},
      {"Optional", {15}},
      {"OptionalGetElement", {15, 18}},
      {"OptionalHasElement", {15, 18}},
      {"Or", {1, 7}},
      {"PRelu", {1, 6, 7, 9, 16}},
      {"Pad", {1, 2, 11, 13, 18, 19, 21}},
      {"Pow", {1, 7, 12, 13, 15}},
      {"QLinearConv", {10}},
      {"QLinearMatMul", {10, 21}},
      {"QuantizeLinear", {10, 13, 19, 21}},
      {"RNN", {1, 7, 14}},
      {"RandomNormal", {1}},
      {"RandomNormalLike", {1}},
      {"RandomUniform", {1}},
      {"RandomUniformLike", {1}},
      {"Range", {11}},
      {"Reciprocal", {1, 6, 13}},
      {"ReduceL1", {1, 11, 13, 18}},
      {"ReduceL2", {1, 11, 13, 18}},
      {"ReduceLogSum", {1, 11, 13, 18}},
      {"ReduceLogSumExp", {1, 11, 13, 18}},
      {"ReduceMax", {1, 11, 12, 13, 18, 20}},
      {"ReduceMean", {1, 11, 13, 18}},
      {"ReduceMin", {1, 11, 12, 13, 18, 20}},
      {"ReduceProd", {1, 11, 13, 18}},
      {"ReduceSum", {1, 11, 13}},
      {"ReduceSumSquare", {1, 11, 13, 18}},
      {"RegexFullMatch", {20}},
      {"Relu", {1, 6, 13, 14}},
      {"Reshape", {1, 5, 13, 14, 19, 21}},
      {"Resize", {10, 11, 13, 18, 19}},
      {"ReverseSequence", {10}},
      {"RoiAlign", {10, 16}},
      {"Round", {11}},
      {"STFT", {17}},
      {"Scan", {8, 9, 11, 16, 19, 21}},
      {"Scatter", {9, 11}},
      {"ScatterElements", {11, 13, 16, 18}},
      {"ScatterND", {11, 13, 16, 18}},
      {"Selu", {1, 6}},
      {"SequenceAt", {11}},
      {"SequenceConstruct", {11}},
      {"SequenceEmpty", {11}},
      {"SequenceErase", {11}},
      {"SequenceInsert", {11}},
      {"SequenceLength", {11}},
      {"SequenceMap", {17}},
      {"Shape", {1, 13, 15, 19, 21}},
      {"Shrink", {9}},
      {"Sigmoid", {1, 6, 13}},
      {"Sign", {9, 13}},
      {"Sin", {7}},
      {"Sinh", {9}},
      {"Size", {1, 13, 19, 21}},
      {"Slice", {1, 10, 11, 13}},
      {"Softmax", {1, 11, 13}},
      {"SoftmaxCrossEntropyLoss", {12, 13}},
      {"Softplus", {1}},
      {"Softsign", {1}},
      {"SpaceToDepth", {1, 13}},
      {"Split", {1, 2, 11, 13, 18}},
      {"SplitToSequence", {11}},
      {"Sqrt", {1, 6, 13}},
      {"Squeeze", {1, 11, 13, 21}},
      {"StringConcat", {20}},
      {"StringNormalizer", {10}},
      {"StringSplit", {20}},
      {"Sub", {1, 6, 7, 13, 14}},
      {"Sum", {1, 6, 8, 13}},
      {"Tan", {7}},
      {"Tanh", {1, 6, 13}},
      {"TfIdfVectorizer", {9}},
      {"ThresholdedRelu", {10}},
      {"Tile", {1, 6, 13}},
      {"TopK", {1, 10, 11}},
      {"Transpose", {1, 13, 21}},
      {"Trilu", {14}},
      {"Unique", {11}},
      {"Unsqueeze", {1, 11, 13, 21}},
      {"Upsample", {1, 7, 9, 10}},
      {"Where", {9, 16}},
      {"Xor", {1, 7}},
  };
  return *kHistories;
}

}  // namespace

std::span<const int> SchemaVersions(std::string_view op_type) {
  const auto& all = Histories();
  auto it =
      std::lower_bound(all.begin(), all.end(), op_type,
                       [](const OpHistory& h, std::string_view op) { return h.op_type < op; });
  if (it == all.end() || it->op_type != op_type) return {};
  return it->versions;
}

std::vector<std::string_view> KnownOperators() {
  std::vector<std::string_view> names;
  for (const OpHistory& h : Histories()) names.push_back(h.op_type);
  return names;
}

// ---------------------------------------------------------------- RewriteContext

RewriteContext::RewriteContext(Graph& graph, int64_t target_opset, bool in_function)
    : graph_(graph), target_opset_(target_opset), in_function_(in_function) {
  if (in_function_) return;
  for (Value* v : graph_.initializers()) {
    if (v->is_graph_input() || v->initializer() == nullptr) continue;
    // Adapters add small constants (axes, shapes, scalars): hashing big weights too would read
    // every page of a large model (a third of upgrade+quantize on 1 GiB) for no possible match.
    if (v->initializer()->bytes().size() > 4096) continue;
    constants_by_hash_[v->initializer()->ContentHash()].push_back(v);
  }
}

void RewriteContext::EraseIfUnused(Value* v) {
  if (!v->is_initializer() || IsValueUsed(v) || v->is_graph_input()) return;
  for (auto& [hash, values] : constants_by_hash_) std::erase(values, v);
  (void)v->graph()->EraseValue(v);
}

Value* RewriteContext::AddConstant(Tensor tensor, Node* user, std::string_view name_hint) {
  const uint64_t hash = tensor.ContentHash();
  for (Value* existing : constants_by_hash_[hash]) {
    TensorPtr data = GetConstantTensor(existing);
    if (data != nullptr && data->ContentEquals(tensor)) {
      ++constants_reused_;
      return existing;
    }
  }
  ++constants_created_;
  auto data = std::make_shared<const Tensor>(std::move(tensor));
  Value* made;
  if (in_function_) {
    Node* constant = graph_.CreateNode("Constant", {}, 1, user, "", {std::string(name_hint)});
    constant->SetAttribute(Attribute::TensorValue("value", data));
    made = constant->output(0);
    std::vector<Dim> dims;
    for (int64_t d : data->dims()) dims.push_back(Dim::Fixed(d));
    made->type = ValueType::Tensor(data->type(), std::move(dims));
  } else {
    made = graph_.AddInitializer(name_hint, data);
  }
  constants_by_hash_[hash].push_back(made);
  return made;
}

Value* RewriteContext::Int64s(const std::vector<int64_t>& values, Node* user,
                              std::string_view name_hint) {
  return AddConstant(
      Tensor::FromValues<int64_t>(DataType::kInt64, {static_cast<int64_t>(values.size())}, values),
      user, name_hint);
}

Value* RewriteContext::Int64Scalar(int64_t value, Node* user, std::string_view name_hint) {
  std::vector<int64_t> one = {value};
  return AddConstant(Tensor::FromValues<int64_t>(DataType::kInt64, {}, one), user, name_hint);
}

Value* RewriteContext::FloatScalar(DataType type, double value, Node* user,
                                   std::string_view name_hint) {
  switch (type) {
    case DataType::kDouble: {
      std::vector<double> v = {value};
      return AddConstant(Tensor::FromValues<double>(type, {}, v), user, name_hint);
    }
    case DataType::kFloat16: {
      std::vector<uint16_t> v = {quant::FloatToHalf(static_cast<float>(value))};
      return AddConstant(Tensor::FromValues<uint16_t>(type, {}, v), user, name_hint);
    }
    case DataType::kBFloat16: {
      std::vector<uint16_t> v = {quant::FloatToBFloat16(static_cast<float>(value))};
      return AddConstant(Tensor::FromValues<uint16_t>(type, {}, v), user, name_hint);
    }
    default: {
      std::vector<float> v = {static_cast<float>(value)};
      return AddConstant(Tensor::FromValues<float>(DataType::kFloat, {}, v), user, name_hint);
    }
  }
}

// ---------------------------------------------------------------- RuleTable

RuleTable::RuleTable() {
  AppendCompatibleRules(rules_);
  AppendReductionRules(rules_);
  AppendSqueezeSplitRules(rules_);
  AppendSoftmaxRules(rules_);
  AppendResizeRules(rules_);
  AppendPadClipSliceRules(rules_);
  AppendNormalizationRules(rules_);
  AppendMiscRules(rules_);
  AppendLegacyRules(rules_);
  AppendScanRules(rules_);
  for (size_t i = 0; i < rules_.size(); ++i) {
    index_[absl::StrCat(ToAbsl(rules_[i].op_type), "@", rules_[i].version)] = i;
  }
}

const StepRule* RuleTable::Find(std::string_view op_type, int version) const {
  auto it = index_.find(absl::StrCat(ToAbsl(op_type), "@", version));
  return it == index_.end() ? nullptr : &rules_[it->second];
}

// ---------------------------------------------------------------- helpers

absl::Status Refuse(const Node& node, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(node.DebugName(), ": ", ToAbsl(why)));
}

void IntsAttributeToInput(Node& node, std::string_view attr, size_t index, RewriteContext& ctx) {
  std::optional<std::vector<int64_t>> values = node.GetInts(attr);
  node.RemoveAttribute(attr);
  if (!values.has_value()) return;
  std::string hint = absl::StrCat(ToAbsl(node.op_type), "_", ToAbsl(attr));
  node.SetInput(index, ctx.Int64s(*values, &node, hint));
}

bool UsesOutputsBeyond(const Node& node, size_t keep) {
  for (size_t i = keep; i < node.outputs().size(); ++i) {
    if (node.output(i) != nullptr && IsValueUsed(node.output(i))) return true;
  }
  return false;
}

absl::Status TakeOverValue(Value* old_value, Value* replacement, Node* producer) {
  old_value->ReplaceAllUsesWith(replacement);
  std::string name = old_value->name();
  ValueType type = old_value->type;
  std::string doc = old_value->doc_string;
  bool in_value_info = old_value->in_value_info;
  if (producer != nullptr) {
    if (absl::Status s = producer->graph()->EraseNode(producer); !s.ok()) return s;
  }
  if (replacement->graph()->FindLocalValue(name) == nullptr) replacement->set_name(name);
  replacement->type = std::move(type);
  replacement->doc_string = std::move(doc);
  replacement->in_value_info = in_value_info;
  return absl::OkStatus();
}

Node* RebuildWithOutputs(Node& node, size_t keep) {
  Graph& graph = *node.graph();
  Node* fresh = graph.CreateNode(node.op_type, node.inputs(), 0, &node, node.domain);
  fresh->name = node.name;
  fresh->doc_string = node.doc_string;
  for (Attribute& attr : node.mutable_attributes()) fresh->SetAttribute(std::move(attr));
  node.mutable_attributes().clear();
  std::vector<std::pair<Value*, Value*>> moved;
  for (size_t i = 0; i < keep && i < node.outputs().size(); ++i) {
    Value* old_out = node.output(i);
    if (old_out == nullptr) {
      graph.AppendAbsentOutput(fresh);
    } else {
      moved.emplace_back(old_out, graph.AddNodeOutput(fresh, old_out->name()));
    }
  }
  std::vector<std::tuple<std::string, ValueType, bool>> olds;
  for (auto& [old_out, new_out] : moved) {
    old_out->ReplaceAllUsesWith(new_out);
    olds.emplace_back(old_out->name(), old_out->type, old_out->in_value_info);
  }
  node.DropAllInputs();
  // The dropped outputs are unused (checked before), so erasing cannot fail.
  (void)graph.EraseNode(&node);
  for (size_t i = 0; i < moved.size(); ++i) {
    Value* v = moved[i].second;
    if (graph.FindLocalValue(std::get<0>(olds[i])) == nullptr) v->set_name(std::get<0>(olds[i]));
    v->type = std::get<1>(olds[i]);
    v->in_value_info = std::get<2>(olds[i]);
  }
  return fresh;
}

std::optional<DataType> InferElemType(const Value* value) {
  static constexpr std::string_view kSameTypeAsFirstInput[] = {"Abs",
                                                               "Add",
                                                               "AveragePool",
                                                               "BatchNormalization",
                                                               "Ceil",
                                                               "Clip",
                                                               "Concat",
                                                               "Conv",
                                                               "ConvTranspose",
                                                               "DepthToSpace",
                                                               "Div",
                                                               "Dropout",
                                                               "Elu",
                                                               "Erf",
                                                               "Exp",
                                                               "Expand",
                                                               "Flatten",
                                                               "Floor",
                                                               "Gather",
                                                               "Gemm",
                                                               "GlobalAveragePool",
                                                               "GlobalMaxPool",
                                                               "HardSigmoid",
                                                               "HardSwish",
                                                               "Identity",
                                                               "InstanceNormalization",
                                                               "LayerNormalization",
                                                               "LeakyRelu",
                                                               "Log",
                                                               "LogSoftmax",
                                                               "LRN",
                                                               "MatMul",
                                                               "Max",
                                                               "MaxPool",
                                                               "Mean",
                                                               "Min",
                                                               "Mul",
                                                               "Neg",
                                                               "Pad",
                                                               "Pow",
                                                               "PRelu",
                                                               "Reciprocal",
                                                               "ReduceMax",
                                                               "ReduceMean",
                                                               "ReduceMin",
                                                               "ReduceSum",
                                                               "Relu",
                                                               "Reshape",
                                                               "Resize",
                                                               "Selu",
                                                               "Sigmoid",
                                                               "Sin",
                                                               "Cos",
                                                               "Slice",
                                                               "Softmax",
                                                               "Softplus",
                                                               "SpaceToDepth",
                                                               "Split",
                                                               "Sqrt",
                                                               "Squeeze",
                                                               "Sub",
                                                               "Sum",
                                                               "Tanh",
                                                               "Tile",
                                                               "Transpose",
                                                               "Unsqueeze",
                                                               "Upsample"};
  for (int depth = 0; value != nullptr && depth < 10000; ++depth) {
    if (value->type.is_tensor() && value->type.elem_type != DataType::kUndefined) {
      return value->type.elem_type;
    }
    if (value->initializer() != nullptr) return value->initializer()->type();
    const Node* producer = value->producer();
    if (producer == nullptr || !producer->domain.empty() ||
        std::find(std::begin(kSameTypeAsFirstInput), std::end(kSameTypeAsFirstInput),
                  producer->op_type) == std::end(kSameTypeAsFirstInput)) {
      return std::nullopt;
    }
    value = producer->input(0);
  }
  return std::nullopt;
}

}  // namespace onnx_opt::opset
