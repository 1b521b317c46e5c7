// Helpers shared by the simplify/ passes: float constants (also float16 ones behind a Cast),
// per-channel broadcasting, single-use checks and output replacement that keeps graph-output
// names.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ir/ir.h"
#include "passes/core/rewrite.h"

namespace onnx_opt::simplify {

// A constant float operand read as float32. `storage` is the stored element type (float, float16,
// bfloat16 or double); `through_cast` when the value is Cast(stored constant, to=float), the form
// fp16-weight models use (the Cast is exact, so folding may read through it).
struct ConstantOperand {
  std::vector<float> values;
  std::vector<int64_t> dims;
  DataType storage = DataType::kFloat;
  bool through_cast = false;
  DataType type() const { return through_cast ? DataType::kFloat : storage; }
};

std::optional<ConstantOperand> ReadConstant(const Value* value);

// A new constant holding `values` (float32 arithmetic) stored like `like`: same storage type,
// behind a new Cast node placed before `user` when `like` was read through one.
Value* MakeConstantLike(Rewriter& rewriter, Node* user, const ConstantOperand& like,
                        std::vector<int64_t> dims, const std::vector<float>& values,
                        std::string_view name_hint);

// Gives a value made by a rewrite the type of the one it replaces, listed in value_info when
// known (as infer-shapes would list it), so a later run of infer-shapes finds nothing to add.
void CopyType(Value* to, const Value* from);

// The only node using `value`, when it has exactly one use and is not a graph output.
Node* SoleUser(const Value* value);

// The constant as one value per channel of a rank-`rank` tensor with `channels` channels on
// `axis`, when broadcasting it changes nothing else: it must not raise the rank and must be 1
// on every other axis. A scalar (or all-ones shape) is repeated.
std::optional<std::vector<float>> PerChannel(const ConstantOperand& constant, int64_t rank,
                                             int64_t axis, int64_t channels);

// True when ReplaceAndErase may take `from`'s place with `to`: `from` is not a graph output, or
// `to` is a plain node output of the same graph that can take over the output's name.
bool CanTakeOver(const Value* from, const Value* to);
// Makes the users of `from` (an output of `node`) use `to`, erases `node` and, when `from` was a
// graph output, gives `to` its name and type so the model's interface is unchanged.
absl::Status ReplaceAndErase(Rewriter& rewriter, Node* node, Value* from, Value* to);
// ReplaceAndErase, then `to` takes `from`'s name whether or not it was a graph output (freed by
// the erase): legalize's rewrites keep every tensor name, so a rerun and name-based tools match.
absl::Status ReplaceAndEraseKeepingName(Rewriter& rewriter, Node* node, Value* from, Value* to);

// The non-constant input of a binary node whose other input is constant, with that constant's
// input index (nullopt when neither or both are constant).
struct BinaryWithConstant {
  Value* variable;
  int constant_index;
  ConstantOperand constant;
};
std::optional<BinaryWithConstant> SplitConstantOperand(const Node& node);

}  // namespace onnx_opt::simplify
