// Normalization layers.
//   BatchNormalization 7:  is_test removed (is_test=1, inference, is the only meaning kept).
//   BatchNormalization 9:  spatial removed; spatial=1 (the default) is dropped; spatial=0
//                          (per-element statistics over C x D1 x ... x Dn) becomes spatial
//                          normalization of X reshaped to [N, C*D1*...*Dn] with flattened
//                          parameters, reshaped back (needs those dims statically).
//   BatchNormalization 14: training outputs changed (running mean/var only, and only with
//                          training_mode=1): refused when any output but Y is used, else dropped.
//   GroupNormalization 21: scale/bias per group -> per channel; constant tensors are repeated
//                          C/num_groups times (C from the input's shape).
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/opset/adapters/adapter.h"
#include "passes/core/utils.h"

namespace onnx_opt::opset {
namespace {

absl::Status CheckIsTest(const Node& node, int64_t target_opset) {
  if (node.GetInt("is_test").value_or(0) == 0) {
    return Refuse(node, "is_test=0 (training mode) has no equivalent after opset 6");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> RemoveIsTest(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("is_test");
  return &node;
}

std::optional<std::vector<Dim>> ShapeOf(const Value* value) {
  if (value == nullptr || !value->type.is_tensor()) return std::nullopt;
  return value->type.shape;
}

// The per-element dims (C, D1, ..., Dn) a spatial=0 node normalizes over: X's dims after the
// batch when they are all fixed, else the static dims of the parameters (all four equal).
std::optional<std::vector<int64_t>> PerElementDims(const Node& node) {
  if (std::optional<std::vector<Dim>> x = ShapeOf(node.input(0)); x && x->size() >= 2) {
    std::vector<int64_t> dims;
    for (size_t i = 1; i < x->size(); ++i) {
      if (!(*x)[i].is_fixed()) break;
      dims.push_back(*(*x)[i].value);
    }
    if (dims.size() + 1 == x->size()) return dims;
  }
  std::optional<std::vector<int64_t>> dims;
  for (int i = 1; i <= 4; ++i) {
    std::optional<std::vector<int64_t>> param;
    if (TensorPtr data = GetConstantTensor(node.input(i))) {
      param = data->dims();
    } else if (node.input(i) != nullptr) {
      param = node.input(i)->type.static_dims();
    }
    if (!param || (dims && *dims != *param)) return std::nullopt;
    dims = param;
  }
  return dims;
}

int64_t Product(const std::vector<int64_t>& dims) {
  int64_t product = 1;
  for (int64_t d : dims) product *= d;
  return product;
}

absl::Status CheckSpatial(const Node& node, int64_t target_opset) {
  if (node.GetInt("spatial").value_or(1) == 1) return absl::OkStatus();
  if (UsesOutputsBeyond(node, 1)) {
    return Refuse(node, "spatial=0 with its training statistics outputs used");
  }
  std::optional<std::vector<int64_t>> dims = PerElementDims(node);
  if (!dims || dims->empty()) {
    return Refuse(node,
                  "spatial=0 needs the per-element shape (C x D1 x ... x Dn) known statically "
                  "(from X or from scale/B/mean/var)");
  }
  for (int i = 1; i <= 4; ++i) {
    TensorPtr data = GetConstantTensor(node.input(i));
    if (data != nullptr && data->num_elements() != Product(*dims)) {
      return Refuse(node, "spatial=0 parameters do not have C x D1 x ... x Dn elements");
    }
  }
  return absl::OkStatus();
}

// spatial=0 normalizes every element of C x D1 x ... x Dn with its own statistics: the same as
// spatial=1 on X reshaped to [N, C*D1*...*Dn] (each element a channel) with flattened parameters.
absl::StatusOr<Node*> RemoveSpatial(Node& node, RewriteContext& ctx) {
  const bool per_element = node.GetInt("spatial").value_or(1) == 0;
  node.RemoveAttribute("spatial");
  if (!per_element) return &node;
  Graph& graph = ctx.graph();
  const std::vector<int64_t> dims = *PerElementDims(node);
  const int64_t elements = Product(dims);

  Value* x = node.input(0);
  Node* flatten =
      graph.CreateNode("Reshape", {x, ctx.Int64s({0, elements}, &node, "BatchNorm_flat")}, 1, &node,
                       "", {absl::StrCat(x->name(), "_per_element")});
  node.SetInput(0, flatten->output(0));
  static constexpr const char* kParamNames[] = {"", "scale", "B", "mean", "var"};
  for (int i = 1; i <= 4; ++i) {
    Value* param = node.input(i);
    const std::string hint = absl::StrCat("BatchNorm_", kParamNames[i], "_flat");
    if (TensorPtr data = GetConstantTensor(param)) {
      node.SetInput(i,
                    ctx.AddConstant(Tensor(data->type(), {elements}, data->buffer()), &node, hint));
    } else {
      Node* reshape = graph.CreateNode(
          "Reshape", {param, ctx.Int64s({elements}, &node, "BatchNorm_param_shape")}, 1, &node, "",
          {absl::StrCat(param->name(), "_flat")});
      node.SetInput(i, reshape->output(0));
    }
  }
  Node* bn = node.outputs().size() > 1 ? RebuildWithOutputs(node, 1) : &node;

  // Y comes out as [N, C*D1*...]: reshape it back under its own name.
  Value* flat_y = bn->output(0);
  std::vector<int64_t> back = {0};
  back.insert(back.end(), dims.begin(), dims.end());
  Node* unflatten = graph.CreateNode("Reshape", {flat_y, ctx.Int64s(back, bn, "BatchNorm_shape")},
                                     1, bn, "", {absl::StrCat(flat_y->name(), "_nd")});
  graph.MoveBefore(bn, unflatten);
  const std::string name = flat_y->name();
  const ValueType type = flat_y->type;
  const bool in_value_info = flat_y->in_value_info;
  flat_y->ReplaceAllUsesWith(unflatten->output(0));
  unflatten->SetInput(0, flat_y);
  flat_y->set_name(graph.UniqueName(absl::StrCat(name, "_flat")));
  flat_y->type = ValueType();  // [N, C*D1*...]: left to shape inference
  flat_y->in_value_info = false;
  unflatten->output(0)->set_name(name);
  unflatten->output(0)->type = type;
  unflatten->output(0)->in_value_info = in_value_info;
  return bn;
}

absl::Status CheckTrainingOutputs(const Node& node, int64_t target_opset) {
  if (UsesOutputsBeyond(node, 1)) {
    return Refuse(node,
                  "uses mean/var/saved statistics outputs, which opset 14 only produces in "
                  "training mode with different meaning");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> DropTrainingOutputs(Node& node, RewriteContext& ctx) {
  if (node.outputs().size() <= 1) return &node;
  return RebuildWithOutputs(node, 1);
}

// Channel count of the GroupNormalization input, when its dim 1 is fixed.
std::optional<int64_t> ChannelCount(const Node& node) {
  const Value* x = node.input(0);
  if (x == nullptr || !x->type.is_tensor() || !x->type.shape || x->type.shape->size() < 2) {
    return std::nullopt;
  }
  const Dim& c = (*x->type.shape)[1];
  return c.is_fixed() ? c.value : std::nullopt;
}

absl::Status CheckGroupNorm(const Node& node, int64_t target_opset) {
  std::optional<int64_t> groups = node.GetInt("num_groups");
  std::optional<int64_t> channels = ChannelCount(node);
  if (!groups || *groups <= 0) return Refuse(node, "needs a positive num_groups attribute");
  if (!channels) {
    return Refuse(node,
                  "scale/bias become per-channel at opset 21 and the channel count (dim 1 "
                  "of the input) is unknown");
  }
  if (*channels % *groups != 0) return Refuse(node, "channel count not divisible by num_groups");
  for (int i : {1, 2}) {
    TensorPtr data = GetConstantTensor(node.input(i));
    if (data == nullptr || data->rank() != 1 || data->dims()[0] != *groups ||
        BitsPerElement(data->type()) % 8 != 0) {
      return Refuse(node, absl::StrCat(i == 1 ? "scale" : "bias",
                                       " is not a constant 1-D tensor of num_groups elements"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> GroupToChannelParams(Node& node, RewriteContext& ctx) {
  const int64_t groups = *node.GetInt("num_groups");
  const int64_t per_group = *ChannelCount(node) / groups;
  for (int i : {1, 2}) {
    TensorPtr data = GetConstantTensor(node.input(i));
    const size_t width = static_cast<size_t>(BitsPerElement(data->type()) / 8);
    std::vector<uint8_t> bytes(static_cast<size_t>(groups * per_group) * width);
    auto src = data->bytes();
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t j = 0; j < per_group; ++j) {
        std::memcpy(&bytes[static_cast<size_t>(g * per_group + j) * width], &src[g * width], width);
      }
    }
    Tensor expanded(data->type(), {groups * per_group}, Buffer::FromVector(std::move(bytes)));
    node.SetInput(i, ctx.AddConstant(std::move(expanded), &node,
                                     i == 1 ? "GroupNorm_scale" : "GroupNorm_bias"));
  }
  return &node;
}

}  // namespace

void AppendNormalizationRules(std::vector<StepRule>& rules) {
  rules.push_back(StepRule{"BatchNormalization", 7, "is_test removed: kept only for is_test=1",
                           CheckIsTest, RemoveIsTest});
  rules.push_back(StepRule{"Dropout", 7, "is_test removed: kept only for is_test=1", CheckIsTest,
                           RemoveIsTest});
  rules.push_back(
      StepRule{"BatchNormalization", 9,
               "spatial removed: spatial=1 dropped; spatial=0 -> X reshaped to [N, C*D1*...], "
               "parameters flattened, Y reshaped back",
               CheckSpatial, RemoveSpatial});
  rules.push_back(StepRule{"BatchNormalization", 14,
                           "training outputs redefined: unused extra outputs dropped, used ones "
                           "refused",
                           CheckTrainingOutputs, DropTrainingOutputs});
  rules.push_back(StepRule{"GroupNormalization", 21,
                           "scale/bias per group -> per channel: constant tensors repeated "
                           "C/num_groups times",
                           CheckGroupNorm, GroupToChannelParams});
}

}  // namespace onnx_opt::opset
