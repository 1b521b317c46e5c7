#include "passes/integer/layer_decisions_regions.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

double Elements(const ShapeOf& shape_of, const Value* v) {
  std::optional<std::vector<int64_t>> dims = shape_of(v);
  if (!dims) return 0;
  double n = 1;
  for (int64_t d : *dims) n *= static_cast<double>(d);
  return n;
}

// Predicted times of one side of a decision: the nodes' own and their boundaries'.
struct Side {
  double nodes_us = 0;
  double boundaries_us = 0;
  double total() const { return nodes_us + boundaries_us; }
};

class PlanCost {
 public:
  PlanCost(const QuantizationPlan& plan, const absl::flat_hash_map<const Node*, NodeTimes>& times,
           const LatencyTable& table, const ShapeOf& shape_of)
      : plan_(plan), table_(table), shape_of_(shape_of), integer_(plan.quantized.size(), true) {
    for (size_t i = 0; i < plan.quantized.size(); ++i) {
      const QuantizedNode& q = plan.quantized[i];
      index_[q.node] = i;
      owner_[QuantizedOutput(*q.node)] = i;
      times_.push_back(times.at(q.node));
    }
  }

  size_t size() const { return integer_.size(); }
  bool integer(size_t i) const { return integer_[i]; }
  void SetFloat(size_t i) { integer_[i] = false; }

  // The times of `nodes` and of the tensors around them, as they are now and with `nodes` float.
  std::pair<Side, Side> Compare(const std::vector<size_t>& nodes) {
    std::vector<const Value*> values = ValuesAround(nodes);
    std::pair<Side, Side> sides;
    for (int pass = 0; pass < 2; ++pass) {
      Side& side = pass == 0 ? sides.first : sides.second;
      for (size_t i : nodes) side.nodes_us += integer_[i] ? times_[i].int8_us : times_[i].fp32_us;
      for (const Value* v : values) side.boundaries_us += BoundaryUs(v);
      for (size_t i : nodes) integer_[i] = !integer_[i];
    }
    return sides;  // the second loop flipped the nodes back
  }

  // The connected regions of integer nodes (an integer output read by an integer node links).
  std::vector<std::vector<size_t>> Regions() const {
    std::vector<size_t> parent(size());
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](size_t i) {
      while (parent[i] != i) i = parent[i] = parent[parent[i]];
      return i;
    };
    for (size_t i = 0; i < size(); ++i) {
      if (!integer_[i]) continue;
      for (int input : plan_.quantized[i].activation_inputs) {
        auto producer = owner_.find(plan_.quantized[i].node->input(input));
        if (producer != owner_.end() && integer_[producer->second]) {
          parent[find(i)] = find(producer->second);
        }
      }
    }
    absl::flat_hash_map<size_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < size(); ++i) {
      if (integer_[i]) groups[find(i)].push_back(i);
    }
    std::vector<std::vector<size_t>> regions;
    for (auto& [root, members] : groups) regions.push_back(std::move(members));
    std::sort(regions.begin(), regions.end());  // deterministic order
    return regions;
  }

  std::vector<size_t> AllInteger() const {
    std::vector<size_t> all;
    for (size_t i = 0; i < size(); ++i) {
      if (integer_[i]) all.push_back(i);
    }
    return all;
  }

 private:
  std::vector<const Value*> ValuesAround(const std::vector<size_t>& nodes) const {
    absl::flat_hash_set<const Value*> seen;
    std::vector<const Value*> values;
    auto add = [&](const Value* v) {
      if (seen.insert(v).second) values.push_back(v);
    };
    for (size_t i : nodes) {
      const QuantizedNode& q = plan_.quantized[i];
      for (int input : q.activation_inputs) add(q.node->input(input));
      add(QuantizedOutput(*q.node));
    }
    return values;
  }

  // A QuantizeLinear when a float-made tensor feeds an integer node, a DequantizeLinear when an
  // integer-made one is read as float (ORT fuses the other Q/DQ into the integer kernels).
  double BoundaryUs(const Value* v) const {
    auto owner = owner_.find(v);
    const bool integer_made = owner != owner_.end() && integer_[owner->second];
    bool read_integer = false;
    bool read_float = v->is_graph_output();
    for (const Use& use : v->uses()) {
      auto user = index_.find(use.node);
      const bool integer_use =
          user != index_.end() && integer_[user->second] &&
          absl::c_linear_search(plan_.quantized[user->second].activation_inputs, use.input_index);
      (integer_use ? read_integer : read_float) = true;
    }
    if (integer_made && read_float) return table_.DequantizeUs(Elements(shape_of_, v));
    if (!integer_made && read_integer) return table_.QuantizeUs(Elements(shape_of_, v));
    return 0;
  }

  const QuantizationPlan& plan_;
  const LatencyTable& table_;
  const ShapeOf& shape_of_;
  std::vector<bool> integer_;
  std::vector<NodeTimes> times_;
  absl::flat_hash_map<const Node*, size_t> index_;   // plan.quantized position
  absl::flat_hash_map<const Value*, size_t> owner_;  // QuantizedOutput -> its node's position
};

}  // namespace

UnprofitableDrops DropUnprofitable(QuantizationPlan& plan,
                                   const absl::flat_hash_map<const Node*, NodeTimes>& times,
                                   const LatencyTable& table, const ShapeOf& shape_of) {
  UnprofitableDrops drops;
  PlanCost cost(plan, times, table, shape_of);
  std::vector<std::string> why(plan.quantized.size());
  for (;;) {
    double best_saving = 1e-6;  // us; ties and rounding noise do not move a node
    std::vector<size_t> best;
    std::pair<Side, Side> best_sides;
    auto consider = [&](std::vector<size_t> nodes) {
      std::pair<Side, Side> sides = cost.Compare(nodes);
      const double saving = sides.first.total() - sides.second.total();
      if (saving > best_saving) {
        best_saving = saving;
        best = std::move(nodes);
        best_sides = sides;
      }
    };
    for (size_t i = 0; i < cost.size(); ++i) {
      if (cost.integer(i)) consider({i});
    }
    for (std::vector<size_t>& region : cost.Regions()) {
      if (region.size() > 1) consider(std::move(region));
    }
    if (best.empty()) break;
    const auto& [now, as_float] = best_sides;
    const std::string reason =
        best.size() == 1
            ? absl::StrFormat(
                  "with the Q/DQ its float neighbours need, int8 is predicted slower: int8 %.1f + "
                  "Q/DQ %.1f us against fp32 %.1f + Q/DQ %.1f us (whole-graph estimate, latency "
                  "table)",
                  now.nodes_us, now.boundaries_us, as_float.nodes_us, as_float.boundaries_us)
            : absl::StrFormat(
                  "its integer region of %d nodes is predicted slower than float: int8 %.1f + "
                  "Q/DQ %.1f us against fp32 %.1f + Q/DQ %.1f us (whole-graph estimate, latency "
                  "table)",
                  best.size(), now.nodes_us, now.boundaries_us, as_float.nodes_us,
                  as_float.boundaries_us);
    (best.size() == 1 ? drops.nodes : drops.regions) += 1;
    for (size_t i : best) {
      cost.SetFloat(i);
      why[i] = reason;
    }
  }
  // Greedy steps can stop in a plan that still loses to all-float as a whole.
  std::vector<size_t> all = cost.AllInteger();
  if (!all.empty()) {
    const auto [now, as_float] = cost.Compare(all);
    if (now.total() >= as_float.total()) {
      drops.whole_plan = true;
      const std::string reason = absl::StrFormat(
          "the plan's %d integer nodes are predicted no faster than float: int8 %.1f + Q/DQ "
          "%.1f us against fp32 %.1f + Q/DQ %.1f us (whole-graph estimate, latency table)",
          all.size(), now.nodes_us, now.boundaries_us, as_float.nodes_us, as_float.boundaries_us);
      for (size_t i : all) {
        cost.SetFloat(i);
        why[i] = reason;
      }
    }
  }
  std::vector<QuantizedNode> kept;
  for (size_t i = 0; i < plan.quantized.size(); ++i) {
    QuantizedNode& q = plan.quantized[i];
    if (cost.integer(i)) {
      kept.push_back(std::move(q));
    } else {
      plan.kept_float.push_back({q.node, std::move(why[i]), q.detail});
    }
  }
  plan.quantized = std::move(kept);
  return drops;
}

std::string ApplyMeasuredPlanSpeed(QuantizationPlan& plan, const CalibPlanSpeed& measured,
                                   double min_speedup) {
  std::vector<std::string> names;
  for (const QuantizedNode& q : plan.quantized) names.push_back(SelectionName(*q.node));
  std::sort(names.begin(), names.end());
  const std::string figures =
      absl::StrFormat("%.2fx (%.3f ms float, %.3f ms integer)", measured.speedup, measured.fp32_ms,
                      measured.integer_ms);
  if (names != measured.integer_nodes) {
    return absl::StrFormat(
        "the calibration file timed another plan (%d integer nodes, %s); this one (%d) is not "
        "measured",
        measured.integer_nodes.size(), figures, names.size());
  }
  if (measured.speedup >= min_speedup) {
    return absl::StrCat("this plan was timed at ", figures, " by onnx-opt-calibrate");
  }
  const std::string reason = absl::StrCat(
      "the whole plan was timed slower than float by onnx-opt-calibrate --what plan-speed: ",
      figures, ", below min-plan-speedup ", absl::StrFormat("%.2f", min_speedup));
  for (QuantizedNode& q : plan.quantized) {
    plan.kept_float.push_back({q.node, reason, std::move(q.detail)});
  }
  plan.quantized.clear();
  return absl::StrCat("this plan was timed at ", figures, ": kept float");
}

}  // namespace onnx_opt
