#include "eval/spatial.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/seasonal_cycle.hpp"

namespace climvae::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEarthRadiusKm = 6371.0;
constexpr double kPi = 3.14159265358979323846;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Daily-mean anomalies of one series on UTC days, from the UTC day holding its first hour; NaN
// for days without all 24 hours. Anomalies from the series' own smooth seasonal cycle
// (common/seasonal_cycle.hpp).
std::vector<double> daily_anomalies(const CelsiusSeries& series) {
  const int64_t first_day = floor_div(series.start_hour, 24);
  const int64_t last_day = floor_div(series.start_hour + static_cast<int64_t>(series.values_c.size()) - 1, 24);
  std::vector<double> means;
  for (int64_t day = first_day; !series.values_c.empty() && day <= last_day; ++day) {
    double sum = 0;
    int valid = 0;
    for (int h = 0; h < 24; ++h) {
      const int64_t t = day * 24 + h - series.start_hour;
      if (t < 0 || t >= static_cast<int64_t>(series.values_c.size()) || std::isnan(series.values_c[t])) continue;
      sum += series.values_c[t], ++valid;
    }
    means.push_back(valid == 24 ? sum / 24 : kNaN);
  }
  remove_seasonal_cycle(means.data(), 1, static_cast<int>(means.size()), first_day);
  return means;
}

std::string json_number(double value) { return std::isfinite(value) ? number_text(value) : "null"; }

double mean_of_defined(const std::vector<double>& values) {
  double sum = 0;
  int count = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++count;
  return count ? sum / count : kNaN;
}

void require_same_hours(const CelsiusSeries& a, const CelsiusSeries& b) {
  require(a.start_hour == b.start_hour && a.values_c.size() == b.values_c.size(),
          "daily anomaly correlation: the two series must cover the same hours (start " + format_iso_hour(a.start_hour) +
              " and " + format_iso_hour(b.start_hour) + ", " + std::to_string(a.values_c.size()) + " and " +
              std::to_string(b.values_c.size()) + " hours)");
}

// Pearson correlation over the days valid in both; NaN with fewer than 3 or no spread.
double correlation_of_valid_days(const std::vector<double>& x, const std::vector<double>& y) {
  double sx = 0, sy = 0;
  int n = 0;
  for (size_t d = 0; d < x.size(); ++d)
    if (!std::isnan(x[d]) && !std::isnan(y[d])) sx += x[d], sy += y[d], ++n;
  if (n < 3) return kNaN;
  const double mx = sx / n, my = sy / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t d = 0; d < x.size(); ++d) {
    if (std::isnan(x[d]) || std::isnan(y[d])) continue;
    sxy += (x[d] - mx) * (y[d] - my), sxx += (x[d] - mx) * (x[d] - mx), syy += (y[d] - my) * (y[d] - my);
  }
  const double no_spread = n * 1e-12;  // daily anomalies with an sd under 1e-6 °C: rounding, not weather
  return sxx > no_spread && syy > no_spread ? sxy / std::sqrt(sxx * syy) : kNaN;
}

}  // namespace

double great_circle_km(double lat_a, double lon_a, double lat_b, double lon_b) {
  const double to_radians = kPi / 180;
  const double dlat = (lat_b - lat_a) * to_radians, dlon = (lon_b - lon_a) * to_radians;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat_a * to_radians) * std::cos(lat_b * to_radians) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

double daily_anomaly_correlation(const CelsiusSeries& a, const CelsiusSeries& b) {
  require_same_hours(a, b);
  return correlation_of_valid_days(daily_anomalies(a), daily_anomalies(b));
}

double daily_anomaly_correlation(const std::vector<CelsiusSeries>& a, const std::vector<CelsiusSeries>& b) {
  require(a.size() == b.size(), "daily anomaly correlation: the two ensembles have " + std::to_string(a.size()) +
                                    " and " + std::to_string(b.size()) + " members");
  std::vector<double> per_member;
  for (size_t m = 0; m < a.size(); ++m) per_member.push_back(daily_anomaly_correlation(a[m], b[m]));
  return mean_of_defined(per_member);
}

std::vector<double> pairwise_daily_anomaly_correlations(const std::vector<std::vector<CelsiusSeries>>& cells) {
  if (cells.empty()) return {};
  std::vector<std::vector<std::vector<double>>> anomalies(cells.size());  // [cell][member][day]
  for (size_t c = 0; c < cells.size(); ++c) {
    require(cells[c].size() == cells[0].size(), "daily anomaly correlation: cell " + std::to_string(c) + " has " +
                                                    std::to_string(cells[c].size()) + " members, cell 0 " +
                                                    std::to_string(cells[0].size()));
    for (const CelsiusSeries& member : cells[c]) {
      require_same_hours(cells[0][0], member);
      anomalies[c].push_back(daily_anomalies(member));
    }
  }
  std::vector<double> pairs;
  for (size_t a = 0; a < cells.size(); ++a)
    for (size_t b = a + 1; b < cells.size(); ++b) {
      std::vector<double> per_member;
      for (size_t m = 0; m < anomalies[a].size(); ++m)
        per_member.push_back(correlation_of_valid_days(anomalies[a][m], anomalies[b][m]));
      pairs.push_back(mean_of_defined(per_member));
    }
  return pairs;
}

std::vector<DistanceBin> bin_by_distance(const std::vector<PairCorrelation>& pairs, int bins) {
  require(bins >= 1, "distance bins: need at least one bin");
  if (pairs.empty()) return {};
  double largest = 0;
  for (const auto& p : pairs) largest = std::max(largest, p.distance_km);
  const double width = largest > 0 ? largest / bins : 1;
  std::vector<DistanceBin> result(static_cast<size_t>(bins));
  std::vector<std::array<std::vector<double>, 3>> values(result.size());
  for (int i = 0; i < bins; ++i) result[i].from_km = i * width, result[i].to_km = (i + 1) * width;
  for (const auto& p : pairs) {
    const int i = std::min(bins - 1, static_cast<int>(p.distance_km / width));
    ++result[i].pairs;
    values[i][0].push_back(p.observed), values[i][1].push_back(p.generated), values[i][2].push_back(p.classical);
  }
  for (size_t i = 0; i < result.size(); ++i) {
    result[i].observed = mean_of_defined(values[i][0]);
    result[i].generated = mean_of_defined(values[i][1]);
    result[i].classical = mean_of_defined(values[i][2]);
  }
  return result;
}

void write_pairs_csv(std::ostream& out, const std::vector<PairCorrelation>& pairs, const std::vector<double>& lats,
                     const std::vector<double>& lons) {
  out << "cell_a,cell_b,lat_a,lon_a,lat_b,lon_b,distance_km,observed,generated,difference,classical\n";
  for (const auto& p : pairs)
    out << p.cell_a << ',' << p.cell_b << ',' << number_text(lats.at(p.cell_a)) << ',' << number_text(lons.at(p.cell_a))
        << ',' << number_text(lats.at(p.cell_b)) << ',' << number_text(lons.at(p.cell_b)) << ','
        << number_text(p.distance_km) << ',' << number_text(p.observed) << ',' << number_text(p.generated) << ','
        << number_text(p.generated - p.observed) << ',' << number_text(p.classical) << '\n';
}

void write_bins_csv(std::ostream& out, const std::vector<DistanceBin>& bins) {
  out << "from_km,to_km,pairs,observed,generated,classical\n";
  for (const auto& b : bins)
    out << number_text(b.from_km) << ',' << number_text(b.to_km) << ',' << b.pairs << ',' << number_text(b.observed)
        << ',' << number_text(b.generated) << ',' << number_text(b.classical) << '\n';
}

void write_spatial_json(std::ostream& out, const std::vector<PairCorrelation>& pairs,
                        const std::vector<DistanceBin>& bins) {
  out << "{\"pairs\": [";
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    out << (i ? ",\n  " : "\n  ") << "{\"cell_a\": " << p.cell_a << ", \"cell_b\": " << p.cell_b
        << ", \"distance_km\": " << json_number(p.distance_km) << ", \"observed\": " << json_number(p.observed)
        << ", \"generated\": " << json_number(p.generated) << ", \"difference\": " << json_number(p.generated - p.observed)
        << ", \"classical\": " << json_number(p.classical) << "}";
  }
  out << "],\n\"bins\": [";
  for (size_t i = 0; i < bins.size(); ++i) {
    const auto& b = bins[i];
    out << (i ? ",\n  " : "\n  ") << "{\"from_km\": " << json_number(b.from_km) << ", \"to_km\": " << json_number(b.to_km)
        << ", \"pairs\": " << b.pairs << ", \"observed\": " << json_number(b.observed)
        << ", \"generated\": " << json_number(b.generated) << ", \"classical\": " << json_number(b.classical) << "}";
  }
  out << "]}\n";
}

void print_spatial_table(std::ostream& out, const std::vector<PairCorrelation>& pairs,
                         const std::vector<DistanceBin>& bins, size_t max_pairs) {
  // Every row ends with the observed, generated and difference columns.
  const auto cell = [](double v) { return std::isnan(v) ? std::string("-") : number_text(v); };
  const auto columns = [&](const std::string& observed, const std::string& generated, const std::string& difference) {
    char text[160];
    std::snprintf(text, sizeof text, " %10s %10s %10s\n", observed.c_str(), generated.c_str(), difference.c_str());
    return std::string(text);
  };
  const auto correlations = [&](double observed, double generated) {
    return columns(cell(observed), cell(generated), cell(generated - observed));
  };
  const std::string heading = columns("observed", "generated", "difference");
  char line[200];
  out << "daily-mean anomaly correlation between cells (UTC days, seasonal cycle removed; generated: "
         "member m against member m, averaged)\n";
  if (pairs.size() <= max_pairs) {
    std::snprintf(line, sizeof line, "%6s %6s %12s", "cell_a", "cell_b", "distance_km");
    out << line << heading;
    for (const auto& p : pairs) {
      std::snprintf(line, sizeof line, "%6d %6d %12.1f", p.cell_a, p.cell_b, p.distance_km);
      out << line << correlations(p.observed, p.generated);
    }
    return;
  }
  std::snprintf(line, sizeof line, "%10s %10s %7s", "from_km", "to_km", "pairs");
  out << line << heading;
  for (const auto& b : bins) {
    std::snprintf(line, sizeof line, "%10.1f %10.1f %7d", b.from_km, b.to_km, b.pairs);
    out << line << correlations(b.observed, b.generated);
  }
}

}  // namespace climvae::eval
