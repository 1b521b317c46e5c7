// Steps where the new schema accepts the old node unchanged and computes the same outputs: more
// element types, negative axes/indices allowed, or a new attribute/optional input whose default
// is the old behaviour. Nothing is rewritten for these.
#include <string_view>
#include <vector>

#include "passes/opset/adapters/adapter.h"

namespace onnx_opt::opset {
namespace {

struct CompatibleGroup {
  std::string_view rule;
  std::vector<std::string_view> ops;
  std::vector<int> versions;  // each op is listed for each of these versions it has
};

}  // namespace

void AppendCompatibleRules(std::vector<StepRule>& rules) {
  // Each (op, version) below is a real since-version of the op (checked by the unit test against
  // the schema history); a group lists every op whose step at that version is of this kind.
  const std::vector<CompatibleGroup> groups = {
      {"multidirectional broadcasting added; same-shape inputs compute the same",
       {"Max", "Min", "Mean", "Sum"},
       {8}},
      {"new optional Indices output and storage_order (default 0)", {"MaxPool"}, {8}},
      {"more element types only",
       {"Cast", "Constant", "Flatten", "Gemm", "Greater", "Less", "MatMul", "PRelu"},
       {9}},
      {"ceil_mode (default 0) and dilations (default 1) added", {"AveragePool", "MaxPool"}, {10}},
      {"negative axis/axes/indices accepted; old values mean the same",
       {"ArgMax",     "ArgMin",    "Compress",     "Concat",          "Flatten",
        "Gather",     "Hardmax",   "LogSoftmax",   "Softmax",         "OneHot",
        "ReduceL1",   "ReduceL2",  "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
        "ReduceMean", "ReduceMin", "ReduceProd",   "ReduceSum",       "ReduceSumSquare",
        "Scan",       "Slice",     "Split",        "Squeeze",         "Unsqueeze"},
       {11}},
      {"pads/auto_pad wording clarified; same results",
       {"AveragePool", "MaxPool", "LpPool", "Conv", "ConvTranspose", "MaxUnpool"},
       {11}},
      {"new attribute with the old behaviour as default (DepthToSpace mode=DCR; TopK "
       "largest/sorted=1); Gemm C optional; Constant sparse_value; NMS/If/Loop clarified; Equal "
       "more types",
       {"DepthToSpace", "TopK", "Gemm", "Constant", "NonMaxSuppression", "If", "Loop", "Equal"},
       {11}},
      {"more element types or new attribute with old default (ArgMax/ArgMin select_last_index=0, "
       "GatherND batch_dims=0, Constant value_* attributes)",
       {"ArgMax", "ArgMin", "Clip", "Constant", "GatherND", "Max", "Min", "MaxPool", "Pow",
        "ReduceMax", "ReduceMin"},
       {12}},
      {"bfloat16 and other types added; DequantizeLinear/QuantizeLinear axis only matters for "
       "per-axis scales, which older versions did not have",
       {"Abs",
        "Add",
        "ArgMax",
        "ArgMin",
        "Cast",
        "Ceil",
        "Clip",
        "Concat",
        "Constant",
        "DepthToSpace",
        "DequantizeLinear",
        "Div",
        "Dropout",
        "Equal",
        "Erf",
        "Exp",
        "Expand",
        "Flatten",
        "Floor",
        "Gather",
        "GatherElements",
        "GatherND",
        "Gemm",
        "Greater",
        "Identity",
        "If",
        "IsNaN",
        "LRN",
        "Less",
        "Log",
        "Loop",
        "MatMul",
        "Max",
        "Mean",
        "MeanVarianceNormalization",
        "Min",
        "Mod",
        "Mul",
        "Neg",
        "NegativeLogLikelihoodLoss",
        "NonZero",
        "Pad",
        "Pow",
        "QuantizeLinear",
        "Reciprocal",
        "ReduceL1",
        "ReduceL2",
        "ReduceLogSum",
        "ReduceLogSumExp",
        "ReduceMax",
        "ReduceMean",
        "ReduceMin",
        "ReduceProd",
        "ReduceSumSquare",
        "Relu",
        "Reshape",
        "ScatterElements",
        "ScatterND",
        "Shape",
        "Sigmoid",
        "Sign",
        "Size",
        "Slice",
        "SoftmaxCrossEntropyLoss",
        "SpaceToDepth",
        "Sqrt",
        "Sub",
        "Sum",
        "Tanh",
        "Tile",
        "Transpose"},
       {13}},
      {"more element types (integers, sequences); Reshape allowzero=0 and RNN layout=0 defaults "
       "keep the old meaning",
       {"Add", "CumSum", "Div", "Identity", "Mul", "Relu", "Reshape", "Sub", "GRU", "LSTM", "RNN"},
       {14}},
      {"separate types for scale/bias and mean/var; Shape start/end default to the whole shape",
       {"BatchNormalization", "Pow", "Shape"},
       {15}},
      {"bfloat16 added; Scatter* reduction attribute defaults to none",
       {"GreaterOrEqual", "LessOrEqual", "Identity", "If", "Loop", "LeakyRelu", "PRelu", "Scan",
        "ScatterElements", "ScatterND", "Where"},
       {16}},
      {"optional axes input / new attributes whose defaults keep the old behaviour (Pad axes, "
       "Resize antialias=0 axes keep_aspect_ratio_policy=stretch, Scatter* min/max reductions, "
       "LpPool ceil_mode=0)",
       {"Pad", "Resize", "ScatterElements", "ScatterND", "LpPool", "OptionalGetElement",
        "OptionalHasElement"},
       {18}},
      {"float8 types, Cast saturate (float8 only), AveragePool dilations=1, Pad wrap mode, Resize "
       "half_pixel_symmetric mode, Equal strings: all additions",
       {"AveragePool", "Cast", "CastLike", "Constant", "DequantizeLinear", "Equal", "Identity",
        "If", "Loop", "Pad", "QuantizeLinear", "Reshape", "Resize", "Scan", "Shape", "Size"},
       {19}},
      {"more element types (float8, bool for ReduceMax/ReduceMin)",
       {"ConstantOfShape", "IsInf", "IsNaN", "ReduceMax", "ReduceMin"},
       {20}},
      {"int4/uint4 types; DequantizeLinear/QuantizeLinear block_size=0 and output_dtype=0 keep "
       "per-tensor/per-axis meaning",
       {"Cast", "CastLike", "Constant", "ConstantOfShape", "DequantizeLinear", "Flatten",
        "Identity", "If", "Loop", "Pad", "QLinearMatMul", "QuantizeLinear", "Reshape", "Scan",
        "Shape", "Size", "Squeeze", "Transpose", "Unsqueeze"},
       {21}},
      // Steps into opset 7 (for models at opset 6 and below).
      {"count_include_pad added with default 0 (the old behaviour)", {"AveragePool"}, {7}},
      {"slope broadcasting became unidirectional; old valid shapes compute the same",
       {"PRelu"},
       {7}},
  };
  for (const CompatibleGroup& group : groups) {
    for (std::string_view op : group.ops) {
      for (int version : group.versions) rules.push_back(StepRule{op, version, group.rule});
    }
  }
}

}  // namespace onnx_opt::opset
