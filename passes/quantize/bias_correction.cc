#include "passes/quantize/bias_correction.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"

namespace onnx_opt {
namespace {

// The bias slot of a node: where the per-channel correction goes.
struct BiasSite {
  Node* node = nullptr;  // the node whose input holds the bias
  int input_index = 0;
  double scale = 1;  // correction multiplier (Gemm: alpha / beta)
};

// Per output channel: sum_k (W - Q)[o,k] mean[k], for weights whose rows are output channels
// (Conv [M, K...], Gemm transB [N, K]): consecutive runs of rows (groups) share one mean.
std::vector<double> RowShift(std::span<const float> w, std::span<const float> q, int64_t rows,
                             const std::vector<std::vector<double>>& mean) {
  const int64_t k = static_cast<int64_t>(w.size()) / rows;
  const int64_t per_group = rows / static_cast<int64_t>(mean.size());
  std::vector<double> shift(rows, 0.0);
  for (int64_t o = 0; o < rows; ++o) {
    const std::vector<double>& m = mean[o / per_group];
    double wm = 0, qm = 0;
    for (int64_t i = 0; i < k; ++i) {
      wm += w[o * k + i] * m[i];
      qm += q[o * k + i] * m[i];
    }
    shift[o] = wm - qm;
  }
  return shift;
}

// The same for weights [K, N] whose columns are output channels (MatMul, Gemm without transB).
std::vector<double> ColumnShift(std::span<const float> w, std::span<const float> q, int64_t n,
                                const std::vector<double>& mean) {
  const int64_t k = static_cast<int64_t>(w.size()) / n;
  std::vector<double> wm(n, 0.0), qm(n, 0.0);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t o = 0; o < n; ++o) {
      wm[o] += w[i * n + o] * mean[i];
      qm[o] += q[i * n + o] * mean[i];
    }
  }
  std::vector<double> shift(n);
  for (int64_t o = 0; o < n; ++o) shift[o] = wm[o] - qm[o];
  return shift;
}

// Where a MatMul's bias lives: the constant operand of the Add that alone reads its output.
std::optional<BiasSite> MatMulBias(Node& matmul, std::string* why_not) {
  const Value* out = matmul.output(0);
  if (out == nullptr || out->uses().size() != 1 || out->is_graph_output() ||
      !out->uses().front().node->Is("Add")) {
    *why_not = "the MatMul output does not go to one Add";
    return std::nullopt;
  }
  Node* add = out->uses().front().node;
  const int other = out->uses().front().input_index == 0 ? 1 : 0;
  if (GetConstantTensor(add->input(other)) == nullptr) {
    *why_not = absl::StrCat(add->DebugName(), " adds no constant");
    return std::nullopt;
  }
  return BiasSite{add, other, 1.0};
}

// The bias after adding `shift` (one value per output channel, times `scale`), or nullopt when
// the existing bias cannot take it. `old` null: a new [channels] bias.
std::optional<std::vector<float>> ShiftedBias(const Tensor* old, const std::vector<double>& shift,
                                              double scale, std::vector<int64_t>* dims,
                                              std::string* why_not) {
  const int64_t channels = static_cast<int64_t>(shift.size());
  std::vector<float> values(channels, 0.0f);
  *dims = {channels};
  if (old != nullptr) {
    absl::StatusOr<std::vector<float>> floats = old->ToFloats();
    if (old->type() != DataType::kFloat || !floats.ok()) {
      *why_not = "the bias is not float32";
      return std::nullopt;
    }
    const int64_t count = old->num_elements();
    const bool per_channel = !old->dims().empty() && old->dims().back() == channels;
    if (count == 1) {
      values.assign(channels, (*floats)[0]);
    } else if (per_channel) {
      values = *std::move(floats);  // [..., channels]: broadcast rows
      *dims = old->dims();
    } else {
      *why_not = "the bias does not broadcast per output channel";
      return std::nullopt;
    }
  }
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] += static_cast<float>(scale * shift[i % channels]);
  }
  return values;
}

}  // namespace

absl::StatusOr<BiasCorrection> CorrectBias(Graph& graph, Node& node, const Tensor& tensor,
                                           std::span<const float> quantized,
                                           const std::vector<std::vector<double>>& mean) {
  absl::StatusOr<std::vector<float>> values = tensor.ToFloats();
  if (!values.ok()) return values.status();
  const std::span<const float> weight(*values);
  const std::vector<int64_t>& dims = tensor.dims();
  BiasCorrection result;
  if (mean.empty() || weight.size() != quantized.size() || dims.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("bias correction of ", node.DebugName(), ": means do not fit the weight"));
  }
  const int64_t k = static_cast<int64_t>(mean[0].size());
  std::optional<BiasSite> site;
  std::vector<double> shift;
  if (node.Is("Conv")) {
    if (dims[0] % static_cast<int64_t>(mean.size()) != 0 ||
        static_cast<int64_t>(weight.size()) != dims[0] * k) {
      return absl::InvalidArgumentError(absl::StrCat("bias correction of ", node.DebugName(),
                                                     ": means do not fit the weight's groups"));
    }
    shift = RowShift(weight, quantized, dims[0], mean);
    site = BiasSite{&node, 2, 1.0};
  } else if (node.Is("Gemm") || node.Is("MatMul")) {
    const bool trans_b = node.Is("Gemm") && node.GetInt("transB").value_or(0) != 0;
    const int64_t n = trans_b ? dims[0] : dims[1];
    if (dims.size() != 2 || (trans_b ? dims[1] : dims[0]) != k) {
      return absl::InvalidArgumentError(
          absl::StrCat("bias correction of ", node.DebugName(), ": means do not fit the weight"));
    }
    shift =
        trans_b ? RowShift(weight, quantized, n, mean) : ColumnShift(weight, quantized, n, mean[0]);
    if (node.Is("MatMul")) {
      site = MatMulBias(node, &result.why_not);
    } else {
      const float beta = node.GetFloat("beta").value_or(1.0f);
      if (beta == 0.0f) {
        result.why_not = "Gemm beta = 0";
      } else {
        site = BiasSite{&node, 2, node.GetFloat("alpha").value_or(1.0f) / beta};
      }
    }
  } else {
    result.why_not = absl::StrCat("no bias correction for ", node.op_type);
  }
  if (!site) return result;

  Value* old = site->node->input(site->input_index);
  TensorPtr old_tensor = old ? GetConstantTensor(old) : nullptr;
  if (old != nullptr && old_tensor == nullptr) {
    result.why_not = "the bias is not a constant";
    return result;
  }
  std::vector<int64_t> bias_dims;
  std::optional<std::vector<float>> bias =
      ShiftedBias(old_tensor.get(), shift, site->scale, &bias_dims, &result.why_not);
  if (!bias) return result;
  auto corrected = std::make_shared<Tensor>(
      Tensor::FromValues<float>(DataType::kFloat, bias_dims, std::span<const float>(*bias)));
  // A new bias is named after the node, or its output when the node has no name.
  const std::string owner = !node.name.empty()          ? node.name
                            : node.output(0) != nullptr ? node.output(0)->name()
                                                        : std::string("node");
  const std::string hint =
      old ? absl::StrCat(old->name(), "_corrected") : absl::StrCat(owner, "_bias");
  site->node->SetInput(site->input_index, graph.AddInitializer(hint, std::move(corrected)));
  result.replaced = old;
  result.applied = true;
  return result;
}

}  // namespace onnx_opt
