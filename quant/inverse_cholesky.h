// The factor GPTQ rounds with (quant/gptq.h): the upper triangular U with U^T U = (H + lambda I)^-1
// for a symmetric positive semi-definite K x K Hessian H, lambda = damp * mean(diag H).
//
// With P the reversal permutation, P (H + lambda I) P = L L^T gives U = P L^-1 P: one Cholesky and
// one triangular inverse, both blocked in fixed 128 x 128 tiles whose solves and GEMM updates are
// spread over ParallelFor (quant/parallel.h). Every tile is computed by one thread with Eigen's
// serial kernels in the same order whatever the thread count, so the result does not depend on it;
// both steps are O(K^3), and at K = 9216 (ISNet) a serial factorization took minutes. Eigen is
// built with EIGEN_DONT_PARALLELIZE (quant/CMakeLists.txt).
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace onnx_opt::quant {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// `h` is dim x dim, row-major; it is symmetrised first, and a dead input (diagonal <= 0) gets a
// zero row and column with 1 on the diagonal. A Cholesky that fails (not numerically positive
// definite) is retried with 10x the damping, up to six times. Fails on NaN or infinity.
absl::StatusOr<RowMajorMatrix> InverseCholeskyUpper(absl::Span<const double> h, int64_t dim,
                                                    double damp);

// The lower Cholesky factor of a symmetric positive definite `a` in place (only its lower triangle
// is read; the strict upper triangle is zeroed). False when `a` is not positive definite.
bool BlockedCholesky(Eigen::MatrixXd& a);

// The inverse of a lower triangular `l` (lower triangular too).
Eigen::MatrixXd LowerTriangularInverse(const Eigen::MatrixXd& l);

}  // namespace onnx_opt::quant
