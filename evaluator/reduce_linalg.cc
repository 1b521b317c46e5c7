// Reductions (Reduce*, ArgMax/ArgMin) and products of constant matrices (MatMul, Gemm).
#include <cmath>
#include <limits>

#include "evaluator/kernel.h"

namespace onnx_opt::eval {
namespace {

// Multiply-adds one folding may cost: folding is for shape arithmetic and weight preprocessing,
// not for running layers at compile time.
constexpr int64_t kMaxMatMulWork = int64_t{1} << 28;

// Reduced axes (sorted flags) of a Reduce*/Arg* node; false in `all` when none are given.
absl::Status ReducedAxes(const KernelContext& ctx, int64_t rank, std::vector<bool>* reduced,
                         bool* noop) {
  const std::string& op = ctx.node().op_type;
  const bool axes_input = op == "ReduceSum" ? ctx.opset() >= 13 : ctx.opset() >= 18;
  std::vector<int64_t> axes;
  if (op == "ArgMax" || op == "ArgMin") {
    axes.push_back(ctx.IntAttr("axis", 0));
  } else if (axes_input) {
    if (const Tensor* t = ctx.input(1)) {
      absl::StatusOr<std::vector<int64_t>> v = ReadIndexValues(ctx, *t, "axes");
      if (!v.ok()) return v.status();
      axes = *std::move(v);
    }
  } else {
    axes = ctx.node().GetInts("axes").value_or(std::vector<int64_t>{});
  }
  *noop = axes.empty() && ctx.IntAttr("noop_with_empty_axes", 0) != 0;
  reduced->assign(rank, axes.empty());
  for (int64_t a : axes) {
    std::optional<int64_t> axis = NormalizeAxis(a, rank);
    if (!axis) return ctx.Invalid("axis out of range");
    (*reduced)[*axis] = true;
  }
  return absl::OkStatus();
}

absl::Status Reduce(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> x = ctx.Required(0);
  if (!x.ok()) return x.status();
  const Tensor& t = **x;
  const std::string& op = ctx.node().op_type;
  const bool arg = op == "ArgMax" || op == "ArgMin";
  if (!IsReal(t.type()) && !IsInteger(t.type())) return ctx.Unsupported("unsupported type");
  if (absl::Status s = ctx.CheckDecodable(t); !s.ok()) return s;
  std::vector<bool> reduced;
  bool noop = false;
  if (absl::Status s = ReducedAxes(ctx, t.rank(), &reduced, &noop); !s.ok()) return s;
  if (noop) {
    ctx.SetOutput(0, ctx.input_ptr(0));
    return absl::OkStatus();
  }
  const bool keep = ctx.IntAttr("keepdims", 1) != 0;
  std::vector<int64_t> kept_dims, out_dims;
  for (int64_t a = 0; a < t.rank(); ++a) {
    kept_dims.push_back(reduced[a] ? 1 : t.dims()[a]);
    if (!reduced[a] || keep) out_dims.push_back(kept_dims.back());
  }
  const int64_t n_out = *ElementCount(kept_dims);
  const std::vector<int64_t> out_strides = Strides(kept_dims);
  std::vector<std::vector<int64_t>> tables(t.rank());
  for (int64_t a = 0; a < t.rank(); ++a) {
    for (int64_t c = 0; c < t.dims()[a]; ++c)
      tables[a].push_back(reduced[a] ? 0 : c * out_strides[a]);
  }
  const std::vector<int64_t> target = IndexFromTables(tables);
  const std::vector<double> v = ReadReals(t);
  const double inf = std::numeric_limits<double>::infinity();
  double init = 0;
  if (op == "ReduceProd") init = 1;
  if (op == "ReduceMax" || op == "ArgMax") init = -inf;
  if (op == "ReduceMin" || op == "ArgMin") init = inf;
  std::vector<double> acc(n_out, init), count(n_out, 0);
  std::vector<int64_t> position(n_out, 0);
  const bool last = ctx.IntAttr("select_last_index", 0) != 0;
  for (size_t i = 0; i < v.size(); ++i) {
    double& a = acc[target[i]];
    const double e = v[i];
    const int64_t k = static_cast<int64_t>(count[target[i]]++);
    if (op == "ReduceSum" || op == "ReduceMean")
      a += e;
    else if (op == "ReduceProd")
      a *= e;
    else if (op == "ReduceL1")
      a += std::fabs(e);
    else if (op == "ReduceL2" || op == "ReduceSumSquare")
      a += e * e;
    else if (op == "ReduceLogSum")
      a += e;
    else if (op == "ReduceLogSumExp")
      a += std::exp(e);
    else if (op == "ReduceMax")
      a = std::isnan(e) || std::isnan(a) ? NAN : std::fmax(a, e);
    else if (op == "ReduceMin")
      a = std::isnan(e) || std::isnan(a) ? NAN : std::fmin(a, e);
    else if ((op == "ArgMax" ? e > a : e < a) || (last && e == a) || k == 0) {
      a = e;
      position[target[i]] = k;
    }
  }
  for (int64_t i = 0; i < n_out; ++i) {
    if (op == "ReduceMean") acc[i] /= count[i];
    if (op == "ReduceL2") acc[i] = std::sqrt(acc[i]);
    if (op == "ReduceLogSum" || op == "ReduceLogSumExp") acc[i] = std::log(acc[i]);
  }
  if (arg) {
    ctx.SetOutput(0, MakeInt(DataType::kInt64, out_dims, position));
    return absl::OkStatus();
  }
  if (!IsReal(t.type())) {
    // Integer results must be exact: double holds every integer below 2^53.
    for (double a : acc) {
      if (!(std::fabs(a) < 9007199254740992.0)) return ctx.Unsupported("integer result too big");
    }
  }
  ctx.SetOutput(0, MakeReal(t.type(), out_dims, acc));
  return absl::OkStatus();
}

// out[b, m, n] = sum_k a[b, m, k] * b[b, k, n] over `batch` broadcast batches.
void MatMulBatches(const std::vector<double>& a, const std::vector<double>& b,
                   std::span<const int64_t> ia, std::span<const int64_t> ib, int64_t m, int64_t k,
                   int64_t n, std::vector<double>* out) {
  for (size_t batch = 0; batch < ia.size(); ++batch) {
    const double* pa = a.data() + ia[batch] * m * k;
    const double* pb = b.data() + ib[batch] * k * n;
    double* po = out->data() + batch * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += pa[i * k + p] * pb[p * n + j];
        po[i * n + j] = s;
      }
    }
  }
}

absl::Status MatMul(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> a = ctx.Required(0);
  if (!a.ok()) return a.status();
  absl::StatusOr<const Tensor*> b = ctx.Required(1);
  if (!b.ok()) return b.status();
  const Tensor &ta = **a, &tb = **b;
  if (!IsReal(ta.type()) && !IsInteger(ta.type())) return ctx.Unsupported("unsupported type");
  if (ta.type() != tb.type() || ta.rank() == 0 || tb.rank() == 0) {
    return ctx.Invalid("inputs differ in type or are scalars");
  }
  std::vector<int64_t> da = ta.dims(), db = tb.dims();
  if (da.size() == 1) da.insert(da.begin(), 1);
  if (db.size() == 1) db.push_back(1);
  const int64_t m = da[da.size() - 2], k = da.back(), n = db.back();
  if (db[db.size() - 2] != k) return ctx.Invalid("inner dims differ");
  std::span<const int64_t> ba(da.data(), da.size() - 2), bb(db.data(), db.size() - 2);
  std::optional<std::vector<int64_t>> batch = BroadcastShapes(ba, bb);
  if (!batch) return ctx.Invalid("batch dims do not broadcast");
  std::vector<int64_t> dims = *batch;
  if (ta.rank() > 1) dims.push_back(m);
  if (tb.rank() > 1) dims.push_back(n);
  if (absl::Status s = ctx.CheckOutput(DataType::kDouble, dims); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(ta); !s.ok()) return s;
  if (absl::Status s = ctx.CheckDecodable(tb); !s.ok()) return s;
  const int64_t batches = *ElementCount(*batch);
  if (static_cast<double>(batches) * m * n * k > static_cast<double>(kMaxMatMulWork)) {
    return ctx.Unsupported("too many multiply-adds to fold");
  }
  std::vector<double> out(static_cast<size_t>(batches * m * n));
  MatMulBatches(ReadReals(ta), ReadReals(tb), BroadcastIndices(ba, *batch),
                BroadcastIndices(bb, *batch), m, k, n, &out);
  ctx.SetOutput(0, MakeReal(ta.type(), dims, out));
  return absl::OkStatus();
}

absl::Status Gemm(KernelContext& ctx) {
  absl::StatusOr<const Tensor*> a = ctx.Required(0);
  if (!a.ok()) return a.status();
  absl::StatusOr<const Tensor*> b = ctx.Required(1);
  if (!b.ok()) return b.status();
  const Tensor &ta = **a, &tb = **b;
  if (ta.rank() != 2 || tb.rank() != 2 || ta.type() != tb.type() || !IsReal(ta.type())) {
    return ctx.Unsupported("Gemm needs 2-D real inputs of one type");
  }
  const bool trans_a = ctx.IntAttr("transA", 0) != 0, trans_b = ctx.IntAttr("transB", 0) != 0;
  const int64_t m = ta.dims()[trans_a ? 1 : 0], k = ta.dims()[trans_a ? 0 : 1];
  const int64_t n = tb.dims()[trans_b ? 0 : 1];
  if (tb.dims()[trans_b ? 1 : 0] != k) return ctx.Invalid("inner dims differ");
  const std::vector<int64_t> dims = {m, n};
  if (absl::Status s = ctx.CheckOutput(DataType::kDouble, dims); !s.ok()) return s;
  if (static_cast<double>(m) * n * k > static_cast<double>(kMaxMatMulWork)) {
    return ctx.Unsupported("too many multiply-adds to fold");
  }
  const double alpha = ctx.FloatAttr("alpha", 1.0f), beta = ctx.FloatAttr("beta", 1.0f);
  const std::vector<double> va = ReadReals(ta), vb = ReadReals(tb);
  std::vector<double> out(static_cast<size_t>(m * n), 0.0);
  if (const Tensor* c = ctx.input(2)) {
    if (!BroadcastShapes(c->dims(), dims) || c->rank() > 2 || c->type() != ta.type()) {
      return ctx.Invalid("C does not broadcast to the output");
    }
    const std::vector<double> vc = ReadReals(*c);
    const std::vector<int64_t> ic = BroadcastIndices(c->dims(), dims);
    for (size_t i = 0; i < out.size(); ++i) out[i] = beta * vc[ic[i]];
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        s += va[trans_a ? p * m + i : i * k + p] * vb[trans_b ? j * k + p : p * n + j];
      }
      out[i * n + j] += alpha * s;
    }
  }
  ctx.SetOutput(0, MakeReal(ta.type(), dims, out));
  return absl::OkStatus();
}

}  // namespace

void RegisterReduceLinalgKernels(KernelTable& t) {
  for (const char* op :
       {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin"}) {
    t[op] = Reduce;
  }
  t["MatMul"] = MatMul;
  t["Gemm"] = Gemm;
}

}  // namespace onnx_opt::eval
