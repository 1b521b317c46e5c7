#include "passes/integer/qoperator.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/simplify/simplify_utils.h"

namespace onnx_opt::integer {
namespace {

bool IsCodeType(DataType t) {
  return t == DataType::kUint8 || t == DataType::kInt8 || t == DataType::kUint4 ||
         t == DataType::kInt4 || t == DataType::kInt32;
}

// A rank-0 initializer of an 8-bit or float type holding `v`.
Value* ScalarInitializer(Graph& graph, std::string_view hint, DataType type, double v) {
  std::vector<uint8_t> bytes;
  if (type == DataType::kFloat) {
    const float f = static_cast<float>(v);
    bytes.resize(4);
    std::memcpy(bytes.data(), &f, 4);
  } else {
    bytes.push_back(type == DataType::kInt8 ? static_cast<uint8_t>(static_cast<int8_t>(v))
                                            : static_cast<uint8_t>(v));
  }
  return graph.AddInitializer(
      hint, std::make_shared<Tensor>(type, std::vector<int64_t>{},
                                     Buffer::FromVector(std::move(bytes))));
}

std::string Hint(const QuantParams& p, std::string_view suffix) {
  const std::string base = p.node->name.empty() ? p.node->output(0)->name() : p.node->name;
  return absl::StrCat(base, std::string(suffix));
}

}  // namespace

std::array<int64_t, static_cast<size_t>(Refusal::kCount)> FusionLog::RefusalCounts() const {
  std::array<int64_t, static_cast<size_t>(Refusal::kCount)> counts{};
  for (const auto& [node, why] : refused_) ++counts[static_cast<size_t>(why)];
  return counts;
}

Node* DequantizeProducer(const Value* value) {
  if (value == nullptr) return nullptr;
  Node* p = value->producer();
  if (p == nullptr || !p->Is("DequantizeLinear") || p->graph() != value->graph()) return nullptr;
  return p;
}

Node* SoleQuantizeUser(const Value* value) {
  Node* user = simplify::SoleUser(value);
  if (user == nullptr || !user->Is("QuantizeLinear") || user->input(0) != value) return nullptr;
  return user;
}

std::optional<OutputQuantize> FindOutputQuantize(const Node& op) {
  if (op.outputs().size() != 1) return std::nullopt;
  if (Node* q = SoleQuantizeUser(op.output(0))) return OutputQuantize{q, nullptr};
  Node* relu = simplify::SoleUser(op.output(0));
  if (relu == nullptr || !relu->Is("Relu") || relu->graph() != op.graph()) return std::nullopt;
  Node* q = SoleQuantizeUser(relu->output(0));
  if (q == nullptr) return std::nullopt;
  const TensorPtr zp = q->input(2) ? GetConstantTensor(q->input(2)) : nullptr;
  if (q->input(2) != nullptr && zp == nullptr) return std::nullopt;
  const DataType type = zp ? zp->type() : DataType::kUint8;
  if (zp == nullptr && q->GetInt("output_dtype").value_or(2) != 2) return std::nullopt;
  absl::StatusOr<std::vector<int64_t>> z =
      zp ? zp->ToInt64s() : absl::StatusOr<std::vector<int64_t>>(std::vector<int64_t>{0});
  const int64_t minimum = type == DataType::kUint8 ? 0 : type == DataType::kInt8 ? -128 : 1;
  if (!z.ok() || z->size() != 1 || (*z)[0] != minimum) return std::nullopt;
  return OutputQuantize{q, relu};
}

std::optional<QuantParams> ReadQuantParams(Node& node, Refusal* why) {
  QuantParams p;
  p.node = &node;
  p.scale = node.input(1);
  p.zero_point = node.input(2);
  const TensorPtr scale = GetConstantTensor(p.scale);
  const TensorPtr zp = p.zero_point ? GetConstantTensor(p.zero_point) : nullptr;
  if (scale == nullptr || (p.zero_point != nullptr && zp == nullptr)) {
    *why = Refusal::kNotConstant;
    return std::nullopt;
  }
  p.scale_type = scale->type();
  if (p.scale_type != DataType::kFloat) {
    *why = Refusal::kParams;  // the QLinear ops take float32 scales only
    return std::nullopt;
  }
  if (zp != nullptr) {
    p.qtype = zp->type();
  } else if (node.Is("DequantizeLinear")) {
    const TensorPtr codes = GetConstantTensor(node.input(0));
    p.qtype = codes ? codes->type() : node.input(0)->type.elem_type;
  } else {
    p.qtype = static_cast<DataType>(node.GetInt("output_dtype").value_or(2));
    if (p.qtype == DataType::kUndefined) p.qtype = DataType::kUint8;
  }
  if (!IsCodeType(p.qtype)) {
    *why = Refusal::kTypes;
    return std::nullopt;
  }
  absl::StatusOr<std::vector<float>> scales = scale->ToFloats();
  if (!scales.ok() || scales->empty()) {
    *why = Refusal::kParams;
    return std::nullopt;
  }
  p.scales = *std::move(scales);
  p.scale_dims = scale->dims();
  if (zp != nullptr) {
    absl::StatusOr<std::vector<int64_t>> zps = zp->ToInt64s();
    if (!zps.ok() || zps->size() != p.scales.size()) {
      *why = Refusal::kParams;
      return std::nullopt;
    }
    p.zero_points = *std::move(zps);
  } else {
    p.zero_points.assign(p.scales.size(), 0);
  }
  p.axis = node.GetInt("axis").value_or(1);
  p.block_size = node.GetInt("block_size").value_or(0);
  for (float s : p.scales) {
    if (!(s > 0.0f) || !std::isfinite(s)) {
      *why = Refusal::kParams;
      return std::nullopt;
    }
  }
  return p;
}

Value* ScalarScale(Graph& graph, const QuantParams& p) {
  if (p.scale_dims.empty()) return p.scale;
  return ScalarInitializer(graph, Hint(p, "_scale"), DataType::kFloat, p.scales[0]);
}

Value* ScalarZeroPoint(Graph& graph, const QuantParams& p) {
  if (p.zero_point != nullptr && p.scale_dims.empty()) return p.zero_point;
  return ScalarInitializer(graph, Hint(p, "_zero_point"), p.qtype,
                           static_cast<double>(p.zero_points[0]));
}

Value* ZeroPointOrZeros(Graph& graph, const QuantParams& p) {
  if (p.zero_point != nullptr) return p.zero_point;
  if (p.scale_dims.empty()) return ScalarZeroPoint(graph, p);
  std::vector<uint8_t> zeros(p.scales.size(), 0);
  return graph.AddInitializer(
      Hint(p, "_zero_point"),
      std::make_shared<Tensor>(p.qtype, p.scale_dims, Buffer::FromVector(std::move(zeros))));
}

Value* WeightScale(Graph& graph, const QuantParams& p) {
  return p.per_tensor() ? ScalarScale(graph, p) : p.scale;
}

Value* WeightZeroPoint(Graph& graph, const QuantParams& p) {
  return p.per_tensor() ? ScalarZeroPoint(graph, p) : ZeroPointOrZeros(graph, p);
}

absl::Status ReplaceQuantizedOutput(Rewriter& rewriter, const OutputQuantize& out, Node* float_op,
                                    Value* fused_out) {
  Value* q_out = out.q->output(0);
  std::string name = q_out->name();
  ValueType type = q_out->type;  // as much as was known of it: no invented shape
  const bool listed = q_out->in_value_info;
  rewriter.ReplaceAllUsesWith(q_out, fused_out);
  for (Node* node : {out.q, out.relu, float_op}) {
    if (node == nullptr) continue;
    if (absl::Status s = rewriter.EraseNode(node); !s.ok()) return s;
  }
  fused_out->set_name(std::move(name));
  fused_out->type = std::move(type);
  fused_out->in_value_info = listed;
  return absl::OkStatus();
}

}  // namespace onnx_opt::integer
