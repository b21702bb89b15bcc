// From a raw hourly series in kelvin to a store cell: local-time offset, linear trend and
// standardisation constants (see MODEL.md, Preprocessing).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "data/csv_series.hpp"
#include "data/store.hpp"

namespace climvae {

// Years whose hours are at least this fraction present count towards the trend estimate.
constexpr double min_year_coverage_for_trend = 0.9;
// Fewer such years are refused: the slope of 2-4 annual means is mostly weather (two Paris
// years gave -1.6 K/year, which a target year 28 years on turns into -45 K).
constexpr int min_years_for_trend = 5;
// Standardisation needs at least one 64-day training window of present hours.
constexpr int64_t min_present_hours = 64 * 24;

struct PreprocessOptions {
  std::optional<int> utc_offset_hours;     // default: round(longitude / 15)
  std::optional<double> trend_k_per_year;  // default: estimated from annual means; 0 = no trend
  std::optional<int> reference_year;       // default: the last year with data
  std::optional<int64_t> from_hour;        // keep samples at or after this hour
  std::optional<int64_t> until_hour;       // keep samples before this hour (exclusive)
};

struct AnnualMean {
  int year;
  double mean_k;
  double coverage;  // present hours / hours in the year
};

// Local solar time offset from UTC in whole hours for a longitude in degrees east.
int default_utc_offset_hours(double longitude);

// `--from 2014-01-01` -> that day's 00:00; `--until 2021-12-31` -> 2022-01-01T00:00 (the until
// day is included). A date-time `--until 2021-12-31T12:00` includes that hour.
int64_t parse_from_bound(const std::string& text);
int64_t parse_until_bound(const std::string& text);

// The samples in [from_hour, until_hour); Error if the range leaves none.
HourlySeries select_period(const HourlySeries& series, std::optional<int64_t> from_hour,
                           std::optional<int64_t> until_hour);

// Mean of the present values in each calendar year touched by the series.
std::vector<AnnualMean> annual_means(int64_t start_hour, const std::vector<double>& values_k);
// Least-squares slope of annual means on year over years with coverage >= min_year_coverage_for_trend;
// Error (suggesting --trend, --no-trend or more years) if fewer than min_years_for_trend such years.
double estimate_trend_k_per_year(int64_t start_hour, const std::vector<double>& values_k);
// Calendar year of the last present sample; Error if none is present.
int last_year_with_data(int64_t start_hour, const std::vector<double>& values_k);

struct Standardisation {
  double offset_k;
  double scale_k;
};
// Mean and standard deviation of the detrended present values of cell `c`; Error if fewer than
// min_present_hours are present or the series is constant.
Standardisation standardisation_of(const Store& store, int c);

// A one-cell store from a series in kelvin (period selection, offset, trend, standardisation).
Store make_cell_store(const HourlySeries& series, const LatLon& location, const PreprocessOptions& options);

// One store of several cells (each made by make_cell_store with the same reference year) on the
// union of their UTC time axes, NaN where a cell has no data; each keeps its own constants.
Store merge_cell_stores(const std::vector<Store>& stores);

}  // namespace climvae
