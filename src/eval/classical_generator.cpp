#include "eval/classical_generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "engine/random.hpp"

namespace climvae::eval {

namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr double kDaysPerYear = 365.2425;   // mean Gregorian year: no jump at leap days
constexpr uint64_t kClassicalStream = 0xc1a551ca1ULL;  // keeps these streams apart from the VAE's
constexpr int kMinHoursPerMonth = 7 * 24;  // valid hours each calendar month needs for the fit

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

// Least squares through the normal equations (19 unknowns, well conditioned harmonics),
// solved by Gaussian elimination with partial pivoting.
std::vector<double> least_squares(const std::vector<std::vector<double>>& rows, const std::vector<double>& y) {
  const size_t p = rows.empty() ? 0 : rows[0].size();
  std::vector<std::vector<double>> a(p, std::vector<double>(p + 1, 0.0));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t i = 0; i < p; ++i) {
      for (size_t j = 0; j < p; ++j) a[i][j] += rows[r][i] * rows[r][j];
      a[i][p] += rows[r][i] * y[r];
    }
  for (size_t c = 0; c < p; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < p; ++r)
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    require(std::abs(a[pivot][c]) > 1e-9 * rows.size(),
            "classical generator: the observed series is too short or gappy to fit its seasonal and diurnal cycle");
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < p; ++r) {
      if (r == c) continue;
      const double f = a[r][c] / a[c][c];
      for (size_t j = c; j <= p; ++j) a[r][j] -= f * a[c][j];
    }
  }
  std::vector<double> x(p);
  for (size_t i = 0; i < p; ++i) x[i] = a[i][p] / a[i][i];
  return x;
}

}  // namespace

std::vector<double> classical_basis(int64_t local_hour) {
  const double day = local_hour / 24.0;
  const double year_angle = kTwoPi * day / kDaysPerYear;
  const double day_angle = kTwoPi * (day - std::floor(day));
  std::vector<double> b{1.0};
  for (int k = 1; k <= 3; ++k) b.push_back(std::cos(k * year_angle)), b.push_back(std::sin(k * year_angle));
  for (int k = 1; k <= 2; ++k)
    for (double daily : {std::cos(k * day_angle), std::sin(k * day_angle)})
      b.push_back(daily), b.push_back(daily * std::cos(year_angle)), b.push_back(daily * std::sin(year_angle));
  return b;
}

double ClassicalGenerator::mean_at(int64_t local_hour) const { return dot(mean_coefficients, classical_basis(local_hour)); }

double ClassicalGenerator::sd_at(int64_t local_hour) const {
  return std::sqrt(std::max(dot(variance_coefficients, classical_basis(local_hour)), min_variance));
}

ClassicalGenerator fit_classical_generator(const CelsiusSeries& observed) {
  std::vector<std::vector<double>> rows;
  std::vector<double> values;
  std::vector<int64_t> stamps;
  for (size_t t = 0; t < observed.values_c.size(); ++t) {
    if (std::isnan(observed.values_c[t])) continue;
    stamps.push_back(observed.start_hour + static_cast<int64_t>(t) + observed.utc_offset_hours);
    rows.push_back(classical_basis(stamps.back()));
    values.push_back(observed.values_c[t]);
  }
  // The annual harmonics fitted on part of a year are extrapolated wildly into the other months
  // (a 70-day store gave classical monthly means of 12000 degC and a skill table that looked won).
  std::vector<int> hours_in_month(12, 0);
  for (int64_t stamp : stamps) ++hours_in_month[civil_from_hours(stamp).month - 1];
  for (int m = 0; m < 12; ++m)
    require(hours_in_month[m] >= kMinHoursPerMonth,
            "classical generator: the observed series has " + std::to_string(hours_in_month[m]) +
                " valid hours in calendar month " + std::to_string(m + 1) + ", fewer than " +
                std::to_string(kMinHoursPerMonth) + ": its seasonal cycle needs values in every month of the year");
  ClassicalGenerator g;
  g.mean_coefficients = least_squares(rows, values);
  std::vector<double> squares(values.size());
  double mean_square = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double r = values[i] - dot(g.mean_coefficients, rows[i]);
    squares[i] = r * r;
    mean_square += r * r / values.size();
  }
  g.variance_coefficients = least_squares(rows, squares);
  g.min_variance = 0.05 * mean_square;
  std::vector<double> z(observed.values_c.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0, t = 0; t < observed.values_c.size(); ++t) {
    if (std::isnan(observed.values_c[t])) continue;
    z[t] = (values[i] - g.mean_at(stamps[i])) / g.sd_at(stamps[i]);
    ++i;
  }
  g.phi = autocorrelation(z, 1);
  require(std::isfinite(g.phi) && std::abs(g.phi) < 1,
          "classical generator: the observed series has no usable hour-to-hour autocorrelation");
  return g;
}

std::vector<CelsiusSeries> generate_classical(const ClassicalGenerator& g, int64_t start_hour, int utc_offset_hours,
                                             int64_t hours, int members, uint64_t seed) {
  std::vector<CelsiusSeries> traces(static_cast<size_t>(members));
  const double innovation = std::sqrt(1 - g.phi * g.phi);
  for (int m = 0; m < members; ++m) {
    auto& trace = traces[m];
    trace.start_hour = start_hour;
    trace.utc_offset_hours = utc_offset_hours;
    trace.values_c.resize(static_cast<size_t>(hours));
    const uint64_t key = stream_key(seed ^ kClassicalStream, static_cast<uint64_t>(m));
    double z = standard_normal(key, 0);  // start in the stationary distribution
    for (int64_t t = 0; t < hours; ++t) {
      if (t > 0) z = g.phi * z + innovation * standard_normal(key, static_cast<uint64_t>(t));
      const int64_t local = start_hour + t + utc_offset_hours;
      trace.values_c[t] = g.mean_at(local) + g.sd_at(local) * z;
    }
  }
  return traces;
}

}  // namespace climvae::eval
