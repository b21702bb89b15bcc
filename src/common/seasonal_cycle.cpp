#include "common/seasonal_cycle.hpp"

#include <cmath>
#include <utility>

namespace climvae {

namespace {

constexpr int kHarmonics = 3, kTerms = 1 + 2 * kHarmonics;
constexpr double kTwoPi = 6.283185307179586;
constexpr double kDaysPerYear = 365.2425;  // mean Gregorian year: no jump at leap days

void basis(int64_t day, double* b) {
  const double angle = kTwoPi * (static_cast<double>(day) + 0.5) / kDaysPerYear;
  b[0] = 1;
  for (int k = 1; k <= kHarmonics; ++k) b[2 * k - 1] = std::cos(k * angle), b[2 * k] = std::sin(k * angle);
}

// Solves the normal equations a x = y of `n` terms in place (partial pivoting); false when singular.
bool solve(double (&a)[kTerms][kTerms], double (&y)[kTerms], int n, double tolerance) {
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    if (std::abs(a[pivot][c]) <= tolerance) return false;
    std::swap(a[c], a[pivot]);
    std::swap(y[c], y[pivot]);
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (int j = c; j < n; ++j) a[r][j] -= f * a[c][j];
      y[r] -= f * y[c];
    }
  }
  for (int i = 0; i < n; ++i) y[i] /= a[i][i];
  return true;
}

}  // namespace

void remove_seasonal_cycle(double* values, int rows, int days, int64_t first_day) {
  double a[kTerms][kTerms] = {}, y[kTerms] = {}, b[kTerms];
  double known = 0;
  for (int d = 0; d < days; ++d) {
    basis(first_day + d, b);
    for (int r = 0; r < rows; ++r) {
      const double v = values[static_cast<int64_t>(r) * days + d];
      if (std::isnan(v)) continue;
      known += 1;
      for (int i = 0; i < kTerms; ++i) {
        y[i] += b[i] * v;
        for (int j = 0; j < kTerms; ++j) a[i][j] += b[i] * b[j];
      }
    }
  }
  if (known == 0) return;
  const double mean = y[0] / known;
  // At least 60 known days per row for the harmonics.
  const int terms = known / rows >= 60 && solve(a, y, kTerms, 1e-6 * known) ? kTerms : 1;
  if (terms == 1) y[0] = mean;
  for (int d = 0; d < days; ++d) {
    basis(first_day + d, b);
    double cycle = 0;
    for (int i = 0; i < terms; ++i) cycle += y[i] * b[i];
    for (int r = 0; r < rows; ++r) values[static_cast<int64_t>(r) * days + d] -= cycle;  // NaN stays NaN
  }
}

}  // namespace climvae
