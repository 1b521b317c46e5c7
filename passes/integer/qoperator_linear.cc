// The QOperator forms of Conv, MatMul and Gemm: DQ -> Conv -> Q => QLinearConv (bias as int32 at
// scale x_scale * w_scale[c], zero point 0), DQ -> MatMul -> Q => QLinearMatMul and
// DQ -> Gemm -> Q => com.microsoft.QGemm (alpha = beta = 1; C as int32 like a Conv bias).
//
// Input order (ONNX QLinearConv-10): x, x_scale, x_zero_point, w, w_scale, w_zero_point,
// y_scale, y_zero_point, B; QLinearMatMul-10: a, a_scale, a_zero_point, b, b_scale,
// b_zero_point, y_scale, y_zero_point; QGemm-1: A, a_scale, a_zero_point, B, b_scale,
// b_zero_point, C, y_scale, y_zero_point. Activations are per tensor; Conv weights per tensor or
// per output channel (axis 0) with one zero point for every channel (ONNX Runtime enforces it);
// MatMul B per tensor or, when 2-D, per column (axis 1); Gemm B per tensor or per output column
// (axis 0 with transB = 1, else 1). ONNX Runtime has kernels for uint8 x
// with uint8 or int8 weights and for int8 x with int8 weights, the output typed like x.
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "passes/core/utils.h"
#include "passes/integer/qoperator.h"

namespace onnx_opt::integer {
namespace {

// The rank of a value from its constant data or its type, -1 when unknown.
int64_t RankOf(const Value* v) {
  if (TensorPtr t = GetConstantTensor(v)) return t->rank();
  return v->type.shape ? static_cast<int64_t>(v->type.shape->size()) : -1;
}

// Dim `i` of a value, -1 when unknown.
int64_t DimOf(const Value* v, int64_t i) {
  if (TensorPtr t = GetConstantTensor(v)) return i < t->rank() ? t->dims()[i] : -1;
  if (!v->type.shape || i >= static_cast<int64_t>(v->type.shape->size())) return -1;
  return (*v->type.shape)[i].value.value_or(-1);
}

bool KernelTypesFit(DataType x, DataType w, DataType y) {
  if (x != y) return false;
  return x == DataType::kUint8 ? (w == DataType::kUint8 || w == DataType::kInt8)
                               : (x == DataType::kInt8 && w == DataType::kInt8);
}

// The activation, weight and output parameters of a candidate; nullopt after logging why not.
struct Operands {
  QuantParams x, w, y;
};
std::optional<Operands> ReadOperands(Node& op, Node& dq_x, Node& dq_w, Node& q, FusionLog& log) {
  Refusal why = Refusal::kParams;
  std::optional<QuantParams> x = ReadQuantParams(dq_x, &why);
  std::optional<QuantParams> w = x ? ReadQuantParams(dq_w, &why) : std::nullopt;
  std::optional<QuantParams> y = w ? ReadQuantParams(q, &why) : std::nullopt;
  if (!y) return log.Refuse(op, why), std::nullopt;
  if (!x->per_tensor() || !y->per_tensor() || w->block_size != 0) {
    return log.Refuse(op, Refusal::kParams), std::nullopt;
  }
  if (!KernelTypesFit(x->qtype, w->qtype, y->qtype)) {
    return log.Refuse(op, Refusal::kTypes), std::nullopt;
  }
  return Operands{*std::move(x), *std::move(w), *std::move(y)};
}

// A Conv/MatMul/Gemm candidate: float inputs 0 and 1 from DequantizeLinear, the output to one
// QuantizeLinear. Nullopt when the op is not one (nothing logged), or after logging why not.
struct Candidate {
  Node* dq_x;
  Node* dq_w;
  OutputQuantize out;
  Operands p;
};
std::optional<Candidate> ReadCandidate(Node& op, FusionLog& log) {
  Node* dq_x = DequantizeProducer(op.input(0));
  Node* dq_w = DequantizeProducer(op.input(1));
  if (!op.domain.empty() || dq_x == nullptr || dq_w == nullptr) return std::nullopt;
  std::optional<OutputQuantize> out = FindOutputQuantize(op);
  if (!out) return log.Refuse(op, Refusal::kNotQuantized), std::nullopt;
  std::optional<Operands> p = ReadOperands(op, *dq_x, *dq_w, *out->q, log);
  if (!p) return std::nullopt;
  return Candidate{dq_x, dq_w, *out, *std::move(p)};
}

// The Conv bias as int32 codes at scale x_scale * w_scale[c]: from a float constant, or from a
// DequantizeLinear of int32 codes (re-scaled only when its scales differ).
std::optional<Value*> Int32Bias(Graph& graph, Value* bias, const Operands& p, int64_t m,
                                Refusal* why) {
  std::vector<float> values;
  if (Node* dq = DequantizeProducer(bias)) {
    std::optional<QuantParams> pb = ReadQuantParams(*dq, why);
    TensorPtr codes = pb ? GetConstantTensor(dq->input(0)) : nullptr;
    if (codes == nullptr) {
      if (pb) *why = Refusal::kNotConstant;
      return std::nullopt;
    }
    absl::StatusOr<std::vector<int64_t>> q = codes->ToInt64s();
    if (!q.ok() || static_cast<int64_t>(q->size()) != m)
      return *why = Refusal::kShapes, std::nullopt;
    values.resize(m);
    for (int64_t c = 0; c < m; ++c) {
      const size_t k = pb->scales.size() == 1 ? 0 : c;
      values[c] = static_cast<float>((*q)[c] - pb->zero_points[k]) * pb->scales[k];
    }
  } else if (TensorPtr t = GetConstantTensor(bias)) {
    absl::StatusOr<std::vector<float>> f = t->ToFloats();
    if (!f.ok() || static_cast<int64_t>(f->size()) != m)
      return *why = Refusal::kShapes, std::nullopt;
    values = *std::move(f);
  } else {
    *why = Refusal::kNotConstant;
    return std::nullopt;
  }
  std::vector<int32_t> codes(m);
  for (int64_t c = 0; c < m; ++c) {
    const double s =
        static_cast<double>(p.x.scales[0]) * p.w.scales[p.w.scales.size() == 1 ? 0 : c];
    const double r = std::nearbyint(values[c] / s);
    if (!(std::fabs(r) <= std::numeric_limits<int32_t>::max())) {
      *why = Refusal::kParams;
      return std::nullopt;
    }
    codes[c] = static_cast<int32_t>(r);
  }
  return graph.AddInitializer(
      absl::StrCat(bias->name(), "_int32"),
      std::make_shared<Tensor>(Tensor::FromValues<int32_t>(DataType::kInt32, {m}, codes)));
}

// Replaces `op` and its output QuantizeLinear (and Relu) by `op_type` with the QLinear input order
// (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point[, bias]).
absl::StatusOr<Node*> ReplaceWithQLinear(Rewriter& rewriter, Node& op, Node& dq_x, Node& dq_w,
                                         const OutputQuantize& out, const Operands& p,
                                         std::string_view op_type, Value* bias) {
  Graph& graph = rewriter.graph();
  std::vector<Value*> inputs = {
      dq_x.input(0),           ScalarScale(graph, p.x),    ScalarZeroPoint(graph, p.x),
      dq_w.input(0),           WeightScale(graph, p.w),    WeightZeroPoint(graph, p.w),
      ScalarScale(graph, p.y), ScalarZeroPoint(graph, p.y)};
  if (bias != nullptr) inputs.push_back(bias);
  Node* fused = rewriter.CreateNodeBefore(out.q, op_type, inputs, 1, "",
                                          {absl::StrCat(out.q->output(0)->name(), "_qlinear")});
  fused->name = op.name;
  CopyPlainAttributes(op, *fused);  // QLinearConv takes Conv's; MatMul has none
  if (absl::Status s = ReplaceQuantizedOutput(rewriter, out, &op, fused->output(0)); !s.ok()) {
    return s;
  }
  return fused;
}

class QLinearConvPattern : public RewritePattern {
 public:
  explicit QLinearConvPattern(FusionLog& log) : log_(log) {}
  std::string_view name() const override { return "qlinear-conv"; }
  std::string_view root_op_type() const override { return "Conv"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& conv, Rewriter& rewriter) override {
    std::optional<Candidate> c = ReadCandidate(conv, log_);
    if (!c) return false;
    const Operands* p = &c->p;
    const int64_t rank = RankOf(c->dq_w->input(0));
    const int64_t m = DimOf(c->dq_w->input(0), 0);
    if (rank < 3 || m <= 0) return log_.Refuse(conv, Refusal::kShapes);
    if (!p->w.per_tensor()) {
      const int64_t axis = p->w.axis < 0 ? p->w.axis + rank : p->w.axis;
      if (axis != 0 || static_cast<int64_t>(p->w.scales.size()) != m) {
        return log_.Refuse(conv, Refusal::kParams);
      }
    }
    for (int64_t z : p->w.zero_points) {
      if (z != p->w.zero_points[0]) return log_.Refuse(conv, Refusal::kParams);
    }
    Graph& graph = rewriter.graph();
    Value* bias = nullptr;
    if (conv.input(2) != nullptr) {
      Refusal why = Refusal::kParams;
      std::optional<Value*> b = Int32Bias(graph, conv.input(2), *p, m, &why);
      if (!b) return log_.Refuse(conv, why);
      bias = *b;
    }
    const Node* key = &conv;
    absl::StatusOr<Node*> fused =
        ReplaceWithQLinear(rewriter, conv, *c->dq_x, *c->dq_w, c->out, *p, "QLinearConv", bias);
    if (!fused.ok()) return fused.status();
    log_.Fused(key, Fusion::kQLinearConv);
    return true;
  }

 private:
  FusionLog& log_;
};

class QLinearMatMulPattern : public RewritePattern {
 public:
  QLinearMatMulPattern(FusionLog& log, bool constant_b_only)
      : log_(log), constant_b_only_(constant_b_only) {}
  std::string_view name() const override { return "qlinear-matmul"; }
  std::string_view root_op_type() const override { return "MatMul"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& matmul, Rewriter& rewriter) override {
    std::optional<Candidate> c = ReadCandidate(matmul, log_);
    if (!c) return false;
    if (constant_b_only_ && GetConstantTensor(c->dq_w->input(0)) == nullptr) {
      return log_.Refuse(matmul, Refusal::kNotConstant);
    }
    const Operands* p = &c->p;
    if (!p->w.per_tensor()) {
      // Per column of a 2-D B only: scales [N] on axis 1.
      const int64_t rank = RankOf(c->dq_w->input(0));
      const int64_t axis = p->w.axis < 0 ? p->w.axis + rank : p->w.axis;
      if (rank != 2) return log_.Refuse(matmul, Refusal::kShapes);
      if (axis != 1 || static_cast<int64_t>(p->w.scales.size()) != DimOf(c->dq_w->input(0), 1)) {
        return log_.Refuse(matmul, Refusal::kParams);
      }
    }
    const Node* key = &matmul;
    absl::StatusOr<Node*> fused = ReplaceWithQLinear(rewriter, matmul, *c->dq_x, *c->dq_w, c->out,
                                                     *p, "QLinearMatMul", nullptr);
    if (!fused.ok()) return fused.status();
    log_.Fused(key, Fusion::kQLinearMatMul);
    return true;
  }

 private:
  FusionLog& log_;
  bool constant_b_only_;
};

class QGemmPattern : public RewritePattern {
 public:
  QGemmPattern(FusionLog& log, Model& model) : log_(log), model_(model) {}
  std::string_view name() const override { return "qgemm"; }
  std::string_view root_op_type() const override { return "Gemm"; }
  absl::StatusOr<bool> MatchAndRewrite(Node& gemm, Rewriter& rewriter) override {
    std::optional<Candidate> c = ReadCandidate(gemm, log_);
    if (!c) return false;
    const Operands* p = &c->p;
    if (gemm.GetFloat("alpha").value_or(1.0f) != 1.0f ||
        gemm.GetFloat("beta").value_or(1.0f) != 1.0f) {
      return log_.Refuse(gemm, Refusal::kParams);
    }
    const int64_t trans_b = gemm.GetInt("transB").value_or(0);
    const int64_t n = DimOf(c->dq_w->input(0), trans_b != 0 ? 0 : 1);
    if (RankOf(c->dq_w->input(0)) != 2 || n <= 0) return log_.Refuse(gemm, Refusal::kShapes);
    if (!p->w.per_tensor()) {
      const int64_t axis = p->w.axis < 0 ? p->w.axis + 2 : p->w.axis;
      if (axis != (trans_b != 0 ? 0 : 1) || static_cast<int64_t>(p->w.scales.size()) != n) {
        return log_.Refuse(gemm, Refusal::kParams);
      }
    }
    Graph& graph = rewriter.graph();
    Value* bias = nullptr;
    if (gemm.input(2) != nullptr) {
      Refusal why = Refusal::kParams;
      std::optional<Value*> b = Int32Bias(graph, gemm.input(2), *p, n, &why);
      if (!b) return log_.Refuse(gemm, why);
      bias = *b;
    }
    std::vector<Value*> inputs = {c->dq_x->input(0),
                                  ScalarScale(graph, p->x),
                                  ScalarZeroPoint(graph, p->x),
                                  c->dq_w->input(0),
                                  WeightScale(graph, p->w),
                                  WeightZeroPoint(graph, p->w),
                                  bias,
                                  ScalarScale(graph, p->y),
                                  ScalarZeroPoint(graph, p->y)};
    Node* fused = rewriter.CreateNodeBefore(c->out.q, "QGemm", inputs, 1, "com.microsoft",
                                            {absl::StrCat(c->out.q->output(0)->name(), "_qgemm")});
    fused->name = gemm.name;
    for (const char* attr : {"transA", "transB"}) {
      if (auto v = gemm.GetInt(attr)) fused->SetAttribute(Attribute::Int(attr, *v));
    }
    const Node* key = &gemm;
    if (absl::Status s = ReplaceQuantizedOutput(rewriter, c->out, &gemm, fused->output(0));
        !s.ok()) {
      return s;
    }
    if (!model_.OpsetVersion("com.microsoft")) model_.SetOpsetVersion("com.microsoft", 1);
    log_.Fused(key, Fusion::kQGemm);
    return true;
  }

 private:
  FusionLog& log_;
  Model& model_;
};

}  // namespace

std::unique_ptr<RewritePattern> CreateQLinearConvPattern(FusionLog& log) {
  return std::make_unique<QLinearConvPattern>(log);
}
std::unique_ptr<RewritePattern> CreateQLinearMatMulPattern(FusionLog& log, bool constant_b_only) {
  return std::make_unique<QLinearMatMulPattern>(log, constant_b_only);
}
std::unique_ptr<RewritePattern> CreateQGemmPattern(FusionLog& log, Model& model) {
  return std::make_unique<QGemmPattern>(log, model);
}

}  // namespace onnx_opt::integer
