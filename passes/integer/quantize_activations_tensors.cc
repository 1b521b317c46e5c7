#include "passes/integer/quantize_activations_tensors.h"

#include <cmath>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/strings.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

struct AffineChain {
  Value* input = nullptr;
  double scale = 1, shift = 0;  // value = scale * input + shift
  std::vector<Node*> nodes;     // from value's producer back
};

// A float scalar constant that broadcasts to no more dims than `data` has.
std::optional<double> BroadcastScalar(const Value* constant, const Value* data) {
  TensorPtr t = GetConstantTensor(constant);
  if (t == nullptr || t->type() != DataType::kFloat || t->num_elements() != 1) return std::nullopt;
  if (t->rank() > 0 && (!data->type.is_tensor() || !data->type.shape ||
                        t->rank() > static_cast<int64_t>(data->type.shape->size()))) {
    return std::nullopt;
  }
  double c = t->CopyValues<float>()[0];
  return std::isfinite(c) ? std::optional<double>(c) : std::nullopt;
}

// Walks back from `value` through Mul/Div by positive scalars and Add/Sub of scalars whose
// intermediate results have no other reader.
std::optional<AffineChain> FindAffineChain(Value* value) {
  AffineChain chain;
  Value* v = value;
  while (Node* p = v->producer()) {
    if (v != value && (v->uses().size() != 1 || v->is_graph_output())) break;
    if (!(p->Is("Mul") || p->Is("Div") || p->Is("Add") || p->Is("Sub")) ||
        p->inputs().size() != 2) {
      break;
    }
    int data = -1;
    std::optional<double> c;
    for (int d = 0; d < 2 && data < 0; ++d) {
      if (GetConstantTensor(p->input(d)) != nullptr) continue;
      if ((c = BroadcastScalar(p->input(1 - d), p->input(d)))) data = d;
    }
    if (data < 0) break;
    // v = f(x): fold f into value = scale * v + shift.
    if (p->Is("Mul") && *c > 0) {
      chain.scale *= *c;
    } else if (p->Is("Div") && data == 0 && *c > 0) {
      chain.scale /= *c;
    } else if (p->Is("Add") || (p->Is("Sub") && data == 0)) {
      chain.shift += chain.scale * (p->Is("Add") ? *c : -*c);
    } else {
      break;
    }
    chain.nodes.push_back(p);
    v = p->input(data);
  }
  if (chain.nodes.empty()) return std::nullopt;
  chain.input = v;
  return chain;
}

bool HasRange(const TensorStatsMap& stats, const Value* v) {
  auto it = stats.find(v->name());
  return it != stats.end() && it->second->count > 0;
}

absl::Status NoRange(const Value* v, const Node* node, std::string_view role,
                     const std::string& calibration) {
  return absl::NotFoundError(
      absl::StrCat("calibration file ", calibration, " has no range for tensor '", v->name(), "' (",
                   ToAbsl(role), " of ", node->DebugName(),
                   "); measure the file on the graph this pass quantizes (onnx-opt-calibrate)"));
}

}  // namespace

absl::Status CheckRanges(const QuantizationPlan& plan, const TensorStatsMap& stats,
                         const std::string& calibration) {
  for (const QuantizedNode& q : plan.quantized) {
    for (int i : q.activation_inputs) {
      if (!HasRange(stats, q.node->input(i))) {
        return NoRange(q.node->input(i), q.node, "input", calibration);
      }
    }
    if (!HasRange(stats, QuantizedOutput(*q.node))) {
      return NoRange(QuantizedOutput(*q.node), q.node, "output", calibration);
    }
  }
  return absl::OkStatus();
}

void DropUntypedWithoutRange(QuantizationPlan& plan, const TensorStatsMap& stats) {
  std::erase_if(plan.quantized, [&](const QuantizedNode& q) {
    std::vector<Value*> values = {QuantizedOutput(*q.node)};
    for (int i : q.activation_inputs) values.push_back(q.node->input(i));
    for (Value* v : values) {
      if (v->type.is_tensor() && v->type.elem_type != DataType::kUndefined) continue;
      if (HasRange(stats, v)) continue;
      plan.kept_float.push_back(
          {q.node, absl::StrCat("tensor '", v->name(), "' has no type and no range")});
      return true;
    }
    return false;
  });
}

absl::StatusOr<TensorPlan> PlanTensors(const QuantizationPlan& plan, const TensorStatsMap& stats,
                                       const RangeOptions& options,
                                       std::vector<TensorDecision>* report) {
  TensorPlan out;
  auto add = [&](Value* v, const Node* node, std::string_view role) -> absl::Status {
    if (out.params.contains(v)) return absl::OkStatus();
    if (!HasRange(stats, v)) return NoRange(v, node, role, options.calibration);
    const CalibTensorStats& s = *stats.at(v->name());
    FloatRange range = ChooseRange(s, options.method, options.percentile, options.is_signed);
    QuantParams p = ActivationParams(range, options.is_signed);
    out.params[v] = p;
    out.tensors.push_back({v, p, v, p, {}});
    report->push_back({v->name(), s.min, s.max, range, p, HistogramSqnrDb(s, p), ""});
    return absl::OkStatus();
  };
  for (const QuantizedNode& q : plan.quantized) {
    for (int i : q.activation_inputs) {
      if (absl::Status s = add(q.node->input(i), q.node, "input"); !s.ok()) return s;
    }
    if (absl::Status s = add(QuantizedOutput(*q.node), q.node, "output"); !s.ok()) return s;
  }
  // Fold scalar chains. A chain input that is planned itself (a Conv output read only by the
  // chain) gives up its own pair: the folded QuantizeLinear is its output quantization.
  absl::flat_hash_set<const Value*> dropped;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    PlannedTensor& t = out.tensors[i];
    if (dropped.contains(t.value)) continue;
    std::optional<AffineChain> chain = FindAffineChain(t.value);
    if (!chain || !(chain->scale > 0)) continue;
    const bool input_planned = out.params.contains(chain->input);
    if (input_planned && chain->input->uses().size() != 1) continue;
    const int lo = options.is_signed ? -128 : 0, hi = options.is_signed ? 127 : 255;
    QuantParams qp = t.params;
    qp.scale = static_cast<float>(t.params.scale / chain->scale);
    const double zero = t.params.zero_point + std::nearbyint(chain->shift / t.params.scale);
    if (zero < lo || zero > hi) continue;
    qp.zero_point = static_cast<int32_t>(zero);
    t.quantize_input = chain->input;
    t.quantize_params = qp;
    t.folded = chain->nodes;
    std::vector<std::string> ops;
    for (const Node* n : chain->nodes) ops.push_back(n->op_type);
    (*report)[i].folded_ops = absl::StrJoin(ops.rbegin(), ops.rend(), ",");
    if (input_planned) dropped.insert(chain->input);
  }
  std::vector<TensorDecision> kept_rows;
  std::vector<PlannedTensor> kept;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    if (dropped.contains(out.tensors[i].value)) continue;
    kept.push_back(out.tensors[i]);
    kept_rows.push_back((*report)[i]);
  }
  out.tensors = std::move(kept);
  *report = std::move(kept_rows);
  return out;
}

}  // namespace onnx_opt
