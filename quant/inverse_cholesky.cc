#include "quant/inverse_cholesky.h"

#include <Eigen/Cholesky>
#include <algorithm>

#include "absl/status/status.h"
#include "quant/parallel.h"

namespace onnx_opt::quant {
namespace {

// Tile edge: large enough for Eigen's GEMM to run near its peak, small enough that a 1024-wide
// matrix still gives both cores several tiles per step.
constexpr int64_t kTile = 128;
// A Cholesky that fails (H numerically not positive definite) is retried with 10x the damping.
constexpr int kDampRetries = 6;

int64_t TileCount(int64_t n) { return (n + kTile - 1) / kTile; }
int64_t TileStart(int64_t t) { return t * kTile; }
int64_t TileSize(int64_t t, int64_t n) { return std::min(kTile, n - t * kTile); }

}  // namespace

bool BlockedCholesky(Eigen::MatrixXd& a) {
  const int64_t n = a.rows();
  const int64_t tiles = TileCount(n);
  for (int64_t j = 0; j < tiles; ++j) {
    const int64_t j0 = TileStart(j);
    const int64_t nj = TileSize(j, n);
    // The diagonal tile, already updated by every earlier step (LLT reads its lower triangle).
    const Eigen::LLT<Eigen::MatrixXd> diagonal(a.block(j0, j0, nj, nj));
    if (diagonal.info() != Eigen::Success) return false;
    const Eigen::MatrixXd ljj = diagonal.matrixL();
    a.block(j0, j0, nj, nj) = ljj;
    const int64_t below = tiles - j - 1;
    // Panel: L_ij = A_ij L_jj^-T for every tile row i below, each on its own.
    ParallelFor(below, [&](int, int64_t t) {
      const int64_t i = j + 1 + t;
      auto panel = a.block(TileStart(i), j0, TileSize(i, n), nj);
      ljj.transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(panel);
    });
    // Trailing update of tile row i, columns j+1 .. i: A -= L_ij [L_(j+1)j .. L_ij]^T, one GEMM
    // per tile row (its diagonal tile is updated whole; only its lower triangle is read later).
    ParallelFor(below, [&](int, int64_t t) {
      const int64_t i = j + 1 + t;
      const int64_t i0 = TileStart(i);
      const int64_t ni = TileSize(i, n);
      const int64_t c0 = j0 + nj;
      const int64_t width = i0 + ni - c0;
      a.block(i0, c0, ni, width).noalias() -=
          a.block(i0, j0, ni, nj) * a.block(c0, j0, width, nj).transpose();
    });
  }
  a.triangularView<Eigen::StrictlyUpper>().setZero();
  return true;
}

Eigen::MatrixXd LowerTriangularInverse(const Eigen::MatrixXd& l) {
  const int64_t n = l.rows();
  Eigen::MatrixXd inverse = Eigen::MatrixXd::Zero(n, n);
  // Column tile c of L^-1 solves L X = I restricted to rows and columns from c's first column
  // on (the inverse is lower triangular): independent tiles, the first (largest) handed out first.
  ParallelFor(TileCount(n), [&](int, int64_t c) {
    const int64_t c0 = TileStart(c);
    const int64_t rows = n - c0;
    auto x = inverse.block(c0, c0, rows, TileSize(c, n));
    x.topRows(TileSize(c, n)).setIdentity();
    l.block(c0, c0, rows, rows).triangularView<Eigen::Lower>().solveInPlace(x);
  });
  return inverse;
}

absl::StatusOr<RowMajorMatrix> InverseCholeskyUpper(absl::Span<const double> h, int64_t dim,
                                                    double damp) {
  if (dim <= 0 || static_cast<int64_t>(h.size()) != dim * dim) {
    return absl::InvalidArgumentError("Hessian size does not match its dimension");
  }
  Eigen::MatrixXd base = Eigen::Map<const RowMajorMatrix>(h.data(), dim, dim);
  base = 0.5 * (base + base.transpose()).eval();
  for (int64_t i = 0; i < dim; ++i) {
    // A dead input (never non-zero) decides nothing; 1 keeps H invertible.
    if (base(i, i) <= 0) {
      base.row(i).setZero();
      base.col(i).setZero();
      base(i, i) = 1;
    }
  }
  if (!base.allFinite()) return absl::InvalidArgumentError("Hessian holds NaN or infinity");
  double lambda = damp * base.diagonal().mean();
  for (int attempt = 0; attempt <= kDampRetries; ++attempt, lambda = lambda * 10 + 1e-12) {
    Eigen::MatrixXd factor = base.reverse();
    factor.diagonal().array() += lambda;
    if (!BlockedCholesky(factor)) continue;
    RowMajorMatrix upper = LowerTriangularInverse(factor).reverse();
    if (!upper.allFinite()) continue;
    return upper;
  }
  return absl::InvalidArgumentError("Hessian is not positive definite even after damping");
}

}  // namespace onnx_opt::quant
