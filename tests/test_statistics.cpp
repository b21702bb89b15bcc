// Fidelity statistics against series whose answers are known in closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "common/calendar.hpp"
#include "eval/statistics.hpp"

using namespace climvae;
using namespace climvae::eval;

namespace {

const double kPi = std::acos(-1.0);

int64_t hour_of(const char* iso) { return parse_iso_hour(iso); }

// A series of `hours` values starting at `start` whose value is f(local hour stamp).
template <typename F>
CelsiusSeries series_of(int64_t start, int64_t hours, int utc_offset, F f) {
  CelsiusSeries s;
  s.start_hour = start;
  s.utc_offset_hours = utc_offset;
  s.values_c.resize(static_cast<size_t>(hours));
  for (int64_t t = 0; t < hours; ++t) s.values_c[t] = f(start + t + utc_offset);
  return s;
}

// Sine of amplitude A whose maximum falls at local hour 15.
double diurnal_sine(int64_t local_hour_stamp, double amplitude) {
  const int hour = civil_from_hours(local_hour_stamp).hour;
  return amplitude * std::cos(2 * kPi * (hour - 15) / 24.0);
}

std::vector<double> ar1(double phi, size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> x(n);
  x[0] = noise(random) / std::sqrt(1 - phi * phi);  // start in the stationary distribution
  for (size_t t = 1; t < n; ++t) x[t] = phi * x[t - 1] + noise(random);
  return x;
}

const ComparisonRow& row_of(const Comparison& c, const std::string& statistic, const std::string& period) {
  for (const auto& r : c.rows)
    if (r.statistic == statistic && r.period == period) return r;
  throw std::runtime_error("no row " + statistic + " " + period);
}

}  // namespace

TEST(Statistics, Ar1AutocorrelationMatchesPhiToTheLag) {
  const auto x = ar1(0.9, 400000, 7);
  EXPECT_NEAR(autocorrelation(x, 1), 0.9, 0.01);
  EXPECT_NEAR(autocorrelation(x, 24), std::pow(0.9, 24), 0.02);
  EXPECT_NEAR(autocorrelation(x, 48), std::pow(0.9, 48), 0.02);

  // Members: per-member values averaged; missing values are skipped pairwise.
  CelsiusSeries a{0, 0, ar1(0.9, 200000, 1)}, b{0, 0, ar1(0.9, 200000, 2)};
  for (size_t t = 0; t < a.values_c.size(); t += 97) a.values_c[t] = std::numeric_limits<double>::quiet_NaN();
  const SeriesStatistics s = compute_statistics({a, b}, climatology_of(b));
  EXPECT_NEAR(s.raw_autocorrelation, 0.9, 0.01);
  EXPECT_NEAR(s.anomaly_autocorrelation[0], std::pow(0.9, 24), 0.02);
}

// Daily means of an hourly AR(1) with coefficient phi: for lags of L >= 1 days
//   r(L) = phi^(24 L) * (sum_j phi^j)(sum_i phi^-i) / sum_ij phi^|i-j|   (i, j = 0..23).
double daily_mean_ar1_autocorrelation(double phi, int lag_days) {
  double ahead = 0, behind = 0, variance = 0;
  for (int i = 0; i < 24; ++i) {
    ahead += std::pow(phi, i), behind += std::pow(phi, -i);
    for (int j = 0; j < 24; ++j) variance += std::pow(phi, std::abs(i - j));
  }
  return std::pow(phi, 24 * lag_days) * ahead * behind / variance;
}

TEST(Statistics, AnomalyAutocorrelationSeesThroughTheDiurnalAndSeasonalCycles) {
  // An AR(1) (phi 0.98, sd 5 °C) on top of a seasonal step of +-12 °C per month and a diurnal
  // sine of 2 x 6 °C whose phase changes with the month: the raw autocorrelation is the cycles',
  // the anomaly autocorrelation (month x hour climatology removed) the AR(1)'s.
  const double phi = 0.98;
  const auto noise = ar1(phi, 24 * 365 * 40, 11);
  const auto cycle = [](int64_t local) {
    const CivilDate d = civil_from_hours(local);
    return 10 + 12 * std::sin(2 * kPi * (d.month - 4) / 12.0) + 6 * std::cos(2 * kPi * (d.hour - 14 - d.month % 3) / 24.0);
  };
  const int64_t start = hour_of("1990-01-01");
  CelsiusSeries observed = series_of(start, static_cast<int64_t>(noise.size()), 1, cycle);
  for (size_t t = 0; t < noise.size(); ++t) observed.values_c[t] += noise[t];
  const SeriesStatistics s = compute_statistics(observed);

  // The raw autocorrelation is the cycles' (about 0.92 and 0.79), not the weather's (0.62, 0.03).
  EXPECT_GT(autocorrelation(observed.values_c, 24), std::pow(phi, 24) + 0.25);
  EXPECT_GT(autocorrelation(observed.values_c, 168), 0.7);
  for (size_t k = 0; k < kAnomalyLagsHours.size(); ++k)
    EXPECT_NEAR(s.anomaly_autocorrelation[k], std::pow(phi, kAnomalyLagsHours[k]), 0.03)
        << "lag " << kAnomalyLagsHours[k] << " h";
  for (size_t k = 0; k < kDailyAnomalyLagsDays.size(); ++k)
    EXPECT_NEAR(s.daily_anomaly_autocorrelation[k], daily_mean_ar1_autocorrelation(phi, kDailyAnomalyLagsDays[k]),
                0.03)
        << "lag " << kDailyAnomalyLagsDays[k] << " d";
  EXPECT_GT(s.raw_autocorrelation, 0.98);

  // Generated members are measured against the OBSERVED climatology: a member with the same
  // weather but no diurnal cycle keeps the observed cycle as a (persistent) anomaly, so its
  // 24-hour anomaly autocorrelation rises towards 1 instead of matching.
  CelsiusSeries flat = observed;
  for (size_t t = 0; t < noise.size(); ++t) {
    const CivilDate d = civil_from_hours(start + static_cast<int64_t>(t) + 1);
    flat.values_c[t] = 10 + 12 * std::sin(2 * kPi * (d.month - 4) / 12.0) + noise[t];
  }
  const Climatology reference = climatology_of(observed);
  EXPECT_GT(compute_statistics({flat}, reference).anomaly_autocorrelation[0], s.anomaly_autocorrelation[0] + 0.1);
  EXPECT_NEAR(compute_statistics({observed}, reference).anomaly_autocorrelation[0], s.anomaly_autocorrelation[0], 1e-12);

  // Daily means: local days, and NaN unless all 24 hours are there.
  CelsiusSeries two_days{hour_of("2021-03-01") - 1, 1, std::vector<double>(48, 0.0)};  // local midnight start
  two_days.values_c[30] = std::numeric_limits<double>::quiet_NaN();
  const Climatology zero;  // all means 0
  for (int h = 0; h < 24; ++h) two_days.values_c[h] = h;
  const auto days = daily_mean_anomalies(two_days, zero);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_DOUBLE_EQ(days[0], 11.5);
  EXPECT_TRUE(std::isnan(days[1]));
}

TEST(Statistics, DiurnalAmplitudeAndHourOfMaximumInLocalTime) {
  const double A = 3.5;
  const int offset = -7;  // Phoenix: local 15:00 is 22:00 UTC
  const CelsiusSeries s =
      series_of(hour_of("2021-01-01"), 24 * 365, offset, [&](int64_t local) { return 20 + diurnal_sine(local, A); });
  const SeriesStatistics stats = compute_statistics(s);
  for (int season = 0; season < kSeasons; ++season) {
    EXPECT_NEAR(stats.diurnal[season].amplitude, 2 * A, 1e-3) << season_name(season);
    EXPECT_EQ(stats.diurnal[season].hour_of_max, 15) << season_name(season);
  }
  // The same values read as UTC peak at 22.
  CelsiusSeries as_utc = s;
  as_utc.utc_offset_hours = 0;
  EXPECT_EQ(compute_statistics(as_utc).diurnal[JJA].hour_of_max, 22);
}

TEST(Statistics, MonthlyMeansAndSpreadOfAKnownSeasonalCycle) {
  const double A = 2.0;
  // Each local month has a constant level plus a whole number of diurnal sines (mean 0, sd A/sqrt 2).
  const auto level = [](int month) { return 10.0 + 12.0 * std::sin(2 * kPi * (month - 4) / 12.0); };
  const int offset = 5;
  const CelsiusSeries s = series_of(hour_of("2021-01-01") - offset, 24 * 365, offset, [&](int64_t local) {
    return level(civil_from_hours(local).month) + diurnal_sine(local, A);
  });
  const SeriesStatistics stats = compute_statistics(s);
  for (int m = 1; m <= 12; ++m) {
    EXPECT_NEAR(stats.months[m - 1].mean, level(m), 1e-9) << "month " << m;
    EXPECT_NEAR(stats.months[m - 1].sd, A / std::sqrt(2.0), 1e-9) << "month " << m;
    EXPECT_EQ(stats.months[m - 1].count, 24 * days_in_month(2021, m));
  }
  EXPECT_EQ(season_of_month(12), DJF);
  EXPECT_EQ(season_of_month(2), DJF);
  EXPECT_EQ(season_of_month(3), MAM);
  EXPECT_EQ(season_of_month(8), JJA);
  EXPECT_EQ(season_of_month(11), SON);
}

TEST(Statistics, WassersteinOfShiftedAndIdenticalSamples) {
  std::vector<double> a, b, small;
  for (int i = 0; i < 1000; ++i) a.push_back(std::sin(i * 0.37) * 10);
  std::sort(a.begin(), a.end());
  for (double v : a) b.push_back(v + 1.25);
  EXPECT_NEAR(wasserstein1_sorted(a, b), 1.25, 1e-12);
  EXPECT_DOUBLE_EQ(wasserstein1_sorted(a, a), 0.0);
  // Different sizes: {0, 1} against {0, 0, 1, 1, ...} is the same distribution.
  const std::vector<double> two{0, 1}, six{0, 0, 0, 1, 1, 1};
  EXPECT_NEAR(wasserstein1_sorted(two, six), 0.0, 1e-15);
  // {0} against {0, 1, 2}: quantiles differ by 1 on (1/3, 2/3] and 2 on (2/3, 1].
  EXPECT_NEAR(wasserstein1_sorted({0}, {0, 1, 2}), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(wasserstein1_sorted({}, a)));
}

// The persistence of a pure diurnal sine has no anomalies (NaN): these tests give it numbers.
SeriesStatistics with_persistence(SeriesStatistics s) {
  s.anomaly_autocorrelation = {0.69, 0.47, 0.10};
  s.daily_anomaly_autocorrelation = {0.80, 0.56, 0.40, 0.11};
  return s;
}

TEST(Statistics, ComparisonFlipsAtTheTolerances) {
  const CelsiusSeries observed =
      series_of(hour_of("2021-01-01"), 24 * 365, 0, [](int64_t local) { return 20 + diurnal_sine(local, 4.0); });
  const SeriesStatistics o = with_persistence(compute_statistics(observed));

  const auto shifted_by = [&](double shift, double scale) {
    CelsiusSeries g = observed;
    for (double& v : g.values_c) v = 20 + (v - 20) * scale + shift;
    return with_persistence(compute_statistics(std::vector<CelsiusSeries>{g, g}, climatology_of(observed)));
  };
  const Tolerances tol;
  {
    const Comparison c = compare(o, shifted_by(0.99, 1.0), tol);
    EXPECT_TRUE(row_of(c, "monthly_mean_c", "07").pass);
    EXPECT_NEAR(row_of(c, "wasserstein1_c", "07").difference, 0.99, 1e-9);
    EXPECT_EQ(c.checks(), 12 + 12 + 4 + 3 + 4);
    EXPECT_EQ(c.passed(), c.checks());
  }
  EXPECT_FALSE(row_of(compare(o, shifted_by(1.01, 1.0), tol), "monthly_mean_c", "07").pass);
  EXPECT_FALSE(row_of(compare(o, shifted_by(-1.01, 1.0), tol), "monthly_mean_c", "01").pass);
  // Spread and diurnal amplitude scale together: 1.14 passes both, 1.16 fails the amplitude
  // (15 %) only, 1.21 fails both.
  {
    const Comparison c = compare(o, shifted_by(0, 1.14), tol);
    EXPECT_TRUE(row_of(c, "monthly_sd_c", "03").pass);
    EXPECT_TRUE(row_of(c, "diurnal_amplitude_c", "JJA").pass);
    EXPECT_NEAR(row_of(c, "diurnal_amplitude_c", "JJA").difference, 0.14, 1e-9);
  }
  {
    const Comparison c = compare(o, shifted_by(0, 1.16), tol);
    EXPECT_TRUE(row_of(c, "monthly_sd_c", "03").pass);
    EXPECT_FALSE(row_of(c, "diurnal_amplitude_c", "JJA").pass);
  }
  EXPECT_FALSE(row_of(compare(o, shifted_by(0, 1.21), tol), "monthly_sd_c", "03").pass);
  EXPECT_FALSE(row_of(compare(o, shifted_by(0, 0.79), tol), "monthly_sd_c", "03").pass);

  // Persistence: set the generated values directly around the 0.20 and 0.25 bounds.
  SeriesStatistics g = o;
  g.anomaly_autocorrelation[0] = o.anomaly_autocorrelation[0] + 0.199;
  g.anomaly_autocorrelation[1] = o.anomaly_autocorrelation[1] - 0.201;
  g.daily_anomaly_autocorrelation[2] = o.daily_anomaly_autocorrelation[2] - 0.249;
  g.daily_anomaly_autocorrelation[3] = o.daily_anomaly_autocorrelation[3] + 0.251;
  g.raw_autocorrelation = o.raw_autocorrelation + 0.5;  // information only
  const Comparison c = compare(o, g, tol);
  EXPECT_TRUE(row_of(c, "anomaly_autocorrelation", "lag_24h").pass);
  EXPECT_FALSE(row_of(c, "anomaly_autocorrelation", "lag_48h").pass);
  EXPECT_TRUE(row_of(c, "daily_anomaly_autocorrelation", "lag_3d").pass);
  EXPECT_FALSE(row_of(c, "daily_anomaly_autocorrelation", "lag_7d").pass);
  EXPECT_FALSE(row_of(c, "autocorrelation", "lag_1h").checked);
  EXPECT_EQ(c.passed(), c.checks() - 2);

  // A missing statistic never passes.
  SeriesStatistics empty_month = o;
  empty_month.months[5].mean = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(row_of(compare(o, empty_month, tol), "monthly_mean_c", "06").pass);
}

TEST(Statistics, TableCsvAndJsonOutputs) {
  const CelsiusSeries observed =
      series_of(hour_of("2021-01-01"), 24 * 365, 0, [](int64_t local) { return 20 + diurnal_sine(local, 4.0); });
  const SeriesStatistics o = with_persistence(compute_statistics(observed));
  SeriesStatistics g = o;
  g.anomaly_autocorrelation[0] += 0.5;
  const Comparison c = compare(o, g);

  std::ostringstream table, csv, json;
  print_table(table, c);
  write_csv(csv, c);
  write_json(json, c);
  EXPECT_NE(table.str().find("fidelity: 34 of 35 checks within tolerance"), std::string::npos) << table.str();

  std::istringstream lines(csv.str());
  std::string header, line;
  std::getline(lines, header);
  EXPECT_EQ(header, "statistic,period,observed,generated,difference,tolerance,pass");
  size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 6) << line;
  }
  EXPECT_EQ(count, c.rows.size());
  EXPECT_NE(csv.str().find("monthly_mean_c,01,20,20,0,1,true"), std::string::npos) << csv.str();
  EXPECT_NE(csv.str().find("\nautocorrelation,lag_1h,"), std::string::npos);
  EXPECT_NE(csv.str().find("\nanomaly_autocorrelation,lag_168h,"), std::string::npos);
  EXPECT_NE(csv.str().find("\ndaily_anomaly_autocorrelation,lag_7d,"), std::string::npos);
  EXPECT_NE(csv.str().find(",false\n"), std::string::npos);

  EXPECT_NE(json.str().find("\"checks\": 35"), std::string::npos) << json.str();
  EXPECT_NE(json.str().find("\"passed\": 34"), std::string::npos);
  EXPECT_NE(json.str().find("\"pass\": null"), std::string::npos);  // informational rows
  EXPECT_EQ(json.str().find("nan"), std::string::npos);
}
