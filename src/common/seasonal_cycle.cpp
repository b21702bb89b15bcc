#include "common/seasonal_cycle.hpp"

#include <cmath>
#include <vector>

#include "common/linear_solve.hpp"

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

}  // namespace

void remove_seasonal_cycle(double* values, int rows, int days, int64_t first_day) {
  std::vector<double> a(kTerms * kTerms, 0.0), y(kTerms, 0.0);
  double b[kTerms];
  double known = 0;
  for (int d = 0; d < days; ++d) {
    basis(first_day + d, b);
    for (int r = 0; r < rows; ++r) {
      const double v = values[static_cast<int64_t>(r) * days + d];
      if (std::isnan(v)) continue;
      known += 1;
      for (int i = 0; i < kTerms; ++i) {
        y[i] += b[i] * v;
        for (int j = 0; j < kTerms; ++j) a[i * kTerms + j] += b[i] * b[j];
      }
    }
  }
  if (known == 0) return;
  // The harmonics with at least 60 known days per row, else the mean alone.
  bool singular = known / rows < 60;
  std::vector<double> cycle = singular ? std::vector<double>() : solve_linear(a, y, 1e-6 * known, &singular);
  if (singular) cycle.assign({y[0] / known});
  for (int d = 0; d < days; ++d) {
    basis(first_day + d, b);
    double level = 0;
    for (size_t i = 0; i < cycle.size(); ++i) level += cycle[i] * b[i];
    for (int r = 0; r < rows; ++r) values[static_cast<int64_t>(r) * days + d] -= level;  // NaN stays NaN
  }
}

}  // namespace climvae
