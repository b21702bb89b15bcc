// What impact modellers look at beyond the fidelity checks: skewness, the autocorrelation
// function out to 30 days, daily maximum/minimum/range distributions, heat waves and cold
// spells, annual extremes with GEV return levels, and a skill summary that puts two generators
// (the VAE and the classical one) side by side. Pure functions on CelsiusSeries, like
// statistics.hpp; the columns of the CSV files are documented in docs/evaluation.md.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "eval/statistics.hpp"

namespace climvae::eval {

constexpr int kAcfMaxLagHours = 720;   // 30 days
constexpr int kAcfMaxLagDays = 30;
constexpr int kMinSpellDays = 3;        // a heat wave or cold spell lasts at least 3 days
constexpr int kMaxSpellLengthBin = 15;  // length histograms: 1..14 days, then ">= 15"
constexpr std::array<double, 2> kReturnPeriodsYears{10, 50};
constexpr size_t kTenYearReturnLevel = 0;  // index of 10 in kReturnPeriodsYears

// One local day. A day counts only when all 24 of its hours are valid; otherwise NaN.
struct DailyValues {
  int year = 0, month = 0;
  double tmax = 0, tmin = 0, tmean = 0;
};
std::vector<DailyValues> daily_values(const CelsiusSeries& series);

// Linear-interpolation quantile (R type 7) of a sorted sample, p in [0, 1]; NaN when empty.
double quantile_sorted(const std::vector<double>& sorted, double p);
// Population skewness m3 / m2^1.5 (NaN with fewer than 3 values or no spread).
double skewness(const std::vector<double>& values);

// Heat-wave and cold-spell thresholds: per calendar month (index month - 1) the 90th
// percentile of the observed daily maximum and the 10th percentile of the daily minimum. A heat
// wave is a run of at least kMinSpellDays days whose maximum is above the month's threshold; a
// cold spell one of days whose minimum is below it.
struct SpellThresholds {
  std::array<double, 12> heat_tmax{};
  std::array<double, 12> cold_tmin{};
};
SpellThresholds spell_thresholds(const std::vector<DailyValues>& observed_days);

// Lengths of the runs of consecutive days with flag 1; 0 and missing (-1) days end a run.
std::vector<int> run_lengths(const std::vector<int>& flags);

struct SpellSummary {
  // Only runs of at least kMinSpellDays count.
  double per_year = 0;          // runs per 365.25 valid days
  double day_fraction = 0;      // fraction of valid days inside a run
  double mean_length_days = 0;  // NaN without runs
  int max_length_days = 0;
  std::array<double, kMaxSpellLengthBin> length_fraction{};  // [i]: share of runs i+1 days long (last: >=; 0 below kMinSpellDays)
  std::vector<double> lengths_sorted;                          // every run length (days), sorted
};
// Runs of `days` of each member (members end runs) where exceed(day) holds.
SpellSummary heat_waves(const std::vector<std::vector<DailyValues>>& members, const SpellThresholds& t);
SpellSummary cold_spells(const std::vector<std::vector<DailyValues>>& members, const SpellThresholds& t);

// Generalised extreme value distribution in Hosking's parametrisation:
//   x(F) = location + scale / shape * (1 - (-ln F)^shape)   (shape -> 0: Gumbel),
// shape > 0 bounds the upper tail (scipy.stats.genextreme's `c`; Coles' xi is -shape).
struct Gev {
  double location = 0, scale = 0, shape = 0;
};
// Fit by L-moments (Hosking 1990; the shape from Hosking, Wallis & Wood 1985's rational
// approximation): closed form, no optimiser, stable on the 8-10 annual values a station
// record gives. NaN parameters with fewer than 3 values or no spread.
Gev fit_gev_lmoments(std::vector<double> sample);
double gev_quantile(const Gev& gev, double probability);
// The level exceeded on average once in `years` years: x(1 - 1/years).
double return_level(const Gev& gev, double years);

// Annual maxima or minima (one per calendar year with at least 330 valid days) with their GEV.
// Minima are fitted as maxima of the negated values and negated back.
struct Extremes {
  std::vector<double> annual;     // in year order, members one after another
  Gev gev;                        // of the maxima, or of the negated minima
  std::array<double, kReturnPeriodsYears.size()> return_level{};
  // 5-95 % range of the return level estimated from `interval_sample` years drawn (with
  // replacement, fixed seed) from `annual`: how far a record as long as the observed one may
  // stray. NaN for the observed series.
  std::array<double, kReturnPeriodsYears.size()> low{}, high{};
};
Extremes annual_extremes(const std::vector<std::vector<DailyValues>>& members, bool maxima, int interval_sample);

// Everything above for one source (observed, VAE or classical), members pooled.
struct ClimateStatistics {
  SeriesStatistics basic;                                // monthly, diurnal, fidelity lags
  std::array<double, 12> skewness{};                     // per month, hourly values
  std::vector<double> acf;                               // lags 0..kAcfMaxLagHours, per member then averaged
  // The same of the anomalies from the observed (month x hour) climatology: the persistence of
  // the weather, without the diurnal and seasonal cycles that dominate the raw ACF.
  std::vector<double> anomaly_acf;
  // Daily means of those anomalies, lags 0..kAcfMaxLagDays: the day-to-day (synoptic)
  // persistence that heat-wave lengths depend on.
  std::vector<double> daily_anomaly_acf;
  std::array<std::vector<double>, kSeasons> hourly_sorted, tmax_sorted, tmin_sorted, range_sorted;
  SpellSummary heat, cold;
  Extremes annual_max, annual_min;
};
// `reference`: the observed climatology (statistics.hpp); `interval_sample`: record length
// (years) for the return-level ranges, 0 for the observed.
ClimateStatistics compute_climate_statistics(const std::vector<CelsiusSeries>& members, const SpellThresholds& t,
                                             const Climatology& reference, int interval_sample);

// statistics.csv: long format `statistic,period,index,source,value` (docs/evaluation.md).
struct NamedStatistics {
  std::string source;  // "observed", "vae", "classical"
  const ClimateStatistics* statistics;
};
void write_statistics_csv(std::ostream& out, const std::vector<NamedStatistics>& sources,
                          const SpellThresholds& thresholds);

// One line of the skill summary: the error of each generator against the observed (lower is
// better); the values themselves where the statistic is one number.
struct SkillRow {
  std::string statistic;
  std::string unit;
  double observed = 0, vae = 0, classical = 0;  // NaN for aggregate scores
  double vae_error = 0, classical_error = 0;
  // The error that the observed record's length alone gives: the row's error of resamples of the
  // record's own years, scored as if each were a generator (root mean square; NaN without
  // resamples). A generator with the observed climate scores about this much; two errors below it
  // are not told apart by this record.
  double record_noise = std::numeric_limits<double>::quiet_NaN();
  std::string better() const;  // "vae", "classical" or "tie"
  bool within_record_noise() const { return vae_error <= record_noise && classical_error <= record_noise; }
};
// The rows: monthly mean and sd (and skewness, distribution), diurnal cycle, raw ACF at 1 h,
// persistence (anomaly ACF at kAnomalyLagsHours, daily-mean anomaly ACF at kDailyAnomalyLagsDays),
// daily max/min/range distributions, heat waves and cold spells (per year, mean length, length
// distribution), annual maximum and minimum (mean, 10-year return level).
// `observed_resamples` (year_resamples) give each row's record_noise.
std::vector<SkillRow> skill_summary(const ClimateStatistics& observed, const ClimateStatistics& vae,
                                    const ClimateStatistics& classical,
                                    const std::vector<ClimateStatistics>& observed_resamples = {});
// The statistics of `count` resamples (fixed seed) of the observed series' calendar years (local
// time), each as many years drawn with replacement: how far the observed statistics move with
// the record's length alone. None for a record of fewer than 3 years.
std::vector<ClimateStatistics> year_resamples(const CelsiusSeries& observed, const SpellThresholds& t,
                                              const Climatology& reference, int count);
// How many rows each generator wins; `compared` counts the rows where both errors are numbers,
// `within_noise` those of them where both are within the observed record's noise.
struct SkillCount {
  int vae = 0, classical = 0, compared = 0, within_noise = 0;
};
SkillCount count_closer(const std::vector<SkillRow>& rows);
// "VAE closer on N of M statistics (classical closer on K)", and with a record noise "; both
// within the observed record's noise on R".
std::string closer_line(const SkillCount& count);
// skill.csv: `statistic,unit,observed,vae,classical,vae_error,classical_error,better,record_noise`.
void write_skill_csv(std::ostream& out, const std::vector<SkillRow>& rows);

}  // namespace climvae::eval
