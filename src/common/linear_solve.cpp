#include "common/linear_solve.hpp"

#include <cmath>
#include <utility>

namespace climvae {

std::vector<double> solve_linear(std::vector<double> a, std::vector<double> b, double tolerance, bool* singular) {
  const int n = static_cast<int>(b.size());
  if (singular) *singular = false;
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c])) p = r;
    for (int k = 0; k < n; ++k) std::swap(a[c * n + k], a[p * n + k]);
    std::swap(b[c], b[p]);
    const double d = a[c * n + c];
    if (std::fabs(d) < tolerance) {
      if (singular) *singular = true;
      return std::vector<double>(n, 0.0);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / d;
      for (int k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= a[r * n + k] * x[k];
    x[r] = s / a[r * n + r];
  }
  return x;
}

}  // namespace climvae
