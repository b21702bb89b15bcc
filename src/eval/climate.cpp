#include "eval/climate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/calendar.hpp"
#include "engine/random.hpp"

namespace climvae::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMinDaysPerYear = 330;    // annual extremes only from nearly complete years
constexpr int kIntervalDraws = 400;     // bootstrap draws for the return-level ranges
constexpr uint64_t kIntervalSeed = 20;  // fixed: the report is reproducible

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

double mean_of(const std::vector<double>& v) {
  return v.empty() ? kNaN : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

double mean_abs(const std::vector<double>& errors) {
  std::vector<double> valid;
  for (double e : errors)
    if (!std::isnan(e)) valid.push_back(std::abs(e));
  return mean_of(valid);
}

// Lag-by-lag mean over members of their autocorrelation functions (NaN lags skipped).
std::vector<double> mean_acf(const std::vector<std::vector<double>>& series, int max_lag) {
  std::vector<double> sum(static_cast<size_t>(max_lag) + 1, 0.0);
  std::vector<int> used(sum.size(), 0);
  for (const auto& x : series) {
    const auto r = autocorrelation_function(x, max_lag);
    for (size_t lag = 0; lag < r.size(); ++lag)
      if (!std::isnan(r[lag])) sum[lag] += r[lag], ++used[lag];
  }
  for (size_t lag = 0; lag < sum.size(); ++lag) sum[lag] = used[lag] ? sum[lag] / used[lag] : kNaN;
  return sum;
}

std::vector<std::vector<DailyValues>> daily_of_members(const std::vector<CelsiusSeries>& members) {
  std::vector<std::vector<DailyValues>> days;
  for (const auto& m : members) days.push_back(daily_values(m));
  return days;
}

SpellSummary spells(const std::vector<std::vector<DailyValues>>& members, bool heat, const SpellThresholds& t) {
  SpellSummary s;
  int64_t valid_days = 0, spell_days = 0;
  for (const auto& days : members) {
    std::vector<int> flags(days.size());
    for (size_t d = 0; d < days.size(); ++d) {
      const double v = heat ? days[d].tmax : days[d].tmin;
      if (std::isnan(v)) {
        flags[d] = -1;
        continue;
      }
      ++valid_days;
      flags[d] = heat ? v > t.heat_tmax[days[d].month - 1] : v < t.cold_tmin[days[d].month - 1];
    }
    for (int length : run_lengths(flags))
      if (length >= kMinSpellDays) s.lengths_sorted.push_back(length), spell_days += length;
  }
  std::sort(s.lengths_sorted.begin(), s.lengths_sorted.end());
  const double runs = static_cast<double>(s.lengths_sorted.size());
  s.per_year = valid_days > 0 ? runs / (valid_days / 365.25) : kNaN;
  s.day_fraction = valid_days > 0 ? static_cast<double>(spell_days) / valid_days : kNaN;
  s.mean_length_days = mean_of(s.lengths_sorted);
  s.max_length_days = s.lengths_sorted.empty() ? 0 : static_cast<int>(s.lengths_sorted.back());
  for (double length : s.lengths_sorted)
    s.length_fraction[std::min(static_cast<int>(length), kMaxSpellLengthBin) - 1] += 1 / runs;
  return s;
}

// Return levels of a sample of annual maxima (negate == true: of minima, via their negatives).
std::array<double, kReturnPeriodsYears.size()> return_levels(const std::vector<double>& annual, bool negate, Gev* fit) {
  std::vector<double> sample(annual);
  if (negate)
    for (double& v : sample) v = -v;
  const Gev gev = fit_gev_lmoments(sample);
  if (fit) *fit = gev;
  std::array<double, kReturnPeriodsYears.size()> levels{};
  for (size_t k = 0; k < levels.size(); ++k)
    levels[k] = (negate ? -1 : 1) * return_level(gev, kReturnPeriodsYears[k]);
  return levels;
}

}  // namespace

std::vector<DailyValues> daily_values(const CelsiusSeries& series) {
  std::vector<DailyValues> days;
  if (series.values_c.empty()) return days;
  const int64_t first_local = series.start_hour + series.utc_offset_hours;
  const int64_t first_day = floor_div(first_local, 24);
  const int64_t last_day = floor_div(first_local + static_cast<int64_t>(series.values_c.size()) - 1, 24);
  for (int64_t day = first_day; day <= last_day; ++day) {
    const CivilDate date = civil_from_hours(day * 24);
    DailyValues d{date.year, date.month, kNaN, kNaN, kNaN};
    double high = -std::numeric_limits<double>::infinity(), low = -high, sum = 0;
    int valid = 0;
    for (int h = 0; h < 24; ++h) {
      const int64_t t = day * 24 + h - first_local;
      if (t < 0 || t >= static_cast<int64_t>(series.values_c.size())) continue;
      const double v = series.values_c[t];
      if (std::isnan(v)) continue;
      high = std::max(high, v), low = std::min(low, v), sum += v, ++valid;
    }
    if (valid == 24) d.tmax = high, d.tmin = low, d.tmean = sum / 24;
    days.push_back(d);
  }
  return days;
}

double quantile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  const double position = p * (sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

double skewness(const std::vector<double>& values) {
  if (values.size() < 3) return kNaN;
  const double mean = mean_of(values);
  double m2 = 0, m3 = 0;
  for (double v : values) m2 += (v - mean) * (v - mean), m3 += (v - mean) * (v - mean) * (v - mean);
  m2 /= values.size(), m3 /= values.size();
  return m2 > 0 ? m3 / std::pow(m2, 1.5) : kNaN;
}

SpellThresholds spell_thresholds(const std::vector<DailyValues>& observed_days) {
  std::array<std::vector<double>, 12> tmax, tmin;
  for (const auto& d : observed_days)
    if (!std::isnan(d.tmax)) tmax[d.month - 1].push_back(d.tmax), tmin[d.month - 1].push_back(d.tmin);
  SpellThresholds t;
  for (int m = 0; m < 12; ++m) {
    std::sort(tmax[m].begin(), tmax[m].end());
    std::sort(tmin[m].begin(), tmin[m].end());
    t.heat_tmax[m] = quantile_sorted(tmax[m], 0.9);
    t.cold_tmin[m] = quantile_sorted(tmin[m], 0.1);
  }
  return t;
}

std::vector<int> run_lengths(const std::vector<int>& flags) {
  std::vector<int> runs;
  int current = 0;
  for (int f : flags) {
    if (f == 1) {
      ++current;
      continue;
    }
    if (current > 0) runs.push_back(current);
    current = 0;
  }
  if (current > 0) runs.push_back(current);
  return runs;
}

SpellSummary heat_waves(const std::vector<std::vector<DailyValues>>& members, const SpellThresholds& t) {
  return spells(members, true, t);
}

SpellSummary cold_spells(const std::vector<std::vector<DailyValues>>& members, const SpellThresholds& t) {
  return spells(members, false, t);
}

Gev fit_gev_lmoments(std::vector<double> x) {
  Gev gev{kNaN, kNaN, kNaN};
  x.erase(std::remove_if(x.begin(), x.end(), [](double v) { return std::isnan(v); }), x.end());
  const size_t n = x.size();
  if (n < 3) return gev;
  std::sort(x.begin(), x.end());
  // Unbiased probability-weighted moments b0, b1, b2 and the first three L-moments.
  double b0 = 0, b1 = 0, b2 = 0;
  for (size_t j = 0; j < n; ++j) {
    b0 += x[j];
    b1 += x[j] * j / (n - 1.0);
    b2 += x[j] * j * (j - 1.0) / ((n - 1.0) * (n - 2.0));
  }
  b0 /= n, b1 /= n, b2 /= n;
  const double l1 = b0, l2 = 2 * b1 - b0, l3 = 6 * b2 - 6 * b1 + b0;
  if (!(l2 > 0)) return gev;
  const double c = 2 / (3 + l3 / l2) - std::log(2.0) / std::log(3.0);
  const double k = 7.8590 * c + 2.9554 * c * c;
  if (std::abs(k) < 1e-6) {  // Gumbel
    gev.shape = 0;
    gev.scale = l2 / std::log(2.0);
    gev.location = l1 - 0.5772156649015329 * gev.scale;
    return gev;
  }
  const double g = std::tgamma(1 + k);
  gev.shape = k;
  gev.scale = l2 * k / ((1 - std::pow(2.0, -k)) * g);
  gev.location = l1 - gev.scale * (1 - g) / k;
  return gev;
}

double gev_quantile(const Gev& gev, double probability) {
  const double y = -std::log(probability);
  if (gev.shape == 0) return gev.location - gev.scale * std::log(y);
  return gev.location + gev.scale / gev.shape * (1 - std::pow(y, gev.shape));
}

double return_level(const Gev& gev, double years) { return gev_quantile(gev, 1 - 1 / years); }

Extremes annual_extremes(const std::vector<std::vector<DailyValues>>& members, bool maxima, int interval_sample) {
  Extremes e;
  for (const auto& days : members) {
    size_t d = 0;
    while (d < days.size()) {
      const int year = days[d].year;
      double extreme = maxima ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      int valid = 0;
      for (; d < days.size() && days[d].year == year; ++d) {
        const double v = maxima ? days[d].tmax : days[d].tmin;
        if (std::isnan(v)) continue;
        extreme = maxima ? std::max(extreme, v) : std::min(extreme, v);
        ++valid;
      }
      if (valid >= kMinDaysPerYear) e.annual.push_back(extreme);
    }
  }
  e.return_level = return_levels(e.annual, !maxima, &e.gev);
  e.low.fill(kNaN), e.high.fill(kNaN);
  if (interval_sample < 3 || e.annual.empty()) return e;
  std::array<std::vector<double>, kReturnPeriodsYears.size()> draws;
  const uint64_t key = stream_key(kIntervalSeed, maxima);
  std::vector<double> sample(static_cast<size_t>(interval_sample));
  for (int b = 0; b < kIntervalDraws; ++b) {
    for (int i = 0; i < interval_sample; ++i)
      sample[i] = e.annual[mix64(key ^ mix64(static_cast<uint64_t>(b) * interval_sample + i)) % e.annual.size()];
    const auto levels = return_levels(sample, !maxima, nullptr);
    for (size_t k = 0; k < levels.size(); ++k)
      if (!std::isnan(levels[k])) draws[k].push_back(levels[k]);
  }
  for (size_t k = 0; k < draws.size(); ++k) {
    std::sort(draws[k].begin(), draws[k].end());
    e.low[k] = quantile_sorted(draws[k], 0.05);
    e.high[k] = quantile_sorted(draws[k], 0.95);
  }
  return e;
}

ClimateStatistics compute_climate_statistics(const std::vector<CelsiusSeries>& members, const SpellThresholds& t,
                                             const Climatology& reference, int interval_sample) {
  ClimateStatistics s;
  s.basic = compute_statistics(members, reference);

  std::array<std::vector<double>, 12> by_month;
  for (const auto& member : members)
    for (size_t i = 0; i < member.values_c.size(); ++i) {
      const double v = member.values_c[i];
      if (std::isnan(v)) continue;
      const int month = civil_from_hours(member.start_hour + static_cast<int64_t>(i) + member.utc_offset_hours).month;
      by_month[month - 1].push_back(v);
      s.hourly_sorted[season_of_month(month)].push_back(v);
    }
  for (int m = 0; m < 12; ++m) s.skewness[m] = skewness(by_month[m]);

  const MemberAnomalies a = member_anomalies(members, reference);
  s.acf = mean_acf(a.values, kAcfMaxLagHours);
  s.anomaly_acf = mean_acf(a.hourly, kAcfMaxLagHours);
  s.daily_anomaly_acf = mean_acf(a.daily, kAcfMaxLagDays);

  const auto days = daily_of_members(members);
  for (const auto& member_days : days)
    for (const auto& d : member_days) {
      if (std::isnan(d.tmax)) continue;
      const int season = season_of_month(d.month);
      s.tmax_sorted[season].push_back(d.tmax);
      s.tmin_sorted[season].push_back(d.tmin);
      s.range_sorted[season].push_back(d.tmax - d.tmin);
    }
  for (int season = 0; season < kSeasons; ++season)
    for (auto* v : {&s.hourly_sorted[season], &s.tmax_sorted[season], &s.tmin_sorted[season], &s.range_sorted[season]})
      std::sort(v->begin(), v->end());

  s.heat = heat_waves(days, t);
  s.cold = cold_spells(days, t);
  s.annual_max = annual_extremes(days, true, interval_sample);
  s.annual_min = annual_extremes(days, false, interval_sample);
  return s;
}

void write_statistics_csv(std::ostream& out, const std::vector<NamedStatistics>& sources,
                          const SpellThresholds& thresholds) {
  out << "statistic,period,index,source,value\n";
  const auto row = [&](const std::string& statistic, const std::string& period, const std::string& index,
                       const std::string& source, double value) {
    out << statistic << ',' << period << ',' << index << ',' << source << ',' << number_text(value) << '\n';
  };
  for (int m = 0; m < 12; ++m) {
    row("spell_threshold_heat_tmax_c", two_digits(m + 1), "", "observed", thresholds.heat_tmax[m]);
    row("spell_threshold_cold_tmin_c", two_digits(m + 1), "", "observed", thresholds.cold_tmin[m]);
  }
  for (const auto& [source, s] : sources) {
    for (int m = 0; m < 12; ++m) {
      const std::string month = two_digits(m + 1);
      row("monthly_mean_c", month, "", source, s->basic.months[m].mean);
      row("monthly_sd_c", month, "", source, s->basic.months[m].sd);
      row("monthly_skewness", month, "", source, s->skewness[m]);
    }
    for (int season = 0; season < kSeasons; ++season) {
      const std::string name = season_name(season);
      for (int h = 0; h < 24; ++h)
        row("diurnal_mean_c", name, std::to_string(h), source, s->basic.diurnal[season].hourly_mean[h]);
      row("diurnal_amplitude_c", name, "", source, s->basic.diurnal[season].amplitude);
      const std::pair<const char*, const std::vector<double>*> distributions[] = {
          {"hourly", &s->hourly_sorted[season]}, {"daily_max", &s->tmax_sorted[season]},
          {"daily_min", &s->tmin_sorted[season]}, {"daily_range", &s->range_sorted[season]}};
      for (const auto& [what, sorted] : distributions) {
        const std::string prefix = what;
        row(prefix + "_mean_c", name, "", source, mean_of(*sorted));
        for (int p = 1; p <= 99; ++p)
          row(prefix + "_quantile_c", name, std::to_string(p), source, quantile_sorted(*sorted, p / 100.0));
      }
    }
    for (size_t lag = 0; lag < s->acf.size(); ++lag) row("acf", "all", std::to_string(lag), source, s->acf[lag]);
    for (size_t lag = 0; lag < s->anomaly_acf.size(); ++lag)
      row("anomaly_acf", "all", std::to_string(lag), source, s->anomaly_acf[lag]);
    for (size_t lag = 0; lag < s->daily_anomaly_acf.size(); ++lag)
      row("daily_anomaly_acf", "all", std::to_string(lag), source, s->daily_anomaly_acf[lag]);
    for (const auto& [kind, spell] : {std::pair{"heatwave", &s->heat}, std::pair{"coldspell", &s->cold}}) {
      const std::string k = kind;
      row(k + "_per_year", "all", "", source, spell->per_year);
      row(k + "_day_fraction", "all", "", source, spell->day_fraction);
      row(k + "_mean_length_days", "all", "", source, spell->mean_length_days);
      row(k + "_max_length_days", "all", "", source, spell->max_length_days);
      for (int i = 0; i < kMaxSpellLengthBin; ++i)
        row(k + "_length_fraction", "all", std::to_string(i + 1), source, spell->length_fraction[i]);
    }
    for (const auto& [kind, e] : {std::pair{"annual_max", &s->annual_max}, std::pair{"annual_min", &s->annual_min}}) {
      const std::string k = kind;
      for (size_t i = 0; i < e->annual.size(); ++i) row(k + "_c", "all", std::to_string(i), source, e->annual[i]);
      row(k + "_gev_location_c", "all", "", source, e->gev.location);
      row(k + "_gev_scale_c", "all", "", source, e->gev.scale);
      row(k + "_gev_shape", "all", "", source, e->gev.shape);
      for (size_t r = 0; r < kReturnPeriodsYears.size(); ++r) {
        const std::string years = std::to_string(static_cast<int>(kReturnPeriodsYears[r]));
        row(k + "_return_level_c", "all", years, source, e->return_level[r]);
        if (std::isnan(e->low[r])) continue;  // no interval (the observed series)
        row(k + "_return_level_c", "all", years, source + "_low", e->low[r]);
        row(k + "_return_level_c", "all", years, source + "_high", e->high[r]);
      }
    }
  }
}

std::string SkillRow::better() const {
  if (std::isnan(vae_error) || std::isnan(classical_error) || vae_error == classical_error) return "tie";
  return vae_error < classical_error ? "vae" : "classical";
}

namespace {

// The skill rows as they are built: the observed statistics `o` against the VAE's and the
// classical generator's.
struct SkillTable {
  const ClimateStatistics& o;
  const ClimateStatistics& vae;
  const ClimateStatistics& classical;
  const std::vector<ClimateStatistics>& resamples;  // of the observed record's years
  std::vector<SkillRow> rows;

  // Root mean square of error(resample) over the resamples where it is a number.
  template <typename Error>
  double record_noise(Error error) const {
    double sum = 0;
    int n = 0;
    for (const auto& r : resamples) {
      const double e = error(r);
      if (!std::isnan(e)) sum += e * e, ++n;
    }
    return n > 0 ? std::sqrt(sum / n) : kNaN;
  }
  // Aggregate score: error(generator) for each; the values themselves are not one number.
  template <typename Error>
  void score(std::string statistic, std::string unit, Error error) {
    rows.push_back({std::move(statistic), std::move(unit), kNaN, kNaN, kNaN, error(vae), error(classical), record_noise(error)});
  }
  // A single number: its value for each source and |generated - observed|.
  template <typename Get>
  void value(std::string statistic, std::string unit, Get get) {
    const double ov = get(o), vv = get(vae), cv = get(classical);
    const double noise = record_noise([&](const ClimateStatistics& r) { return std::abs(get(r) - ov); });
    rows.push_back({std::move(statistic), std::move(unit), ov, vv, cv, std::abs(vv - ov), std::abs(cv - ov), noise});
  }
  // The error of a generator g: mean |difference(o, g, i)| over the 12 months or the seasons.
  template <typename Difference>
  auto per_month(Difference difference) const {
    return [&o = o, difference](const ClimateStatistics& g) {
      std::vector<double> e;
      for (int m = 0; m < 12; ++m) e.push_back(difference(o, g, m));
      return mean_abs(e);
    };
  }
  template <typename Difference>
  auto per_season(Difference difference) const {
    return [&o = o, difference](const ClimateStatistics& g) {
      std::vector<double> e;
      for (int s = 0; s < kSeasons; ++s) e.push_back(difference(o, g, s));
      return mean_abs(e);
    };
  }
};

// The hourly distribution by month and the diurnal cycle by season.
void add_distribution_rows(SkillTable& t) {
  t.score("monthly_mean_mae", "degC", t.per_month([](auto& a, auto& b, int m) {
            return b.basic.months[m].mean - a.basic.months[m].mean;
          }));
  t.score("monthly_sd_relative_mae", "1", t.per_month([](auto& a, auto& b, int m) {
            return b.basic.months[m].sd / a.basic.months[m].sd - 1;
          }));
  t.score("monthly_skewness_mae", "1",
          t.per_month([](auto& a, auto& b, int m) { return b.skewness[m] - a.skewness[m]; }));
  t.score("monthly_wasserstein1_mean", "degC", t.per_month([](auto& a, auto& b, int m) {
            return wasserstein1_sorted(a.basic.sorted_by_month[m], b.basic.sorted_by_month[m]);
          }));
  t.score("diurnal_amplitude_relative_mae", "1", t.per_season([](auto& a, auto& b, int s) {
            return b.basic.diurnal[s].amplitude / a.basic.diurnal[s].amplitude - 1;
          }));
  const ClimateStatistics& o = t.o;
  t.score("diurnal_cycle_mae", "degC", [&](const ClimateStatistics& g) {
    std::vector<double> e;
    for (int s = 0; s < kSeasons; ++s)
      for (int h = 0; h < 24; ++h) e.push_back(g.basic.diurnal[s].hourly_mean[h] - o.basic.diurnal[s].hourly_mean[h]);
    return mean_abs(e);
  });
}

// Persistence: anomalies from the observed climatology (statistics.hpp).
void add_persistence_rows(SkillTable& t) {
  t.value("acf_lag_" + std::to_string(kRawAutocorrelationLagHours) + "h", "1",
          [](const ClimateStatistics& s) { return s.acf[kRawAutocorrelationLagHours]; });
  for (int lag : kAnomalyLagsHours)
    t.value("anomaly_acf_lag_" + std::to_string(lag) + "h", "1",
            [lag](const ClimateStatistics& s) { return s.anomaly_acf[lag]; });
  for (int lag : kDailyAnomalyLagsDays)
    t.value("daily_anomaly_acf_lag_" + std::to_string(lag) + "d", "1",
            [lag](const ClimateStatistics& s) { return s.daily_anomaly_acf[lag]; });
}

// Daily maxima, minima and ranges by season; heatwaves and cold spells; annual extremes.
void add_extreme_rows(SkillTable& t) {
  t.score("daily_max_wasserstein1_mean", "degC", t.per_season([](auto& a, auto& b, int s) {
            return wasserstein1_sorted(a.tmax_sorted[s], b.tmax_sorted[s]);
          }));
  t.score("daily_min_wasserstein1_mean", "degC", t.per_season([](auto& a, auto& b, int s) {
            return wasserstein1_sorted(a.tmin_sorted[s], b.tmin_sorted[s]);
          }));
  t.score("daily_range_wasserstein1_mean", "degC", t.per_season([](auto& a, auto& b, int s) {
            return wasserstein1_sorted(a.range_sorted[s], b.range_sorted[s]);
          }));
  const ClimateStatistics& o = t.o;
  for (const auto& [kind, spell] : {std::pair{"heatwave", &ClimateStatistics::heat},
                                    std::pair{"coldspell", &ClimateStatistics::cold}}) {
    const std::string k = kind;
    t.value(k + "_per_year", "1/year", [spell = spell](const ClimateStatistics& s) { return (s.*spell).per_year; });
    t.value(k + "_mean_length", "days",
            [spell = spell](const ClimateStatistics& s) { return (s.*spell).mean_length_days; });
    t.score(k + "_length_wasserstein1", "days", [&o, spell = spell](const ClimateStatistics& g) {
      return wasserstein1_sorted((o.*spell).lengths_sorted, (g.*spell).lengths_sorted);
    });
  }
  for (const auto& [kind, extremes] : {std::pair{"annual_max", &ClimateStatistics::annual_max},
                                       std::pair{"annual_min", &ClimateStatistics::annual_min}}) {
    const std::string k = kind;
    t.value(k + "_mean", "degC",
            [extremes = extremes](const ClimateStatistics& s) { return mean_of((s.*extremes).annual); });
    // The 10-year level only: a 50-year level from a 10-year record is mostly the fit's tail.
    t.value(k + "_rl10", "degC", [extremes = extremes](const ClimateStatistics& s) {
      return (s.*extremes).return_level[kTenYearReturnLevel];
    });
  }
}

}  // namespace

std::vector<SkillRow> skill_summary(const ClimateStatistics& o, const ClimateStatistics& vae,
                                    const ClimateStatistics& classical,
                                    const std::vector<ClimateStatistics>& observed_resamples) {
  SkillTable table{o, vae, classical, observed_resamples, {}};
  add_distribution_rows(table);
  add_persistence_rows(table);
  add_extreme_rows(table);
  return table.rows;
}

std::vector<ClimateStatistics> year_resamples(const CelsiusSeries& observed, const SpellThresholds& t,
                                              const Climatology& reference, int count) {
  std::vector<CelsiusSeries> years;  // the record cut at local new years
  for (size_t i = 0; i < observed.values_c.size(); ++i) {
    const int64_t hour = observed.start_hour + static_cast<int64_t>(i);
    if (years.empty() || civil_from_hours(hour + observed.utc_offset_hours).year !=
                             civil_from_hours(hour - 1 + observed.utc_offset_hours).year)
      years.push_back({hour, observed.utc_offset_hours, {}});
    years.back().values_c.push_back(observed.values_c[i]);
  }
  years.erase(std::remove_if(years.begin(), years.end(), [](const CelsiusSeries& y) {
                return std::none_of(y.values_c.begin(), y.values_c.end(), [](double v) { return std::isfinite(v); });
              }),
              years.end());
  std::vector<ClimateStatistics> out;
  if (years.size() < 3) return out;
  const uint64_t key = stream_key(kIntervalSeed, 7);
  for (int b = 0; b < count; ++b) {
    std::vector<CelsiusSeries> drawn;
    for (size_t i = 0; i < years.size(); ++i)
      drawn.push_back(years[mix64(key ^ mix64(static_cast<uint64_t>(b) * years.size() + i)) % years.size()]);
    out.push_back(compute_climate_statistics(drawn, t, reference, 0));
  }
  return out;
}

SkillCount count_closer(const std::vector<SkillRow>& rows) {
  SkillCount count;
  for (const auto& r : rows) {
    if (std::isnan(r.vae_error) || std::isnan(r.classical_error)) continue;
    ++count.compared;
    count.within_noise += r.within_record_noise();
    if (r.better() == "vae") ++count.vae;
    if (r.better() == "classical") ++count.classical;
  }
  return count;
}

std::string closer_line(const SkillCount& count) {
  return "VAE closer on " + std::to_string(count.vae) + " of " + std::to_string(count.compared) +
         " statistics (classical closer on " + std::to_string(count.classical) + ")" +
         (count.within_noise > 0 ? "; both within the observed record's noise on " + std::to_string(count.within_noise)
                                 : std::string());
}

void write_skill_csv(std::ostream& out, const std::vector<SkillRow>& rows) {
  out << "statistic,unit,observed,vae,classical,vae_error,classical_error,better,record_noise\n";
  for (const auto& r : rows)
    out << r.statistic << ',' << r.unit << ',' << number_text(r.observed) << ',' << number_text(r.vae) << ','
        << number_text(r.classical) << ',' << number_text(r.vae_error) << ',' << number_text(r.classical_error) << ','
        << r.better() << ',' << number_text(r.record_noise) << '\n';
}

}  // namespace climvae::eval
