#include "passes/integer/layer_decisions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "passes/core/utils.h"
#include "passes/integer/layer_decisions_regions.h"

namespace onnx_opt {
namespace {

double Product(const std::vector<int64_t>& dims) {
  double p = 1;
  for (int64_t d : dims) p *= static_cast<double>(d);
  return p;
}

std::string ConvKind(const Node& node, const std::vector<int64_t>& in,
                     const std::vector<int64_t>& w) {
  const int64_t group = node.GetInt("group").value_or(1);
  if (group > 1 && group == in[1]) return "conv-depthwise";
  if (group > 1) return "conv-grouped";
  bool pointwise = true;
  for (size_t d = 2; d < w.size(); ++d) pointwise = pointwise && w[d] == 1;
  return pointwise ? "conv-pointwise" : "conv";
}

// ORT fuses an activation into the float Conv before it (FusedConv, NCHWc), where the integer
// Conv leaves it a pass of its own between a DequantizeLinear and a QuantizeLinear (HardSwish
// even as HardSigmoid + Mul): the activation's fp32 time, charged to the integer side. Relu
// folds into the QuantizeLinear (QuantizedOutput), so it costs nothing either way.
std::optional<std::pair<std::string, double>> UnfusedActivationUs(const Node& node,
                                                                  const LatencyTable& table,
                                                                  const ShapeOf& shape_of) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kFused = {
      {"HardSwish", "hard-swish"},
      {"HardSigmoid", "hard-sigmoid"},
      {"Sigmoid", "sigmoid"},
      {"LeakyRelu", "leaky-relu"}};
  const Value* out = node.output(0);
  if (!node.Is("Conv") || out == nullptr || out->is_graph_output() || out->uses().size() != 1) {
    return std::nullopt;
  }
  const Node& user = *out->uses()[0].node;
  std::optional<std::vector<int64_t>> dims = shape_of(out);
  if (!dims) return std::nullopt;
  for (const auto& [op, kind] : kFused) {
    if (!user.Is(op)) continue;
    std::optional<std::pair<double, double>> times = table.Times(kind, Product(*dims));
    if (!times) return std::nullopt;
    return std::make_pair(std::string(op), times->first);
  }
  return std::nullopt;
}

// An unweighted node (Add, pooling...) whose neighbours all stay float would only add a
// QuantizeLinear/DequantizeLinear pair around itself: it stays float too, to a fixpoint.
void DropIsolated(QuantizationPlan& plan) {
  for (bool changed = true; changed;) {
    changed = false;
    absl::flat_hash_set<const Node*> quantized;
    for (const QuantizedNode& q : plan.quantized) quantized.insert(q.node);
    std::vector<QuantizedNode> kept;
    for (QuantizedNode& q : plan.quantized) {
      bool linked = q.weight_input >= 0;
      for (int i : q.activation_inputs) {
        linked = linked || quantized.contains(q.node->input(i)->producer());
      }
      for (const Use& use : QuantizedOutput(*q.node)->uses()) {
        linked = linked || quantized.contains(use.node);
      }
      if (linked) {
        kept.push_back(std::move(q));
        continue;
      }
      plan.kept_float.push_back(
          {q.node, "its neighbours stay float (a Q/DQ pair around it alone costs time)", q.detail});
      changed = true;
    }
    plan.quantized = std::move(kept);
  }
}

double Db(double noise) { return noise > 0 ? -10 * std::log10(noise) : 999.0; }

// The measured output noise of each layer alone, summed over the layers kept integer, estimates
// the model's to first order (bench/results/ocr-det-layer-noise.json: 12.5-19.6 dB summed where
// 12.9-20.3 dB were measured): layers go float until the sum fits the budget, the noisiest
// first, or (budget_by_saving, with a table) those with the most noise per microsecond int8
// saves by the latency table's figures.
void SpendNoiseBudget(QuantizationPlan& plan, const DecisionOptions& options,
                      const absl::flat_hash_map<const Node*, double>& saving_us) {
  const double budget = std::pow(10.0, -options.min_output_sqnr_db / 10);
  std::vector<double> noise, cost;  // cost: noise per microsecond saved, or the noise
  double total = 0;
  for (QuantizedNode& q : plan.quantized) {
    auto it = options.layer_noise->find(SelectionName(*q.node));
    noise.push_back(it == options.layer_noise->end() ? 0.0 : it->second);
    auto saving = saving_us.find(q.node);
    cost.push_back(options.budget_by_saving && saving != saving_us.end() && saving->second > 0
                       ? noise.back() / saving->second
                       : noise.back());
    total += noise.back();
    absl::StrAppend(&q.detail, q.detail.empty() ? "" : "; ",
                    it == options.layer_noise->end()
                        ? std::string("no measured output noise in the .calib file")
                        : absl::StrFormat("measured output noise %.3g (%.1f dB) alone",
                                          noise.back(), Db(noise.back())));
  }
  std::vector<size_t> order(noise.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<std::string> why(noise.size());
  for (size_t i : order) {
    if (total <= budget) break;
    if (noise[i] <= 0) continue;
    auto saving = saving_us.find(plan.quantized[i].node);
    why[i] = absl::StrFormat(
        "measured output noise %.3g alone%s; the integer layers' sum %.3g (%.1f dB) is over "
        "min-output-sqnr %.1f dB",
        noise[i],
        saving == saving_us.end() ? "" : absl::StrFormat(" for %.1f us saved", saving->second),
        total, Db(total), options.min_output_sqnr_db);
    total -= noise[i];
  }
  std::vector<QuantizedNode> kept;
  for (size_t i = 0; i < plan.quantized.size(); ++i) {
    QuantizedNode& q = plan.quantized[i];
    if (why[i].empty()) {
      kept.push_back(std::move(q));
    } else {
      plan.kept_float.push_back({q.node, std::move(why[i]), q.detail});
    }
  }
  plan.quantized = std::move(kept);
}

}  // namespace

std::optional<LayerShape> DescribeLayer(const Node& node, const ShapeOf& shape_of) {
  std::optional<std::vector<int64_t>> out = shape_of(node.output(0));
  std::optional<std::vector<int64_t>> in = shape_of(node.input(0));
  if (!out || !in) return std::nullopt;
  if (node.Is("Conv")) {
    std::optional<std::vector<int64_t>> w = shape_of(node.input(1));
    if (!w || w->size() < 3 || in->size() < 2) return std::nullopt;
    // Cout * spatial out (batch included) * Cin/g * kernel.
    return LayerShape{ConvKind(node, *in, *w), Product(*out) * Product(*w) / (*w)[0]};
  }
  if (node.Is("MatMul") || node.Is("Gemm")) {
    if (in->empty()) return std::nullopt;
    const int64_t k =
        node.Is("Gemm") && node.GetInt("transA").value_or(0) ? in->front() : in->back();
    std::string kind = node.Is("Gemm") ? "gemm" : "matmul";
    if (node.Is("MatMul") && GetConstantTensor(node.input(1)) == nullptr) {
      kind = "matmul-activations";
    }
    return LayerShape{kind, Product(*out) * static_cast<double>(k)};
  }
  static const std::vector<std::pair<std::string_view, std::string_view>> kElementwise = {
      {"Add", "add"},
      {"Mul", "mul"},
      {"Concat", "concat"},
      {"Sigmoid", "sigmoid"},
      {"LeakyRelu", "leaky-relu"},
      {"Resize", "resize"},
      {"Transpose", "transpose"},
      {"MaxPool", "max-pool"},
      {"AveragePool", "average-pool"}};
  if (node.Is("GlobalAveragePool")) return LayerShape{"global-average-pool", Product(*in)};
  for (const auto& [op, kind] : kElementwise) {
    if (node.Is(op)) return LayerShape{std::string(kind), Product(*out)};
  }
  return std::nullopt;
}

absl::StatusOr<DecisionOptions> MakeDecisionOptions(bool prefer_accuracy,
                                                    std::optional<double> min_sqnr,
                                                    const std::string& table,
                                                    std::unique_ptr<LatencyTable>* storage) {
  DecisionOptions d;
  d.max_ratio = prefer_accuracy ? 0.8 : 1.0;
  d.min_sqnr_db = min_sqnr.value_or(prefer_accuracy ? 30.0 : 0.0);
  if (table == "none") return d;
  if (table.empty()) {
    absl::StatusOr<const LatencyTable*> builtin = LatencyTable::Builtin();
    if (!builtin.ok()) return builtin.status();
    d.table = *builtin;
    return d;
  }
  absl::StatusOr<LatencyTable> loaded = LatencyTable::Load(table);
  if (!loaded.ok()) return loaded.status();
  *storage = std::make_unique<LatencyTable>(*std::move(loaded));
  d.table = storage->get();
  return d;
}

void DecideLayers(QuantizationPlan& plan, const TensorStatsMap& stats, const RangeOptions& ranges,
                  const DecisionOptions& options) {
  ShapeOf shape_of = [&](const Value* v) -> std::optional<std::vector<int64_t>> {
    if (v == nullptr) return std::nullopt;
    if (TensorPtr t = GetConstantTensor(v)) return t->dims();
    if (v->type.is_tensor()) {
      if (std::optional<std::vector<int64_t>> dims = v->type.static_dims()) return dims;
    }
    auto it = stats.find(v->name());
    if (it == stats.end() || it->second->shape.empty()) return std::nullopt;
    return it->second->shape;
  };
  std::vector<QuantizedNode> kept;
  absl::flat_hash_map<const Node*, double> saving_us;  // fp32 + Q/DQ - int8, from the table
  absl::flat_hash_map<const Node*, NodeTimes> node_times;
  for (QuantizedNode& q : plan.quantized) {
    std::string why_float;
    std::optional<LayerShape> shape = DescribeLayer(*q.node, shape_of);
    if (options.table != nullptr) {
      std::optional<std::pair<double, double>> times =
          shape ? options.table->Times(shape->kind, shape->macs) : std::nullopt;
      if (!shape) {
        why_float = "no shape to look its latency up (neither static nor in the .calib file)";
      } else if (!times) {
        why_float = absl::StrCat("the latency table has no kind '", shape->kind, "'");
      } else {
        // Kept float, the node costs its fp32 time plus a DequantizeLinear of each input and a
        // QuantizeLinear of its output, where its neighbours are integer.
        double boundary = 0;
        auto elements = [&](const Value* v) {
          std::optional<std::vector<int64_t>> dims = shape_of(v);
          return dims ? Product(*dims) : 0.0;
        };
        for (int i : q.activation_inputs) {
          boundary += options.table->DequantizeUs(elements(q.node->input(i)));
        }
        boundary += options.table->QuantizeUs(elements(QuantizedOutput(*q.node)));
        const double fp32 = times->first;
        double int8 = times->second;
        std::string unfused;
        if (auto act = UnfusedActivationUs(*q.node, *options.table, shape_of)) {
          int8 += act->second;
          unfused =
              absl::StrFormat(" (%.1f of them the %s fp32 fuses into it)", act->second, act->first);
        }
        saving_us[q.node] = fp32 + boundary - int8;
        node_times[q.node] = {fp32, int8};
        q.detail = absl::StrFormat("%s, %.0f MACs: int8 %.1f us%s, fp32 %.1f + Q/DQ %.1f us",
                                   shape->kind, shape->macs, int8, unfused, fp32, boundary);
        if (int8 >= options.max_ratio * (fp32 + boundary)) {
          why_float = absl::StrFormat("int8 not faster (%s; int8 must be below %.2fx)", q.detail,
                                      options.max_ratio);
        }
      }
    } else if (shape) {
      q.detail = absl::StrFormat("%s, %.0f MACs", shape->kind, shape->macs);
    }
    // The lowest predicted SQNR of the tensors the node would quantize.
    double sqnr = std::numeric_limits<double>::infinity();
    std::vector<const Value*> values = {QuantizedOutput(*q.node)};
    for (int i : q.activation_inputs) values.push_back(q.node->input(i));
    for (const Value* v : values) {
      auto it = stats.find(v->name());
      if (it == stats.end() || it->second->count == 0) continue;  // PlanTensors reports it
      const CalibTensorStats& s = *it->second;
      QuantParams p = ActivationParams(
          ChooseRange(s, ranges.method, ranges.percentile, ranges.is_signed), ranges.is_signed);
      sqnr = std::min(sqnr, HistogramSqnrDb(s, p));
    }
    if (std::isfinite(sqnr)) {
      absl::StrAppend(&q.detail, q.detail.empty() ? "" : "; ",
                      absl::StrFormat("predicted SQNR %.1f dB", sqnr));
    }
    if (why_float.empty() && options.min_sqnr_db > 0 && sqnr < options.min_sqnr_db) {
      why_float =
          absl::StrFormat("predicted SQNR %.1f dB < min-sqnr %.1f", sqnr, options.min_sqnr_db);
    }
    if (why_float.empty()) {
      kept.push_back(std::move(q));
    } else {
      plan.kept_float.push_back({q.node, std::move(why_float), q.detail});
    }
  }
  plan.quantized = std::move(kept);
  if (options.table != nullptr) DropIsolated(plan);
  if (options.layer_noise != nullptr && options.min_output_sqnr_db > 0) {
    SpendNoiseBudget(plan, options, saving_us);
    if (options.table != nullptr) DropIsolated(plan);
  }
  if (options.table != nullptr) DropUnprofitable(plan, node_times, *options.table, shape_of);
}

}  // namespace onnx_opt
