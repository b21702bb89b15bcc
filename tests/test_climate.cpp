// Extended statistics and the classical generator against series whose answers are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "eval/classical_generator.hpp"
#include "eval/climate.hpp"

using namespace climvae;
using namespace climvae::eval;

namespace {

const double kPi = std::acos(-1.0);
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> ar1(double phi, size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> x(n);
  x[0] = noise(random) / std::sqrt(1 - phi * phi);
  for (size_t t = 1; t < n; ++t) x[t] = phi * x[t - 1] + noise(random);
  return x;
}

DailyValues day(int month, double tmax, double tmin) { return {2022, month, tmax, tmin, (tmax + tmin) / 2}; }

}  // namespace

TEST(Climate, AutocorrelationFunctionOfAr1IsPhiToTheLag) {
  const auto x = ar1(0.9, 400000, 11);
  const auto r = autocorrelation_function(x, 72);
  ASSERT_EQ(r.size(), 73u);
  EXPECT_DOUBLE_EQ(r[0], 1.0);
  for (int lag : {1, 12, 48, 72}) {
    EXPECT_NEAR(r[lag], std::pow(0.9, lag), 0.02) << lag;
    EXPECT_DOUBLE_EQ(r[lag], autocorrelation(x, lag)) << "one definition for both";
  }
}

TEST(Climate, DailyValuesInLocalTimeAndOnlyFromCompleteDays) {
  // Two local days at UTC+2: the value is the local hour, so max 23, min 0, mean 11.5.
  CelsiusSeries s{parse_iso_hour("2022-07-01") - 2, 2, {}};
  for (int t = 0; t < 48; ++t) s.values_c.push_back(t % 24);
  s.values_c[30] = kNaN;  // the second day loses an hour
  const auto days = daily_values(s);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].month, 7);
  EXPECT_DOUBLE_EQ(days[0].tmax, 23);
  EXPECT_DOUBLE_EQ(days[0].tmin, 0);
  EXPECT_DOUBLE_EQ(days[0].tmean, 11.5);
  EXPECT_TRUE(std::isnan(days[1].tmax));
}

TEST(Climate, QuantilesAndSkewness) {
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4, 5}, 0.9), 4.6);
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4, 5}, 0.5), 3);
  EXPECT_NEAR(skewness({0, 0, 0, 0, 10}), 1.5, 1e-12);  // (m3 = 96, m2 = 16) -> 96 / 64
  EXPECT_NEAR(skewness({1, 2, 3}), 0, 1e-12);
  // An exponential sample has skewness 2.
  std::mt19937_64 random(3);
  std::exponential_distribution<double> e(1.0);
  std::vector<double> x(400000);
  for (double& v : x) v = e(random);
  EXPECT_NEAR(skewness(x), 2.0, 0.1);
}

TEST(Climate, RunLengthsAndSpellsInAConstructedSeries) {
  EXPECT_EQ(run_lengths({1, 1, 0, 1, -1, 1, 1, 1, 0, 0, 1}), (std::vector<int>{2, 1, 3, 1}));
  EXPECT_TRUE(run_lengths({0, -1, 0}).empty());

  SpellThresholds t;
  t.heat_tmax.fill(30);
  t.cold_tmin.fill(-5);
  // Member 1: a 3-day heat wave, a cold day, a 2-day run broken by a missing day, then 1 day:
  // only the first counts (a spell lasts at least 3 days). Member 2: one 20-day heat wave (the
  // last histogram bin) and a 3-day cold spell.
  std::vector<DailyValues> a{day(7, 31, 10), day(7, 32, 10), day(7, 33, 10), day(7, 20, -6), day(7, 31, 10),
                             day(7, 31, 10), day(7, kNaN, kNaN),   day(7, 35, 10), day(7, 29, 10)};
  std::vector<DailyValues> b(20, day(7, 31, 10));
  for (double tmin : {-6, -7, -8}) b.push_back(day(1, 0, tmin));
  const SpellSummary heat = heat_waves({a, b}, t);
  EXPECT_EQ(heat.lengths_sorted, (std::vector<double>{3, 20}));
  EXPECT_DOUBLE_EQ(heat.mean_length_days, 11.5);
  EXPECT_EQ(heat.max_length_days, 20);
  EXPECT_DOUBLE_EQ(heat.length_fraction[0], 0.0);
  EXPECT_DOUBLE_EQ(heat.length_fraction[2], 0.5);
  EXPECT_DOUBLE_EQ(heat.length_fraction[kMaxSpellLengthBin - 1], 0.5);
  EXPECT_DOUBLE_EQ(heat.day_fraction, 23.0 / 31.0);  // 31 valid days
  EXPECT_NEAR(heat.per_year, 2 / (31 / 365.25), 1e-9);
  const SpellSummary cold = cold_spells({a, b}, t);
  EXPECT_EQ(cold.lengths_sorted, (std::vector<double>{3}));

  // Thresholds: the 90th percentile of July's daily maxima 1..10 is 9.1 (type 7).
  std::vector<DailyValues> july;
  for (int i = 1; i <= 10; ++i) july.push_back(day(7, i, -i));
  const auto observed = spell_thresholds(july);
  EXPECT_DOUBLE_EQ(observed.heat_tmax[6], 9.1);
  EXPECT_DOUBLE_EQ(observed.cold_tmin[6], -9.1);
  EXPECT_TRUE(std::isnan(observed.heat_tmax[0]));
}

TEST(Climate, GevReturnLevelsOfExactQuantileSamples) {
  // Samples made of the GEV's own quantiles at plotting positions (i - 0.35) / n recover its
  // parameters and return levels, computed here from the closed-form quantile function.
  for (double shape : {-0.2, 0.0, 0.15}) {
    const Gev truth{30, 2, shape};
    std::vector<double> sample;
    const int n = 20000;
    for (int i = 1; i <= n; ++i) sample.push_back(gev_quantile(truth, (i - 0.35) / n));
    const Gev fit = fit_gev_lmoments(sample);
    EXPECT_NEAR(fit.location, 30, 0.02) << shape;
    EXPECT_NEAR(fit.scale, 2, 0.02) << shape;
    EXPECT_NEAR(fit.shape, shape, 0.01) << shape;
    const double expected50 =
        shape == 0 ? 30 - 2 * std::log(-std::log(0.98)) : 30 + 2 / shape * (1 - std::pow(-std::log(0.98), shape));
    EXPECT_NEAR(return_level(fit, 50), expected50, 0.05) << shape;
  }
}

TEST(Climate, GevOfTenAnnualMaximaMatchesAnIndependentComputation) {
  // Reference: sample L-moments from their definition as averages over all pairs and triples
  // of order statistics (Hosking 1990), then Hosking's GEV estimators, in Python:
  // l1 32.79, l2 1.29667, l3 0.15, k 0.0866833, alpha 2.01436, xi 31.7874, x(0.9) 35.9058, x(0.98) 38.4561.
  const Gev fit = fit_gev_lmoments({31.2, 33.5, 29.8, 35.1, 32.0, 30.4, 34.2, 36.8, 31.9, 33.0});
  EXPECT_NEAR(fit.shape, 0.0866833, 1e-6);
  EXPECT_NEAR(fit.scale, 2.014363, 1e-5);
  EXPECT_NEAR(fit.location, 31.787429, 1e-5);
  EXPECT_NEAR(return_level(fit, 10), 35.905755, 1e-5);
  EXPECT_NEAR(return_level(fit, 50), 38.456111, 1e-5);
  EXPECT_TRUE(std::isnan(fit_gev_lmoments({1, 2}).location));
  EXPECT_TRUE(std::isnan(fit_gev_lmoments({5, 5, 5, 5}).location));
}

TEST(Climate, AnnualExtremesAndTheirRanges) {
  // 40 one-year members whose hottest day is 30 + member % 8 and coldest -(member % 5).
  std::vector<std::vector<DailyValues>> members;
  for (int m = 0; m < 40; ++m) {
    std::vector<DailyValues> year(365, day(6, 20, 5));
    year[180].tmax = 30 + m % 8;
    year[10].tmin = -(m % 5);
    members.push_back(year);
  }
  const Extremes hot = annual_extremes(members, true, 10);
  ASSERT_EQ(hot.annual.size(), 40u);
  EXPECT_DOUBLE_EQ(hot.annual[3], 33);
  const Gev direct = fit_gev_lmoments(hot.annual);
  EXPECT_DOUBLE_EQ(hot.return_level[0], return_level(direct, 10));
  EXPECT_LT(hot.low[0], hot.return_level[0]);
  EXPECT_GT(hot.high[0], hot.return_level[0]);
  const Extremes cold = annual_extremes(members, false, 0);
  EXPECT_DOUBLE_EQ(cold.annual[4], -4);
  std::vector<double> negated;
  for (double v : cold.annual) negated.push_back(-v);
  EXPECT_DOUBLE_EQ(cold.return_level[1], -return_level(fit_gev_lmoments(negated), 50));
  EXPECT_LT(cold.return_level[1], -4) << "a 50-year minimum lies below most annual minima";
  EXPECT_TRUE(std::isnan(cold.low[0]));
  // A year with too few valid days gives no annual value.
  members[0].resize(300);
  EXPECT_EQ(annual_extremes(members, true, 0).annual.size(), 39u);
}

TEST(Climate, ClassicalGeneratorRecoversItsDiurnalSineAndAr1) {
  // Seasonal cycle + a diurnal sine of amplitude 4 peaking at local 15:00 + AR(1) noise (phi 0.9, sd 1.15).
  CelsiusSeries s{parse_iso_hour("2015-01-01"), 1, {}};
  const auto noise = ar1(0.9, 24 * 365 * 4, 5);
  for (size_t t = 0; t < noise.size(); ++t) {
    const int64_t local = s.start_hour + static_cast<int64_t>(t) + 1;
    const double doy = day_of_year(local);
    const int hour = civil_from_hours(local).hour;
    s.values_c.push_back(10 - 8 * std::cos(2 * kPi * doy / 365.25) + 4 * std::cos(2 * kPi * (hour - 15) / 24.0) +
                         0.5 * noise[t]);
  }
  const ClassicalGenerator g = fit_classical_generator(s);
  EXPECT_NEAR(g.phi, 0.9, 0.01);
  // On a day in April: hourly means have the sine's amplitude and phase (plus the seasonal
  // rise of about 0.07 °C between 03:00 and 15:00).
  const int64_t day = parse_iso_hour("2016-04-10");
  double high = -1e9, low = 1e9;
  int hour_of_max = -1;
  for (int h = 0; h < 24; ++h) {
    const double m = g.mean_at(day + h);
    if (m > high) high = m, hour_of_max = h;
    low = std::min(low, m);
  }
  EXPECT_NEAR(high - low, 8.07, 0.15);
  EXPECT_EQ(hour_of_max, 15);
  EXPECT_NEAR(g.sd_at(day + 3), 0.5 / std::sqrt(1 - 0.81), 0.1);

  const auto traces = generate_classical(g, parse_iso_hour("2022-01-01"), 1, 24 * 365, 3, 42);
  ASSERT_EQ(traces.size(), 3u);
  EXPECT_NEAR(autocorrelation(traces[1].values_c, 1), autocorrelation(s.values_c, 1), 0.01);
  EXPECT_EQ(traces[0].values_c, generate_classical(g, parse_iso_hour("2022-01-01"), 1, 24 * 365, 1, 42)[0].values_c)
      << "same seed, same traces";
  EXPECT_NE(traces[0].values_c, traces[1].values_c);

  CelsiusSeries too_short{0, 0, {1, 2, 3}};
  EXPECT_THROW(fit_classical_generator(too_short), Error);
  // 70 days: enough rows for the least squares, but the annual harmonics ran wild elsewhere.
  CelsiusSeries part_of_year{s.start_hour, 1, std::vector<double>(s.values_c.begin(), s.values_c.begin() + 70 * 24)};
  EXPECT_THROW(fit_classical_generator(part_of_year), Error);
}

TEST(Climate, StatisticsAndSkillFiles) {
  const auto observed = fit_classical_generator([] {
    CelsiusSeries s{parse_iso_hour("2015-01-01"), 0, {}};
    const auto noise = ar1(0.95, 24 * 365 * 3, 9);
    for (size_t t = 0; t < noise.size(); ++t)
      s.values_c.push_back(10 - 8 * std::cos(2 * kPi * t / (24 * 365.25)) + 2 * noise[t] / 3.2);
    return s;
  }());
  const auto obs_series = generate_classical(observed, parse_iso_hour("2015-01-01"), 0, 24 * 365 * 3, 1, 1);
  const auto days = daily_values(obs_series[0]);
  const auto thresholds = spell_thresholds(days);
  const Climatology climatology = climatology_of(obs_series[0]);
  const auto o = compute_climate_statistics(obs_series, thresholds, climatology, 0);
  const auto same = compute_climate_statistics(obs_series, thresholds, climatology, 3);
  const auto other = compute_climate_statistics(
      generate_classical(observed, parse_iso_hour("2022-01-01"), 0, 24 * 365, 4, 2), thresholds, climatology, 3);
  EXPECT_EQ(o.annual_max.annual.size(), 3u);
  EXPECT_EQ(o.acf.size(), static_cast<size_t>(kAcfMaxLagHours + 1));
  EXPECT_EQ(o.anomaly_acf.size(), static_cast<size_t>(kAcfMaxLagHours + 1));
  ASSERT_EQ(o.daily_anomaly_acf.size(), static_cast<size_t>(kAcfMaxLagDays + 1));
  // Hourly AR(1): adjacent 24-hour means correlate as sum phi^(j-i) over the two blocks over the
  // variance of one block (plus a little from the seasonal drift left inside each month).
  double covariance = 0, variance = 0;
  for (int i = 0; i < 24; ++i)
    for (int j = 0; j < 24; ++j)
      covariance += std::pow(observed.phi, 24 + j - i), variance += std::pow(observed.phi, std::abs(i - j));
  EXPECT_NEAR(o.daily_anomaly_acf[1], covariance / variance, 0.1);
  EXPECT_LT(std::abs(o.daily_anomaly_acf[10]), 0.15);

  const auto rows = skill_summary(o, same, other);
  int classical_errors = 0;
  for (const auto& r : rows) {
    EXPECT_NEAR(r.vae_error, 0, 1e-12) << r.statistic << ": identical series score zero";
    EXPECT_EQ(r.better(), r.classical_error > 0 ? "vae" : "tie") << r.statistic;
    classical_errors += r.classical_error > 0;
  }
  const SkillCount count = count_closer(rows);
  EXPECT_EQ(count.compared, static_cast<int>(rows.size()));
  EXPECT_EQ(count.vae, classical_errors);
  EXPECT_EQ(count.classical, 0);
  EXPECT_EQ(closer_line(count), "VAE closer on " + std::to_string(classical_errors) + " of " +
                                    std::to_string(rows.size()) + " statistics (classical closer on 0)");
  // The record noise: resamples of the observed record's own years scored as generators. Three
  // years give resamples; the same statistics as the observed score no noise at all.
  const auto resamples = year_resamples(obs_series[0], thresholds, climatology, 20);
  ASSERT_EQ(resamples.size(), 20u);
  const auto noisy = skill_summary(o, same, other, resamples);
  for (const auto& r : noisy) {
    EXPECT_TRUE(std::isnan(r.record_noise) || r.record_noise >= 0) << r.statistic;
    if (r.statistic == "heatwave_per_year" || r.statistic == "anomaly_acf_lag_24h" || r.statistic == "monthly_mean_mae")
      EXPECT_GT(r.record_noise, 0) << r.statistic << ": three years scatter";
  }
  const std::vector<ClimateStatistics> exact(3, o);
  for (const auto& r : skill_summary(o, same, other, exact))
    if (!std::isnan(r.observed)) EXPECT_EQ(r.record_noise, 0) << r.statistic;
  const SkillCount noise_count = count_closer(noisy);
  EXPECT_NE(closer_line(noise_count).find("within the observed record's noise on " +
                                          std::to_string(noise_count.within_noise)),
            std::string::npos);
  EXPECT_GT(noise_count.within_noise, 0);  // the identical VAE is within the noise wherever the classical is
  CelsiusSeries two_years = obs_series[0];
  two_years.values_c.resize(24 * 600);
  EXPECT_TRUE(year_resamples(two_years, thresholds, climatology, 20).empty());
  // Swapped, the classical generator wins the same rows.
  EXPECT_EQ(count_closer(skill_summary(o, other, same)).classical, classical_errors);
  // The rows the issue names: persistence, spells, extremes, monthly mean and sd.
  for (const char* name : {"anomaly_acf_lag_24h", "anomaly_acf_lag_48h", "anomaly_acf_lag_168h",
                           "daily_anomaly_acf_lag_1d", "daily_anomaly_acf_lag_2d", "daily_anomaly_acf_lag_3d",
                           "daily_anomaly_acf_lag_7d", "heatwave_per_year", "heatwave_mean_length",
                           "coldspell_per_year", "coldspell_mean_length", "annual_max_mean", "annual_min_mean",
                           "annual_max_rl10", "annual_min_rl10", "monthly_mean_mae", "monthly_sd_relative_mae"})
    EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [&](const SkillRow& r) { return r.statistic == name; }), 1)
        << name;
  std::ostringstream skill, statistics;
  write_skill_csv(skill, rows);
  EXPECT_EQ(skill.str().substr(0, skill.str().find('\n')),
            "statistic,unit,observed,vae,classical,vae_error,classical_error,better,record_noise");
  EXPECT_NE(skill.str().find("\nanomaly_acf_lag_48h,1,"), std::string::npos);
  EXPECT_EQ(skill.str().find("\nacf_lag_48h,1,"), std::string::npos);  // the raw ACF only at 1 h
  write_statistics_csv(statistics, {{"observed", &o}, {"vae", &other}}, thresholds);
  const std::string text = statistics.str();
  EXPECT_EQ(text.substr(0, text.find('\n')), "statistic,period,index,source,value");
  EXPECT_NE(text.find("\nacf,all,720,vae,"), std::string::npos);
  EXPECT_NE(text.find("\nanomaly_acf,all,720,vae,"), std::string::npos);
  EXPECT_NE(text.find("\ndaily_anomaly_acf,all,30,observed,"), std::string::npos);
  EXPECT_NE(text.find("\nannual_max_return_level_c,all,50,vae_high,"), std::string::npos);
  EXPECT_NE(text.find("\ndaily_range_quantile_c,JJA,99,observed,"), std::string::npos);
  EXPECT_NE(text.find("\nheatwave_length_fraction,all,15,vae,"), std::string::npos);
}
