#include "quant/inverse_cholesky.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "quant/parallel.h"

namespace onnx_opt::quant {
namespace {

// sum over `samples` vectors of x x^T, x with correlated entries (a random walk), row-major.
std::vector<double> CorrelatedGram(int64_t n, int samples, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd x(samples, n);
  for (int s = 0; s < samples; ++s) {
    double walk = 0;
    for (int64_t i = 0; i < n; ++i) x(s, i) = walk = 0.8 * walk + normal(rng);
  }
  const RowMajorMatrix gram = x.transpose() * x;
  return {gram.data(), gram.data() + n * n};
}

double MaxAbs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

// Sizes below one 128 tile, exactly two, and ragged with three and more tiles.
class InverseCholeskyTest : public testing::TestWithParam<int64_t> {};

TEST_P(InverseCholeskyTest, BlockedCholeskyMatchesEigen) {
  const int64_t n = GetParam();
  const std::vector<double> gram = CorrelatedGram(n, static_cast<int>(n) + 50, 3);
  Eigen::MatrixXd a = Eigen::Map<const RowMajorMatrix>(gram.data(), n, n);
  a.diagonal().array() += 1e-3 * a.diagonal().mean();
  const Eigen::MatrixXd eigen_l = a.llt().matrixL();
  Eigen::MatrixXd blocked = a;
  ASSERT_TRUE(BlockedCholesky(blocked));
  EXPECT_EQ(MaxAbs(blocked.triangularView<Eigen::StrictlyUpper>().toDenseMatrix()), 0);
  EXPECT_LT(MaxAbs(blocked - eigen_l), 1e-9 * MaxAbs(eigen_l));
  EXPECT_LT(MaxAbs(blocked * blocked.transpose() - a), 1e-10 * MaxAbs(a));
}

TEST_P(InverseCholeskyTest, LowerTriangularInverseIsTheInverse) {
  const int64_t n = GetParam();
  const std::vector<double> gram = CorrelatedGram(n, static_cast<int>(n) + 50, 4);
  Eigen::MatrixXd a = Eigen::Map<const RowMajorMatrix>(gram.data(), n, n);
  a.diagonal().array() += 0.01 * a.diagonal().mean();
  ASSERT_TRUE(BlockedCholesky(a));
  const Eigen::MatrixXd inverse = LowerTriangularInverse(a);
  EXPECT_EQ(MaxAbs(inverse.triangularView<Eigen::StrictlyUpper>().toDenseMatrix()), 0);
  EXPECT_LT(MaxAbs(a * inverse - Eigen::MatrixXd::Identity(n, n)), 1e-9);
}

TEST_P(InverseCholeskyTest, UpperFactorOfTheDampedInverse) {
  const int64_t n = GetParam();
  std::vector<double> h = CorrelatedGram(n, 40, 5);  // fewer samples than n: H is singular
  const double damp = 0.01;
  absl::StatusOr<RowMajorMatrix> u = InverseCholeskyUpper(h, n, damp);
  ASSERT_TRUE(u.ok()) << u.status();
  Eigen::MatrixXd damped = Eigen::Map<const RowMajorMatrix>(h.data(), n, n);
  damped.diagonal().array() += damp * damped.diagonal().mean();
  EXPECT_EQ(MaxAbs(u->triangularView<Eigen::StrictlyLower>().toDenseMatrix()), 0);
  EXPECT_LT(MaxAbs(u->transpose() * *u * damped - Eigen::MatrixXd::Identity(n, n)), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Sizes, InverseCholeskyTest, testing::Values(1, 37, 256, 300, 515));

TEST(InverseCholeskyTest, DeadInputsAndBadHessians) {
  // Input 1 never fires: its row and column are zero; it gets 1 on the diagonal (no damping).
  std::vector<double> h = {4, 0, 2, 0, 0, 0, 2, 0, 3};
  absl::StatusOr<RowMajorMatrix> u = InverseCholeskyUpper(h, 3, 0.0);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_NEAR((*u)(1, 1), 1.0, 1e-12);
  h[4] = std::nan("");
  EXPECT_FALSE(InverseCholeskyUpper(h, 3, 0.01).ok());
  EXPECT_FALSE(InverseCholeskyUpper(h, 2, 0.01).ok());  // 9 values for a 2 x 2
}

TEST(InverseCholeskyTest, OnlyTheLowerTriangleIsRead) {
  const int64_t n = 300;
  const std::vector<double> gram = CorrelatedGram(n, 400, 6);
  Eigen::MatrixXd a = Eigen::Map<const RowMajorMatrix>(gram.data(), n, n);
  Eigen::MatrixXd poisoned = a;
  poisoned.triangularView<Eigen::StrictlyUpper>().setConstant(
      std::numeric_limits<double>::quiet_NaN());
  ASSERT_TRUE(BlockedCholesky(a));
  ASSERT_TRUE(BlockedCholesky(poisoned));
  EXPECT_TRUE(poisoned.allFinite());
  EXPECT_EQ(MaxAbs(poisoned - a), 0);
}

// The result must not depend on the threads: the same bits with the tiles spread over the pool
// (top level) and with every ParallelFor run serially on one thread (nested inside another:
// ParallelFor of one item runs inline, so the outer loop has two, the second doing nothing).
TEST(InverseCholeskyTest, SameBitsOnOneThreadAndOnThePool) {
  const int64_t n = 515;
  const std::vector<double> h = CorrelatedGram(n, 600, 7);
  absl::StatusOr<RowMajorMatrix> pooled = InverseCholeskyUpper(h, n, 0.01);
  ASSERT_TRUE(pooled.ok()) << pooled.status();
  absl::StatusOr<RowMajorMatrix> serial = absl::InternalError("not run");
  ParallelFor(2, [&](int, int64_t i) {
    if (i == 0) serial = InverseCholeskyUpper(h, n, 0.01);
  });
  ASSERT_TRUE(serial.ok()) << serial.status();
  EXPECT_EQ(*pooled, *serial);
}

TEST(InverseCholeskyTest, RetriesWithMoreDamping) {
  // Eigenvalues 3 and -1: damping 0.5 (lambda 0.5) fails, the retry's 10x (lambda 5) succeeds.
  const std::vector<double> h = {1, 2, 2, 1};
  absl::StatusOr<RowMajorMatrix> u = InverseCholeskyUpper(h, 2, 0.5);
  ASSERT_TRUE(u.ok()) << u.status();
  Eigen::MatrixXd damped(2, 2);
  damped << 6, 2, 2, 6;
  EXPECT_LT(MaxAbs(u->transpose() * *u * damped - Eigen::MatrixXd::Identity(2, 2)), 1e-12);
  // Without damping the retries (up to 1e-6 added) cannot make it positive definite.
  EXPECT_FALSE(InverseCholeskyUpper(h, 2, 0.0).ok());
}

TEST(InverseCholeskyTest, IndefiniteMatrixIsRefused) {
  Eigen::MatrixXd a(2, 2);
  a << 1, 2, 2, 1;  // eigenvalues 3 and -1
  EXPECT_FALSE(BlockedCholesky(a));
}

}  // namespace
}  // namespace onnx_opt::quant
