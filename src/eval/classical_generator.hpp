// The classical weather generator the VAE is scored against: a harmonic seasonal and diurnal
// mean and standard deviation with AR(1) hourly anomalies (in the spirit of Richardson 1981
// and its hourly descendants). Fitted by least squares to the observed series in local solar
// time; what the VAE adds is whatever this baseline misses.
#pragma once
#include <cstdint>
#include <vector>

#include "eval/statistics.hpp"

namespace climvae::eval {

// x(t) = mean(t) + sd(t) * z(t),  z(t) = phi * z(t-1) + sqrt(1 - phi^2) * N(0, 1),
// mean and sd^2 both linear in classical_basis(t).
struct ClassicalGenerator {
  std::vector<double> mean_coefficients;
  std::vector<double> variance_coefficients;
  double phi = 0;          // lag-1 autocorrelation of the standardised anomalies
  double min_variance = 0;  // floor for the fitted variance (positive everywhere)
  double mean_at(int64_t local_hour) const;
  double sd_at(int64_t local_hour) const;
};

// Basis at a local hour stamp (hours since 1970 in local time): 1; cos/sin of 1..3 times the
// annual angle; cos/sin of 1..2 times the daily angle, each also multiplied by cos and sin of
// the annual angle (a diurnal cycle whose amplitude and phase change with the season). 19 terms.
std::vector<double> classical_basis(int64_t local_hour);

// Throws climvae::Error when the series is too short or too gappy to determine the fit.
ClassicalGenerator fit_classical_generator(const CelsiusSeries& observed);

// `members` traces of `hours` hours from start_hour (UTC); counter-based random numbers
// (engine/random.hpp), so the same seed gives the same traces everywhere.
std::vector<CelsiusSeries> generate_classical(const ClassicalGenerator& generator, int64_t start_hour,
                                             int utc_offset_hours, int64_t hours, int members, uint64_t seed);

}  // namespace climvae::eval
