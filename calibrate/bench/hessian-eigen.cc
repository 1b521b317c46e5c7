// The same H += X^T X with Eigen (what the helper uses), for the ratio in docs/calibration.md:
//   g++ -O2 -DNDEBUG -I/usr/include/eigen3 calibrate/bench/hessian-eigen.cc -o /tmp/he && /tmp/he 576
#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstdlib>
int main(int argc, char** argv) {
  const int K = argc > 1 ? atoi(argv[1]) : 576, P = 2048;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X = Eigen::MatrixXf::Random(P, K);
  Eigen::MatrixXf g = Eigen::MatrixXf::Zero(K, K);
  auto t0 = std::chrono::steady_clock::now();
  g.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("K=%d: %.3f s, %.2f G mult-add/s (%g)\n", K, s, double(P) * K * (K + 1) / 2 / s / 1e9, g(0, 0));
}
