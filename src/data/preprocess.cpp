#include "data/preprocess.hpp"

#include <algorithm>
#include <cmath>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace climvae {

int default_utc_offset_hours(double longitude) { return static_cast<int>(std::lround(longitude / 15.0)); }

int64_t parse_from_bound(const std::string& text) { return parse_iso_hour(text); }

int64_t parse_until_bound(const std::string& text) {
  const bool date_only = text.size() == 10;
  return parse_iso_hour(text) + (date_only ? 24 : 1);
}

HourlySeries select_period(const HourlySeries& series, std::optional<int64_t> from_hour,
                           std::optional<int64_t> until_hour) {
  const int64_t end_hour = series.start_hour + static_cast<int64_t>(series.values_k.size());
  const int64_t first = std::max(series.start_hour, from_hour.value_or(series.start_hour));
  const int64_t last = std::min(end_hour, until_hour.value_or(end_hour));
  require(first < last, "the selected period [" + format_iso_hour(from_hour.value_or(series.start_hour)) + ", " +
                            format_iso_hour(until_hour.value_or(end_hour)) + ") does not overlap the data (" +
                            format_iso_hour(series.start_hour) + " to " + format_iso_hour(end_hour - 1) + ")");
  HourlySeries selected = series;
  selected.start_hour = first;
  selected.values_k.assign(series.values_k.begin() + (first - series.start_hour),
                           series.values_k.begin() + (last - series.start_hour));
  return selected;
}

std::vector<AnnualMean> annual_means(int64_t start_hour, const std::vector<double>& values_k) {
  std::vector<AnnualMean> means;
  double sum = 0;
  int64_t present = 0;
  auto close_year = [&](int year) {
    const double hours = 24.0 * days_in_year(year);
    means.push_back({year, present > 0 ? sum / present : std::nan(""), present / hours});
    sum = 0;
    present = 0;
  };
  int year = civil_from_hours(start_hour).year;
  for (size_t i = 0; i < values_k.size(); ++i) {
    const int this_year = civil_from_hours(start_hour + static_cast<int64_t>(i)).year;
    if (this_year != year) {
      close_year(year);
      year = this_year;
    }
    if (!std::isnan(values_k[i])) {
      sum += values_k[i];
      ++present;
    }
  }
  if (!values_k.empty()) close_year(year);
  return means;
}

double estimate_trend_k_per_year(int64_t start_hour, const std::vector<double>& values_k) {
  double n = 0, sum_x = 0, sum_y = 0;
  std::vector<AnnualMean> used;
  for (const AnnualMean& m : annual_means(start_hour, values_k))
    if (m.coverage >= min_year_coverage_for_trend) used.push_back(m);
  require(used.size() >= static_cast<size_t>(min_years_for_trend),
          "cannot estimate the trend: only " + std::to_string(used.size()) +
              " year(s) have at least 90 % of their hours and a trend needs " + std::to_string(min_years_for_trend) +
              " (a shorter record's slope is mostly weather); give --trend RATE or --no-trend, or use more years");
  for (const AnnualMean& m : used) {
    n += 1;
    sum_x += m.year;
    sum_y += m.mean_k;
  }
  const double mean_x = sum_x / n, mean_y = sum_y / n;
  double sxy = 0, sxx = 0;
  for (const AnnualMean& m : used) {
    sxy += (m.year - mean_x) * (m.mean_k - mean_y);
    sxx += (m.year - mean_x) * (m.year - mean_x);
  }
  return sxy / sxx;
}

int last_year_with_data(int64_t start_hour, const std::vector<double>& values_k) {
  for (size_t i = values_k.size(); i-- > 0;)
    if (!std::isnan(values_k[i])) return civil_from_hours(start_hour + static_cast<int64_t>(i)).year;
  throw Error("the series has no present values");
}

Standardisation standardisation_of(const Store& store, int c) {
  double sum = 0;
  int64_t present = 0;
  for (int64_t i = 0; i < store.num_hours; ++i) {
    const double value = store.detrended_k(c, i);
    if (std::isnan(value)) continue;
    sum += value;
    ++present;
  }
  require(present >= min_present_hours, "only " + std::to_string(present) + " hours have a value; at least " +
                                            std::to_string(min_present_hours) +
                                            " (one 64-day training window) are needed to standardise");
  const double mean = sum / present;
  double squares = 0;  // second pass: no cancellation from sum of squares
  for (int64_t i = 0; i < store.num_hours; ++i) {
    const double value = store.detrended_k(c, i);
    if (!std::isnan(value)) squares += (value - mean) * (value - mean);
  }
  const double sd = std::sqrt(squares / present);
  require(sd > 0, "the series is constant (standard deviation 0): nothing to learn");
  return {mean, sd};
}

Store make_cell_store(const HourlySeries& raw, const LatLon& location, const PreprocessOptions& options) {
  require(location.latitude >= -90 && location.latitude <= 90,
          "latitude " + std::to_string(location.latitude) + " is outside -90..90");
  require(location.longitude >= -180 && location.longitude <= 360,
          "longitude " + std::to_string(location.longitude) + " is outside -180..360");
  const HourlySeries series = select_period(raw, options.from_hour, options.until_hour);

  Store store;
  store.start_hour = series.start_hour;
  store.num_hours = static_cast<int64_t>(series.values_k.size());
  store.reference_year = options.reference_year.value_or(last_year_with_data(series.start_hour, series.values_k));

  CellSeries cell;
  cell.latitude = location.latitude;
  cell.longitude = location.longitude > 180 ? location.longitude - 360 : location.longitude;
  cell.utc_offset_hours = options.utc_offset_hours.value_or(default_utc_offset_hours(cell.longitude));
  require(cell.utc_offset_hours >= -12 && cell.utc_offset_hours <= 14,
          "UTC offset " + std::to_string(cell.utc_offset_hours) + " h is outside -12..14");
  cell.tas_k.assign(series.values_k.begin(), series.values_k.end());
  // Estimated from the float values the store keeps, so reading the store reproduces it.
  std::vector<double> stored(cell.tas_k.begin(), cell.tas_k.end());
  cell.trend_k_per_year = options.trend_k_per_year ? *options.trend_k_per_year
                                                   : estimate_trend_k_per_year(series.start_hour, stored);
  store.cells.push_back(std::move(cell));

  const Standardisation standard = standardisation_of(store, 0);
  store.cells[0].offset_k = standard.offset_k;
  store.cells[0].scale_k = standard.scale_k;
  return store;
}

Store merge_cell_stores(const std::vector<Store>& stores) {
  require(!stores.empty(), "no cells to merge");
  Store merged;
  merged.reference_year = stores[0].reference_year;
  merged.start_hour = stores[0].start_hour;
  int64_t end_hour = stores[0].start_hour + stores[0].num_hours;
  for (const Store& s : stores) {
    require(s.reference_year == merged.reference_year, "cells to merge have different reference years");
    merged.start_hour = std::min(merged.start_hour, s.start_hour);
    end_hour = std::max(end_hour, s.start_hour + s.num_hours);
  }
  merged.num_hours = end_hour - merged.start_hour;
  for (const Store& s : stores)
    for (const CellSeries& cell : s.cells) {
      CellSeries aligned = cell;
      aligned.tas_k.assign(static_cast<size_t>(merged.num_hours), std::nanf(""));
      std::copy(cell.tas_k.begin(), cell.tas_k.end(), aligned.tas_k.begin() + (s.start_hour - merged.start_hour));
      merged.cells.push_back(std::move(aligned));
    }
  merged.total_cells = static_cast<int>(merged.cells.size());
  return merged;
}

}  // namespace climvae
