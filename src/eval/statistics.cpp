#include "eval/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "common/calendar.hpp"

namespace climvae::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Running sums of one ensemble (or one series) before they become SeriesStatistics.
struct Accumulator {
  std::array<std::vector<double>, 12> month_values;
  std::array<std::array<double, 24>, kSeasons> hour_sums{};
  std::array<std::array<int64_t, 24>, kSeasons> hour_counts{};
};

void accumulate(const CelsiusSeries& series, Accumulator& acc) {
  for (size_t t = 0; t < series.values_c.size(); ++t) {
    const double v = series.values_c[t];
    if (std::isnan(v)) continue;
    const CivilDate local = civil_from_hours(series.start_hour + static_cast<int64_t>(t) + series.utc_offset_hours);
    acc.month_values[local.month - 1].push_back(v);
    const int season = season_of_month(local.month);
    acc.hour_sums[season][local.hour] += v;
    acc.hour_counts[season][local.hour] += 1;
  }
}

MonthStatistics month_statistics(const std::vector<double>& values) {
  MonthStatistics m;
  m.count = static_cast<int64_t>(values.size());
  if (values.empty()) {
    m.mean = m.sd = kNaN;
    return m;
  }
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  double squares = 0;
  for (double v : values) squares += (v - m.mean) * (v - m.mean);  // two passes: no cancellation
  m.sd = std::sqrt(squares / values.size());
  return m;
}

DiurnalCycle diurnal_cycle(const std::array<double, 24>& sums, const std::array<int64_t, 24>& counts) {
  DiurnalCycle cycle;
  bool complete = true;
  for (int h = 0; h < 24; ++h) {
    cycle.hourly_mean[h] = counts[h] > 0 ? sums[h] / counts[h] : kNaN;
    complete = complete && counts[h] > 0;
  }
  if (!complete) {
    cycle.amplitude = kNaN;
    cycle.hour_of_max = -1;
    return cycle;
  }
  const auto [low, high] = std::minmax_element(cycle.hourly_mean.begin(), cycle.hourly_mean.end());
  cycle.amplitude = *high - *low;
  cycle.hour_of_max = static_cast<int>(high - cycle.hourly_mean.begin());
  return cycle;
}

SeriesStatistics finish(Accumulator& acc) {
  SeriesStatistics s;
  for (int m = 0; m < 12; ++m) {
    s.months[m] = month_statistics(acc.month_values[m]);
    std::sort(acc.month_values[m].begin(), acc.month_values[m].end());
    s.sorted_by_month[m] = std::move(acc.month_values[m]);
  }
  for (int season = 0; season < kSeasons; ++season)
    s.diurnal[season] = diurnal_cycle(acc.hour_sums[season], acc.hour_counts[season]);
  return s;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Mean over members of each member's autocorrelation at `lag` (NaN ones skipped).
double mean_autocorrelation(const std::vector<std::vector<double>>& members, int lag) {
  double sum = 0;
  int used = 0;
  for (const auto& x : members) {
    const double r = autocorrelation(x, lag);
    if (!std::isnan(r)) sum += r, ++used;
  }
  return used > 0 ? sum / used : kNaN;
}

double relative_difference(double observed, double generated) { return generated / observed - 1.0; }

// Hours of the maximum differ on a circle: 23 and 1 are 2 hours apart. Result in -12..11.
double circular_hour_difference(int observed, int generated) {
  if (observed < 0 || generated < 0) return kNaN;
  return static_cast<double>(((generated - observed) % 24 + 36) % 24 - 12);
}

ComparisonRow check(std::string statistic, std::string period, double observed, double generated, double difference,
                    double tolerance) {
  ComparisonRow row{std::move(statistic), std::move(period), observed, generated, difference, tolerance, true, false};
  row.pass = !std::isnan(difference) && std::abs(difference) <= tolerance;
  return row;
}

ComparisonRow information(std::string statistic, std::string period, double observed, double generated,
                          double difference) {
  return {std::move(statistic), std::move(period), observed, generated, difference, kNaN, false, false};
}

std::string verdict_text(const ComparisonRow& row) { return row.checked ? (row.pass ? "true" : "false") : ""; }

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string json_number(double value) { return std::isnan(value) || std::isinf(value) ? "null" : number_text(value); }

}  // namespace

std::string two_digits(int n) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d", n);
  return text;
}

std::string number_text(double value) {
  if (std::isnan(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

const char* season_name(int season) {
  static const char* names[kSeasons] = {"DJF", "MAM", "JJA", "SON"};
  return names[season];
}

int season_of_month(int month) { return (month % 12) / 3; }  // Dec, Jan, Feb -> 0; Mar..May -> 1; ...

Climatology climatology_of(const CelsiusSeries& series) {
  std::array<std::array<double, 24>, 12> sums{};
  std::array<std::array<int64_t, 24>, 12> counts{};
  for (size_t t = 0; t < series.values_c.size(); ++t) {
    const double v = series.values_c[t];
    if (std::isnan(v)) continue;
    const CivilDate local = civil_from_hours(series.start_hour + static_cast<int64_t>(t) + series.utc_offset_hours);
    sums[local.month - 1][local.hour] += v;
    counts[local.month - 1][local.hour] += 1;
  }
  Climatology c;
  for (int m = 0; m < 12; ++m)
    for (int h = 0; h < 24; ++h) c.mean[m][h] = counts[m][h] > 0 ? sums[m][h] / counts[m][h] : kNaN;
  return c;
}

std::vector<double> hourly_anomalies(const CelsiusSeries& series, const Climatology& climatology) {
  std::vector<double> anomalies(series.values_c.size());
  for (size_t t = 0; t < anomalies.size(); ++t) {
    const CivilDate local = civil_from_hours(series.start_hour + static_cast<int64_t>(t) + series.utc_offset_hours);
    anomalies[t] = series.values_c[t] - climatology.mean[local.month - 1][local.hour];
  }
  return anomalies;
}

std::vector<double> daily_mean_anomalies(const CelsiusSeries& series, const Climatology& climatology) {
  const std::vector<double> hourly = hourly_anomalies(series, climatology);
  if (hourly.empty()) return {};
  const int64_t first_local = series.start_hour + series.utc_offset_hours;
  const int64_t first_day = floor_div(first_local, 24);
  const int64_t last_day = floor_div(first_local + static_cast<int64_t>(hourly.size()) - 1, 24);
  std::vector<double> days(static_cast<size_t>(last_day - first_day + 1), kNaN);
  for (int64_t day = first_day; day <= last_day; ++day) {
    double sum = 0;
    int valid = 0;
    for (int h = 0; h < 24; ++h) {
      const int64_t t = day * 24 + h - first_local;
      if (t < 0 || t >= static_cast<int64_t>(hourly.size()) || std::isnan(hourly[t])) continue;
      sum += hourly[t], ++valid;
    }
    if (valid == 24) days[day - first_day] = sum / 24;
  }
  return days;
}

double autocorrelation(const std::vector<double>& values, int lag) {
  if (lag < 0) return kNaN;
  return autocorrelation_function(values, lag).back();
}

std::vector<double> autocorrelation_function(const std::vector<double>& values, int max_lag) {
  std::vector<double> r(static_cast<size_t>(std::max(max_lag, 0)) + 1, kNaN);
  double sum = 0;
  int64_t valid = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++valid;
  if (valid == 0 || max_lag < 0) return r;
  const double mean = sum / valid;
  double variance = 0;
  for (double v : values)
    if (!std::isnan(v)) variance += (v - mean) * (v - mean);
  variance /= valid;
  if (variance <= 0) return r;
  for (size_t lag = 0; lag < r.size() && lag < values.size(); ++lag) {
    double covariance = 0;
    int64_t pairs = 0;
    for (size_t t = 0; t + lag < values.size(); ++t) {
      const double a = values[t], b = values[t + lag];
      if (std::isnan(a) || std::isnan(b)) continue;
      covariance += (a - mean) * (b - mean);
      ++pairs;
    }
    if (pairs > 0) r[lag] = (covariance / pairs) / variance;
  }
  return r;
}

double wasserstein1_sorted(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) return kNaN;
  // Walk the merged breakpoints i/na and j/nb of both step quantile functions; compare the
  // breakpoints with integers ((i+1)*nb vs (j+1)*na) so that equal ones are met exactly.
  const uint64_t na = a.size(), nb = b.size();
  uint64_t i = 0, j = 0;
  double previous_u = 0, distance = 0;
  while (i < na && j < nb) {
    const uint64_t end_a = (i + 1) * nb, end_b = (j + 1) * na;  // both scaled by na * nb
    const uint64_t end = std::min(end_a, end_b);
    const double u = static_cast<double>(end) / (static_cast<double>(na) * static_cast<double>(nb));
    distance += std::abs(a[i] - b[j]) * (u - previous_u);
    previous_u = u;
    if (end_a == end) ++i;
    if (end_b == end) ++j;
  }
  return distance;
}

MemberAnomalies member_anomalies(const std::vector<CelsiusSeries>& members, const Climatology& reference) {
  MemberAnomalies a;
  for (const auto& member : members) {
    a.values.push_back(member.values_c);
    a.hourly.push_back(hourly_anomalies(member, reference));
    a.daily.push_back(daily_mean_anomalies(member, reference));
  }
  return a;
}

SeriesStatistics compute_statistics(const CelsiusSeries& observed) {
  return compute_statistics(std::vector<CelsiusSeries>{observed}, climatology_of(observed));
}

SeriesStatistics compute_statistics(const std::vector<CelsiusSeries>& members, const Climatology& reference) {
  Accumulator acc;
  for (const auto& member : members) accumulate(member, acc);
  SeriesStatistics s = finish(acc);
  const MemberAnomalies a = member_anomalies(members, reference);
  s.raw_autocorrelation = mean_autocorrelation(a.values, kRawAutocorrelationLagHours);
  for (size_t k = 0; k < kAnomalyLagsHours.size(); ++k)
    s.anomaly_autocorrelation[k] = mean_autocorrelation(a.hourly, kAnomalyLagsHours[k]);
  for (size_t k = 0; k < kDailyAnomalyLagsDays.size(); ++k)
    s.daily_anomaly_autocorrelation[k] = mean_autocorrelation(a.daily, kDailyAnomalyLagsDays[k]);
  return s;
}

int Comparison::checks() const {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.checked; }));
}

int Comparison::passed() const {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.checked && r.pass; }));
}

Comparison compare(const SeriesStatistics& observed, const SeriesStatistics& generated, const Tolerances& tol) {
  Comparison c;
  for (int m = 0; m < 12; ++m) {
    const auto& o = observed.months[m];
    const auto& g = generated.months[m];
    const std::string month = two_digits(m + 1);
    c.rows.push_back(check("monthly_mean_c", month, o.mean, g.mean, g.mean - o.mean, tol.monthly_mean_c));
    c.rows.push_back(
        check("monthly_sd_c", month, o.sd, g.sd, relative_difference(o.sd, g.sd), tol.monthly_sd_relative));
    c.rows.push_back(information("wasserstein1_c", month, kNaN, kNaN,
                                 wasserstein1_sorted(observed.sorted_by_month[m], generated.sorted_by_month[m])));
  }
  for (int s = 0; s < kSeasons; ++s) {
    const auto& o = observed.diurnal[s];
    const auto& g = generated.diurnal[s];
    c.rows.push_back(check("diurnal_amplitude_c", season_name(s), o.amplitude, g.amplitude,
                           relative_difference(o.amplitude, g.amplitude), tol.diurnal_amplitude_relative));
    c.rows.push_back(information("diurnal_hour_of_max", season_name(s), o.hour_of_max < 0 ? kNaN : o.hour_of_max,
                                 g.hour_of_max < 0 ? kNaN : g.hour_of_max,
                                 circular_hour_difference(o.hour_of_max, g.hour_of_max)));
  }
  c.rows.push_back(information("autocorrelation", "lag_" + std::to_string(kRawAutocorrelationLagHours) + "h",
                               observed.raw_autocorrelation, generated.raw_autocorrelation,
                               generated.raw_autocorrelation - observed.raw_autocorrelation));
  for (size_t k = 0; k < kAnomalyLagsHours.size(); ++k) {
    const double o = observed.anomaly_autocorrelation[k], g = generated.anomaly_autocorrelation[k];
    c.rows.push_back(check("anomaly_autocorrelation", "lag_" + std::to_string(kAnomalyLagsHours[k]) + "h", o, g, g - o,
                           tol.anomaly_autocorrelation));
  }
  for (size_t k = 0; k < kDailyAnomalyLagsDays.size(); ++k) {
    const double o = observed.daily_anomaly_autocorrelation[k], g = generated.daily_anomaly_autocorrelation[k];
    c.rows.push_back(check("daily_anomaly_autocorrelation", "lag_" + std::to_string(kDailyAnomalyLagsDays[k]) + "d", o,
                           g, g - o, tol.daily_anomaly_autocorrelation));
  }
  return c;
}

void print_table(std::ostream& out, const Comparison& comparison) {
  char line[160];
  std::snprintf(line, sizeof line, "%-30s %-8s %10s %10s %11s %10s  %s\n", "statistic", "period", "observed",
                "generated", "difference", "tolerance", "verdict");
  out << line;
  const auto cell = [](double v) { return std::isnan(v) ? std::string("-") : number_text(v); };
  for (const auto& r : comparison.rows) {
    std::snprintf(line, sizeof line, "%-30s %-8s %10s %10s %11s %10s  %s\n", r.statistic.c_str(), r.period.c_str(),
                  cell(r.observed).c_str(), cell(r.generated).c_str(), cell(r.difference).c_str(),
                  cell(r.tolerance).c_str(), r.checked ? (r.pass ? "ok" : "FAIL") : "");
    out << line;
  }
  out << "fidelity: " << comparison.passed() << " of " << comparison.checks() << " checks within tolerance\n";
}

void write_csv(std::ostream& out, const Comparison& comparison) {
  out << "statistic,period,observed,generated,difference,tolerance,pass\n";
  for (const auto& r : comparison.rows)
    out << r.statistic << ',' << r.period << ',' << number_text(r.observed) << ',' << number_text(r.generated) << ','
        << number_text(r.difference) << ',' << number_text(r.tolerance) << ',' << verdict_text(r) << '\n';
}

void write_json(std::ostream& out, const Comparison& comparison) {
  out << "{\n  \"checks\": " << comparison.checks() << ",\n  \"passed\": " << comparison.passed()
      << ",\n  \"rows\": [";
  for (size_t i = 0; i < comparison.rows.size(); ++i) {
    const auto& r = comparison.rows[i];
    out << (i ? ",\n" : "\n") << "    {\"statistic\": " << json_string(r.statistic)
        << ", \"period\": " << json_string(r.period) << ", \"observed\": " << json_number(r.observed)
        << ", \"generated\": " << json_number(r.generated) << ", \"difference\": " << json_number(r.difference)
        << ", \"tolerance\": " << json_number(r.tolerance)
        << ", \"pass\": " << (r.checked ? (r.pass ? "true" : "false") : "null") << "}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace climvae::eval
