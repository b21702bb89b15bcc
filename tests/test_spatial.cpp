// Correlation of daily-mean anomalies between cells, against series with a constructed
// correlation; great-circle distances; distance bins; the CSV and JSON layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "eval/spatial.hpp"

using namespace climvae;
using namespace climvae::eval;

namespace {

const double kPi = std::acos(-1.0);
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Hourly series from UTC day values: a smooth seasonal cycle (what the anomalies remove; a
// negative amplitude is the other hemisphere), a diurnal cycle (what the daily mean removes) and
// the day's anomaly.
CelsiusSeries hourly_from_days(int64_t start_hour, const std::vector<double>& day_anomaly, double season_amplitude) {
  CelsiusSeries s;
  s.start_hour = start_hour;
  for (size_t d = 0; d < day_anomaly.size(); ++d) {
    const double day = start_hour / 24.0 + static_cast<double>(d);
    for (int h = 0; h < 24; ++h)
      s.values_c.push_back(10 + season_amplitude * std::cos(2 * kPi * (day - 200) / 365.2425) +
                           4 * std::sin(2 * kPi * h / 24) + day_anomaly[d]);
  }
  return s;
}

// Pearson correlation of x and y.
double plain_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t d = 0; d < x.size(); ++d) mx += x[d] / x.size(), my += y[d] / y.size();
  double xy = 0, xx = 0, yy = 0;
  for (size_t d = 0; d < x.size(); ++d)
    xy += (x[d] - mx) * (y[d] - my), xx += (x[d] - mx) * (x[d] - mx), yy += (y[d] - my) * (y[d] - my);
  return xy / std::sqrt(xx * yy);
}

// The same of the day values with each calendar month's mean removed (the earlier definition).
double monthly_anomaly_correlation(int64_t start_hour, const std::vector<double>& x, const std::vector<double>& y) {
  auto anomalies = [&](const std::vector<double>& v) {
    double sum[12] = {}, count[12] = {};
    std::vector<int> month(v.size());
    for (size_t d = 0; d < v.size(); ++d) {
      month[d] = civil_from_hours(start_hour + static_cast<int64_t>(d) * 24).month - 1;
      sum[month[d]] += v[d], count[month[d]] += 1;
    }
    std::vector<double> a(v.size());
    for (size_t d = 0; d < v.size(); ++d) a[d] = v[d] - sum[month[d]] / count[month[d]];
    return a;
  };
  return plain_correlation(anomalies(x), anomalies(y));
}

// Daily means of a series built by hourly_from_days.
std::vector<double> day_means(const CelsiusSeries& s) {
  std::vector<double> out(s.values_c.size() / 24, 0.0);
  for (size_t t = 0; t < s.values_c.size(); ++t) out[t / 24] += s.values_c[t] / 24;
  return out;
}

// Day values x and y = rho x + sqrt(1 - rho^2) e, both standard normal: correlation rho.
void correlated_days(double rho, size_t days, uint64_t seed, std::vector<double>& x, std::vector<double>& y) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  x.resize(days), y.resize(days);
  for (size_t d = 0; d < days; ++d) {
    x[d] = noise(random);
    y[d] = rho * x[d] + std::sqrt(1 - rho * rho) * noise(random);
  }
}

const int64_t kStart = parse_iso_hour("2013-03-01T00:00");

}  // namespace

TEST(SpatialCorrelation, ConstructedCorrelationIsRecovered) {
  for (double rho : {0.0, 0.5, 0.97}) {
    std::vector<double> x, y;
    correlated_days(rho, 4 * 365, 11, x, y);
    // Both cells share a strong seasonal cycle: without the monthly means removed it would
    // dominate and the correlation would be near 1 whatever rho.
    const CelsiusSeries a = hourly_from_days(kStart, x, 12), b = hourly_from_days(kStart, y, 8);
    const double r = daily_anomaly_correlation(a, b);
    // The fitted cycle also takes the day values' own projection on it: 7 of 1460 degrees of freedom.
    EXPECT_NEAR(r, plain_correlation(x, y), 0.01) << rho;
    EXPECT_NEAR(r, rho, 0.05) << rho;
  }
}

// Unrelated weather in opposite hemispheres: calendar-month means leave each month's seasonal
// slope in the anomalies, and the two slopes have opposite signs; the seasonal cycle does not.
TEST(SpatialCorrelation, OppositeSeasonsAreNotSharedWeather) {
  std::vector<double> x, y;
  correlated_days(0.0, 4 * 365, 17, x, y);
  const CelsiusSeries north = hourly_from_days(kStart, x, 10), south = hourly_from_days(kStart, y, -8);
  EXPECT_NEAR(daily_anomaly_correlation(north, south), plain_correlation(x, y), 0.01);
  EXPECT_LT(std::abs(daily_anomaly_correlation(north, south)), 0.06);
  EXPECT_LT(monthly_anomaly_correlation(kStart, day_means(north), day_means(south)), -0.1);
  // Same hemisphere: month means would make unrelated weather look shared.
  const CelsiusSeries neighbour = hourly_from_days(kStart, y, 8);
  EXPECT_LT(std::abs(daily_anomaly_correlation(north, neighbour)), 0.06);
  EXPECT_GT(monthly_anomaly_correlation(kStart, day_means(north), day_means(neighbour)), 0.1);
}

TEST(SpatialCorrelation, KnownAnswersAndMissingDays) {
  std::vector<double> x, y;
  correlated_days(0.6, 400, 5, x, y);
  const CelsiusSeries a = hourly_from_days(kStart, x, 10);
  std::vector<double> negated(x);
  for (double& v : negated) v = -v;
  EXPECT_NEAR(daily_anomaly_correlation(a, a), 1.0, 1e-12);
  EXPECT_NEAR(daily_anomaly_correlation(a, hourly_from_days(kStart, negated, 3)), -1.0, 1e-12);
  // A cell with no day-to-day weather has no anomaly spread: no correlation.
  EXPECT_TRUE(std::isnan(daily_anomaly_correlation(a, hourly_from_days(kStart, std::vector<double>(400, 0.0), 3))));

  // A day with a missing hour is left out, whatever its other hours say.
  CelsiusSeries b = hourly_from_days(kStart, y, 10);
  const double complete = daily_anomaly_correlation(a, b);
  b.values_c[24 * 7 + 3] = kNaN;
  const double missing_hour = daily_anomaly_correlation(a, b);
  EXPECT_NE(missing_hour, complete);
  EXPECT_NEAR(missing_hour, complete, 0.01);
  for (int h = 0; h < 24; ++h)
    if (h != 3) b.values_c[24 * 7 + h] += 50;
  EXPECT_EQ(daily_anomaly_correlation(a, b), missing_hour);

  // Series on different hours cannot be compared.
  CelsiusSeries shifted = b;
  shifted.start_hour += 1;
  EXPECT_THROW(daily_anomaly_correlation(a, shifted), Error);
}

TEST(SpatialCorrelation, EnsembleAveragesMemberByMember) {
  std::vector<double> x1, y1, x2, y2;
  correlated_days(0.2, 365, 1, x1, y1);
  correlated_days(0.8, 365, 2, x2, y2);
  const std::vector<CelsiusSeries> a{hourly_from_days(kStart, x1, 5), hourly_from_days(kStart, x2, 5)};
  const std::vector<CelsiusSeries> b{hourly_from_days(kStart, y1, 5), hourly_from_days(kStart, y2, 5)};
  const double r1 = daily_anomaly_correlation(a[0], b[0]), r2 = daily_anomaly_correlation(a[1], b[1]);
  EXPECT_NEAR(daily_anomaly_correlation(a, b), (r1 + r2) / 2, 1e-12);
  // Member 1 of one cell against member 2 of the other would be uncorrelated: not what is asked.
  EXPECT_GT(daily_anomaly_correlation(a, b), 0.4);
  EXPECT_THROW(daily_anomaly_correlation(a, {b[0]}), Error);

  // Every pair at once: the same numbers, pairs in the order (0,1), (0,2), (1,2).
  std::vector<double> x3, y3;
  correlated_days(-0.5, 365, 3, x3, y3);
  const std::vector<CelsiusSeries> c{hourly_from_days(kStart, x3, 5), hourly_from_days(kStart, y3, 5)};
  const auto pairs = pairwise_daily_anomaly_correlations({a, b, c});
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_DOUBLE_EQ(pairs[0], daily_anomaly_correlation(a, b));
  EXPECT_DOUBLE_EQ(pairs[1], daily_anomaly_correlation(a, c));
  EXPECT_DOUBLE_EQ(pairs[2], daily_anomaly_correlation(b, c));
  EXPECT_THROW(pairwise_daily_anomaly_correlations({a, {b[0]}}), Error);
  EXPECT_TRUE(pairwise_daily_anomaly_correlations({}).empty());
}

TEST(SpatialCorrelation, GreatCircleDistances) {
  EXPECT_NEAR(great_circle_km(0, 0, 0, 1), 2 * kPi * 6371 / 360, 1e-9);
  EXPECT_NEAR(great_circle_km(10, 20, 10, 20), 0, 1e-12);
  EXPECT_NEAR(great_circle_km(90, 0, -90, 0), kPi * 6371, 1e-6);
  EXPECT_NEAR(great_circle_km(48.8566, 2.3522, 52.52, 13.405), 878, 2);  // Paris - Berlin
  EXPECT_NEAR(great_circle_km(0, 179.5, 0, -179.5), 2 * kPi * 6371 / 360, 1e-6);  // across the date line
}

TEST(SpatialCorrelation, DistanceBinsAndFiles) {
  std::vector<PairCorrelation> pairs{{0, 1, 0.0, 0.9, 0.8, kNaN}, {0, 2, 6.0, 0.5, 0.7, 0.1}, {1, 2, 10.0, 0.3, 0.1, 0.0}};
  const auto bins = bin_by_distance(pairs, 2);
  ASSERT_EQ(bins.size(), 2u);
  EXPECT_EQ(bins[0].pairs, 1);
  EXPECT_EQ(bins[1].pairs, 2);  // the largest distance falls in the last bin
  EXPECT_DOUBLE_EQ(bins[1].from_km, 5);
  EXPECT_DOUBLE_EQ(bins[1].to_km, 10);
  EXPECT_DOUBLE_EQ(bins[0].observed, 0.9);
  EXPECT_TRUE(std::isnan(bins[0].classical));
  EXPECT_DOUBLE_EQ(bins[1].observed, 0.4);
  EXPECT_DOUBLE_EQ(bins[1].generated, 0.4);
  EXPECT_DOUBLE_EQ(bins[1].classical, 0.05);
  EXPECT_THROW(bin_by_distance(pairs, 0), Error);

  std::ostringstream csv, bins_csv, json, table;
  write_pairs_csv(csv, pairs, {1, 2, 3}, {4, 5, 6});
  write_bins_csv(bins_csv, bins);
  write_spatial_json(json, pairs, bins);
  print_spatial_table(table, pairs, bins, 3);
  EXPECT_EQ(csv.str().substr(0, csv.str().find('\n')),
            "cell_a,cell_b,lat_a,lon_a,lat_b,lon_b,distance_km,observed,generated,difference,classical");
  EXPECT_NE(csv.str().find("\n0,1,1,4,2,5,0,0.9,0.8,-0.1,\n"), std::string::npos) << csv.str();
  EXPECT_NE(bins_csv.str().find("\n5,10,2,0.4,0.4,0.05\n"), std::string::npos) << bins_csv.str();
  EXPECT_NE(json.str().find("\"classical\": null"), std::string::npos) << json.str();
  EXPECT_EQ(json.str().find("nan"), std::string::npos);
  EXPECT_NE(table.str().find("distance_km"), std::string::npos) << table.str();
  std::ostringstream binned;
  print_spatial_table(binned, pairs, bins, 2);  // more pairs than listed: the bins
  EXPECT_NE(binned.str().find("from_km"), std::string::npos) << binned.str();
}
