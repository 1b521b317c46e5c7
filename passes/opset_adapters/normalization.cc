// Normalization layers.
//   BatchNormalization 7:  is_test removed (is_test=1, inference, is the only meaning kept).
//   BatchNormalization 9:  spatial removed; spatial=1 (the default) is the only meaning kept.
//   BatchNormalization 14: training outputs changed (running mean/var only, and only with
//                          training_mode=1): refused when any output but Y is used, else dropped.
//   GroupNormalization 21: scale/bias per group -> per channel; constant tensors are repeated
//                          C/num_groups times (C from the input's shape).
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/opset_adapters/adapter.h"
#include "passes/utils.h"

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

absl::Status CheckSpatial(const Node& node, int64_t target_opset) {
  if (node.GetInt("spatial").value_or(1) != 1) {
    return Refuse(node, "spatial=0 (per-activation statistics) has no opset-9 equivalent");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> RemoveSpatial(Node& node, RewriteContext& ctx) {
  node.RemoveAttribute("spatial");
  return &node;
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
  rules.push_back(StepRule{"BatchNormalization", 9,
                           "spatial removed: spatial=1 attribute dropped, spatial=0 refused",
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
