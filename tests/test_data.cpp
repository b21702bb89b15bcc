// src/data: CSV reading, units, preprocessing, the PnetCDF store, and `climvae prepare`.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "test_support.hpp"
#include "data/cdf_header.hpp"
#include "data/csv_series.hpp"
#include "data/prepare.hpp"
#include "data/preprocess.hpp"
#include "data/store.hpp"
#include "data/units.hpp"

using namespace climvae;
using namespace climvae::testing;
namespace fs = std::filesystem;

namespace {

const std::string data_dir = CLIMVAE_TEST_DATA;
const std::string paris_csv = data_dir + "/openmeteo/open-meteo-48.82N2.29E46m_Paris.csv";
const std::string berlin_csv = data_dir + "/openmeteo/open-meteo-52.55N13.41E38m_Berlin.csv";

// One scratch directory per test run, the same on every rank (rank 0's pid names it).
const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    long pid = static_cast<long>(::getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    const fs::path path = fs::temp_directory_path() / ("climvae_test_data_" + std::to_string(pid));
    if (world_rank() == 0) fs::create_directories(path);
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
  }();
  return dir;
}

// Removes the scratch directory after the last test (rank 0, once every rank is done with it).
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) fs::remove_all(scratch_dir());
  }
};
const auto* const scratch_cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

// A synthetic hourly series: a linear trend, an exact annual and daily cycle, small noise.
HourlySeries synthetic_series(int first_year, int last_year, double slope_k_per_year) {
  HourlySeries series;
  series.start_hour = hours_from_civil({first_year, 1, 1, 0});
  const int64_t end = hours_from_civil({last_year + 1, 1, 1, 0});
  std::mt19937 random(12345);
  std::normal_distribution<double> noise(0.0, 0.3);
  const double pi = std::acos(-1.0);
  for (int64_t h = series.start_hour; h < end; ++h) {
    const CivilDate date = civil_from_hours(h);
    const double annual = -10.0 * std::cos(2 * pi * day_of_year(h) / days_in_year(date.year));  // sums to 0 per year
    const double daily = 4.0 * std::sin(2 * pi * date.hour / 24.0);
    series.values_k.push_back(285.0 + slope_k_per_year * (fractional_year(h) - 2000.0) + annual + daily + noise(random));
  }
  return series;
}

}  // namespace

// ---- CSV ------------------------------------------------------------------------------------

TEST(CsvSeries, ReadsOpenMeteoParis) {
  const HourlySeries series = read_csv_series(paris_csv);
  EXPECT_EQ(series.start_hour, parse_iso_hour("2014-01-01T00:00"));
  ASSERT_EQ(series.values_k.size(), 87672u);  // 87674 lines less the empty line and the header
  EXPECT_NEAR(series.values_k.front(), 5.9 + 273.15, 1e-9);
  EXPECT_NEAR(series.values_k[1], 5.5 + 273.15, 1e-9);
  EXPECT_NEAR(series.values_k.back(), 9.9 + 273.15, 1e-9);
  EXPECT_EQ(series.start_hour + 87671, parse_iso_hour("2024-01-01T23:00"));
  for (double v : series.values_k) ASSERT_FALSE(std::isnan(v));
  EXPECT_FALSE(series.location.has_value());
  EXPECT_TRUE(series.file_unit == TemperatureUnit::celsius);
}

TEST(CsvSeries, BerlinTrailingEmptyValuesAreMissing) {
  const HourlySeries series = read_csv_series(berlin_csv);
  EXPECT_EQ(series.start_hour, parse_iso_hour("2015-03-13T00:00"));
  const size_t n = series.values_k.size();
  ASSERT_EQ(n, 87696u);
  for (size_t i = n - 47; i < n; ++i) EXPECT_TRUE(std::isnan(series.values_k[i])) << i;
  EXPECT_NEAR(series.values_k[n - 48], 273.15 + 3.0, 30.0);
  EXPECT_FALSE(std::isnan(series.values_k[n - 48]));
  EXPECT_NEAR(series.values_k.front(), 1.2 + 273.15, 1e-9);
}

TEST(CsvSeries, ReadsOpenMeteoMetadataLinesAndFahrenheit) {
  const HourlySeries series = read_csv_series(data_dir + "/small/openmeteo_metadata_degF.csv");
  ASSERT_TRUE(series.location.has_value());
  EXPECT_DOUBLE_EQ(series.location->latitude, 52.52);
  EXPECT_DOUBLE_EQ(series.location->longitude, 13.419998);
  EXPECT_EQ(series.start_hour, parse_iso_hour("2020-02-28T22:00"));
  ASSERT_EQ(series.values_k.size(), 5u);
  EXPECT_NEAR(series.values_k[0], 273.15, 1e-9);
  EXPECT_NEAR(series.values_k[1], 274.15, 1e-9);
  EXPECT_TRUE(std::isnan(series.values_k[2]));  // empty value
  EXPECT_TRUE(std::isnan(series.values_k[3]));  // "NaN"
  EXPECT_NEAR(series.values_k[4], 275.15, 1e-9);
}

TEST(CsvSeries, GenericFileNeedsUnitsAndFillsGapsWithNaN) {
  const std::string path = data_dir + "/small/generic_with_gap.csv";
  EXPECT_CONTAINS(error_message([&] { read_csv_series(path); }), "--units");
  const HourlySeries series = read_csv_series(path, TemperatureUnit::kelvin);
  EXPECT_EQ(series.start_hour, parse_iso_hour("2020-12-31T22:00"));
  ASSERT_EQ(series.values_k.size(), 5u);
  EXPECT_DOUBLE_EQ(series.values_k[0], 271.5);
  EXPECT_DOUBLE_EQ(series.values_k[1], 271.0);
  EXPECT_TRUE(std::isnan(series.values_k[2]));
  EXPECT_TRUE(std::isnan(series.values_k[3]));
  EXPECT_DOUBLE_EQ(series.values_k[4], 270.0);
  // A header unit and a different given unit contradict each other.
  EXPECT_CONTAINS(error_message([&] { read_csv_series(paris_csv, TemperatureUnit::kelvin); }), "header says degC");
}

TEST(CsvSeries, BadInputsNameTheProblem) {
  const std::string bad = data_dir + "/bad/";
  std::string message = error_message([&] { read_csv_series(bad + "duplicate_timestamp.csv"); });
  EXPECT_CONTAINS(message, "duplicate_timestamp.csv:4");
  EXPECT_CONTAINS(message, "duplicate timestamp 2020-01-01T01:00");
  message = error_message([&] { read_csv_series(bad + "backwards_timestamp.csv"); });
  EXPECT_CONTAINS(message, "backwards_timestamp.csv:4");
  EXPECT_CONTAINS(message, "goes backwards");
  message = error_message([&] { read_csv_series(bad + "half_hourly.csv"); });
  EXPECT_CONTAINS(message, "half_hourly.csv:3");
  EXPECT_CONTAINS(message, "whole hours");
  message = error_message([&] { read_csv_series(bad + "three_hourly.csv"); });
  EXPECT_CONTAINS(message, "three_hourly.csv");
  EXPECT_CONTAINS(message, "3 hours apart");
  message = error_message([&] { read_csv_series(bad + "non_numeric.csv"); });
  EXPECT_CONTAINS(message, "non_numeric.csv:3");
  EXPECT_CONTAINS(message, "non-numeric value 'warm'");
  message = error_message([&] { read_csv_series(bad + "no_data_rows.csv"); });
  EXPECT_CONTAINS(message, "no_data_rows.csv");
  EXPECT_CONTAINS(message, "no data rows");
  EXPECT_CONTAINS(error_message([&] { read_csv_series(bad + "does_not_exist.csv"); }), "cannot open");
}

TEST(CsvSeries, ImpossibleTemperaturesNameFileLineAndValue) {
  SharedDirectory dir("climvae-csv");
  // Each file: two good rows, then the bad value on line 4.
  const auto file = [&](const std::string& name, const std::string& unit, const std::string& bad) {
    const std::string path = dir / (name + ".csv");
    if (world_rank() == 0)
      std::ofstream(path) << "time,temperature_2m (" << unit << ")\n2020-01-01T00:00," << (unit == "K" ? "280" : "7")
                          << "\n2020-01-01T01:00," << (unit == "K" ? "281" : "8") << "\n2020-01-01T02:00," << bad << "\n";
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
  };
  const std::vector<std::vector<std::string>> cases = {
      {"minus290K", "K", "-290", "minus290K.csv:4: temperature -290 K (-290 K)"},
      {"typo", "\xC2\xB0" "C", "99999", "typo.csv:4: temperature 99999 degC (100272.15 K)"},
      {"huge", "K", "1e20", "huge.csv:4: temperature 1e+20 K"},
      {"below_zero", "degC", "-274", "below_zero.csv:4: temperature -274 degC (-0.85 K)"},
      {"kelvin_as_celsius", "degC", "285.5", "kelvin_as_celsius.csv:4: temperature 285.5 degC (558.65 K)"},
      {"max_double", "K", "1e308", "max_double.csv:4: temperature 1e+308 K"},
  };
  for (const auto& c : cases) {
    const std::string message = error_message([&] { read_csv_series(file(c[0], c[1], c[2])); });
    EXPECT_CONTAINS(message, c[3]);
    EXPECT_CONTAINS(message, "outside 170..340 K");
  }
  // Beyond double range is not a number at all, and says so with the text.
  EXPECT_CONTAINS(error_message([&] { read_csv_series(file("overflow", "K", "1e309")); }), "non-numeric value '1e309'");
}

TEST(CsvSeries, LocationFromOpenMeteoFileName) {
  const auto paris = location_from_openmeteo_filename(paris_csv);
  ASSERT_TRUE(paris.has_value());
  EXPECT_DOUBLE_EQ(paris->latitude, 48.82);
  EXPECT_DOUBLE_EQ(paris->longitude, 2.29);
  const auto south_west = location_from_openmeteo_filename("/x/42.1N/open-meteo-33.87S70.65W570m_Santiago.csv");
  ASSERT_TRUE(south_west.has_value());
  EXPECT_DOUBLE_EQ(south_west->latitude, -33.87);
  EXPECT_DOUBLE_EQ(south_west->longitude, -70.65);
  EXPECT_FALSE(location_from_openmeteo_filename("/data/station.csv").has_value());
}

// ---- units ----------------------------------------------------------------------------------

TEST(Units, ParsesSpellingsAndConverts) {
  for (const char* k : {"K", "kelvin", " Kelvin "}) EXPECT_TRUE(parse_temperature_unit(k) == TemperatureUnit::kelvin) << k;
  for (const char* c : {"degC", "C", "\xC2\xB0" "C", "celsius", "Celsius"})
    EXPECT_TRUE(parse_temperature_unit(c) == TemperatureUnit::celsius) << c;
  for (const char* f : {"degF", "F", "\xC2\xB0" "F", "fahrenheit"})
    EXPECT_TRUE(parse_temperature_unit(f) == TemperatureUnit::fahrenheit) << f;
  EXPECT_CONTAINS(error_message([] { parse_temperature_unit("rankine"); }), "'rankine'");
  EXPECT_DOUBLE_EQ(to_kelvin(0.0, TemperatureUnit::celsius), 273.15);
  EXPECT_NEAR(to_kelvin(32.0, TemperatureUnit::fahrenheit), 273.15, 1e-12);
  EXPECT_NEAR(to_kelvin(212.0, TemperatureUnit::fahrenheit), 373.15, 1e-12);
  EXPECT_DOUBLE_EQ(to_kelvin(250.0, TemperatureUnit::kelvin), 250.0);
  EXPECT_NEAR(difference_to_kelvin(9.0, TemperatureUnit::fahrenheit), 5.0, 1e-12);
  EXPECT_DOUBLE_EQ(difference_to_kelvin(2.0, TemperatureUnit::celsius), 2.0);
}

TEST(Units, ParsesTrendRates) {
  EXPECT_NEAR(parse_trend_rate_k_per_year("0.7degF/decade"), 0.7 * 5.0 / 9.0 / 10.0, 1e-12);
  EXPECT_NEAR(parse_trend_rate_k_per_year("0.03K/year"), 0.03, 1e-12);
  EXPECT_NEAR(parse_trend_rate_k_per_year("0.2degC/decade"), 0.02, 1e-12);
  EXPECT_NEAR(parse_trend_rate_k_per_year(" -1.5 C / century "), -0.015, 1e-12);
  EXPECT_CONTAINS(error_message([] { parse_trend_rate_k_per_year("fast"); }), "'fast'");
  EXPECT_CONTAINS(error_message([] { parse_trend_rate_k_per_year("0.7degF/week"); }), "'week'");
  EXPECT_CONTAINS(error_message([] { parse_trend_rate_k_per_year("0.7furlong/decade"); }), "'furlong'");
}

// ---- preprocessing --------------------------------------------------------------------------

TEST(Preprocess, RecoversAKnownTrendAndSkipsIncompleteYears) {
  HourlySeries series = synthetic_series(2001, 2010, 0.05);
  // Remove the cold half of 2005: that year's mean would be far too warm, so it must not count.
  for (size_t i = 0; i < series.values_k.size(); ++i) {
    const int64_t h = series.start_hour + static_cast<int64_t>(i);
    const CivilDate d = civil_from_hours(h);
    if (d.year == 2005 && (d.month <= 3 || d.month >= 10)) series.values_k[i] = std::nan("");
  }
  EXPECT_NEAR(estimate_trend_k_per_year(series.start_hour, series.values_k), 0.05, 1e-3);
  const auto means = annual_means(series.start_hour, series.values_k);
  ASSERT_EQ(means.size(), 10u);
  EXPECT_EQ(means[4].year, 2005);
  EXPECT_LT(means[4].coverage, 0.9);
  EXPECT_DOUBLE_EQ(means[0].coverage, 1.0);
  EXPECT_EQ(last_year_with_data(series.start_hour, series.values_k), 2010);

  // Four complete years are refused, five are enough.
  const HourlySeries four_years = synthetic_series(2001, 2004, 0.05);
  const std::string refused = error_message([&] { estimate_trend_k_per_year(four_years.start_hour, four_years.values_k); });
  EXPECT_CONTAINS(refused, "only 4 year(s)");
  EXPECT_CONTAINS(refused, "--no-trend");
  const HourlySeries five_years = synthetic_series(2001, 2005, 0.05);
  EXPECT_NEAR(estimate_trend_k_per_year(five_years.start_hour, five_years.values_k), 0.05, 5e-3);
}

TEST(Preprocess, DetrendingFollowsTheFormula) {
  const HourlySeries series = synthetic_series(2001, 2005, 0.1);
  PreprocessOptions options;
  options.reference_year = 2024;
  const Store store = make_cell_store(series, {40.0, -75.2}, options);
  EXPECT_EQ(store.reference_year, 2024);
  const CellSeries& cell = store.cells[0];
  EXPECT_EQ(cell.utc_offset_hours, -5);
  EXPECT_NEAR(cell.trend_k_per_year, 0.1, 5e-3);  // five noisy years only
  for (int64_t i : {int64_t(0), int64_t(1234), store.num_hours - 1}) {
    const int64_t h = store.start_hour + i;
    EXPECT_DOUBLE_EQ(store.detrended_k(0, i), cell.tas_k[i] - cell.trend_k_per_year * (fractional_year(h) - 2024));
    EXPECT_DOUBLE_EQ(store.at_year_k(0, i, 1990), cell.tas_k[i] - cell.trend_k_per_year * (fractional_year(h) - 1990));
  }
  // With the estimated trend removed, the annual means carry no trend left.
  std::vector<double> detrended;
  for (int64_t i = 0; i < store.num_hours; ++i) detrended.push_back(store.detrended_k(0, i));
  EXPECT_NEAR(estimate_trend_k_per_year(store.start_hour, detrended), 0.0, 1e-5);
}

TEST(Preprocess, OptionsAndDefaults) {
  EXPECT_EQ(default_utc_offset_hours(2.29), 0);
  EXPECT_EQ(default_utc_offset_hours(13.41), 1);
  EXPECT_EQ(default_utc_offset_hours(-112.07), -7);  // Phoenix
  EXPECT_EQ(parse_until_bound("2021-12-31"), parse_iso_hour("2022-01-01"));
  EXPECT_EQ(parse_until_bound("2021-12-31T12:00"), parse_iso_hour("2021-12-31T13:00"));
  EXPECT_EQ(parse_from_bound("2014-01-01"), parse_iso_hour("2014-01-01T00:00"));

  const HourlySeries paris = read_csv_series(paris_csv);
  PreprocessOptions options;
  options.from_hour = parse_from_bound("2014-01-01");
  options.until_hour = parse_until_bound("2021-12-31");
  options.trend_k_per_year = parse_trend_rate_k_per_year("0.7degF/decade");
  options.utc_offset_hours = 1;
  const Store store = make_cell_store(paris, {48.82, 2.29}, options);
  EXPECT_EQ(store.start_hour, parse_iso_hour("2014-01-01"));
  EXPECT_EQ(store.num_hours, 8 * 8760 + 2 * 24);  // 2016 and 2020 are leap years
  EXPECT_EQ(store.reference_year, 2021);
  EXPECT_EQ(store.cells[0].utc_offset_hours, 1);
  EXPECT_NEAR(store.cells[0].trend_k_per_year, 0.7 * 5.0 / 90.0, 1e-12);
  EXPECT_FLOAT_EQ(store.cells[0].tas_k[0], static_cast<float>(5.9 + 273.15));

  options.from_hour = parse_from_bound("2030-01-01");
  options.until_hour.reset();
  EXPECT_CONTAINS(error_message([&] { make_cell_store(paris, {48.82, 2.29}, options); }), "does not overlap");
}

TEST(Preprocess, StandardisationGivesMeanZeroAndUnitDeviation) {
  const HourlySeries series = read_csv_series(berlin_csv);
  const Store store = make_cell_store(series, {52.55, 13.41}, {});
  EXPECT_EQ(store.reference_year, 2025);  // Berlin's last present value is in March 2025
  const CellSeries& cell = store.cells[0];
  double sum = 0, squares = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < store.num_hours; ++i) {
    const double z = (store.detrended_k(0, i) - cell.offset_k) / cell.scale_k;
    if (std::isnan(z)) continue;
    sum += z;
    squares += z * z;
    ++n;
  }
  EXPECT_EQ(n, store.num_hours - 47);
  EXPECT_NEAR(sum / n, 0.0, 1e-9);
  EXPECT_NEAR(std::sqrt(squares / n), 1.0, 1e-9);
  EXPECT_GT(cell.scale_k, 3.0);
  EXPECT_LT(cell.scale_k, 15.0);

  HourlySeries short_series = synthetic_series(2001, 2001, 0.0);
  short_series.values_k.resize(30 * 24);
  PreprocessOptions no_trend;
  no_trend.trend_k_per_year = 0.0;
  EXPECT_CONTAINS(error_message([&] { make_cell_store(short_series, {0, 0}, no_trend); }), "64-day");
}

// ---- store ----------------------------------------------------------------------------------

namespace {

Store two_cell_store() {
  Store store;
  store.start_hour = parse_iso_hour("2019-12-30T05:00");
  store.num_hours = 24 * 40 + 7;
  store.reference_year = 2024;
  store.source = "synthetic";
  store.history = "test_data";
  for (int c = 0; c < 2; ++c) {
    CellSeries cell;
    cell.latitude = 45.0 + c;
    cell.longitude = -100.5 + 3 * c;
    cell.utc_offset_hours = -7 + c;
    cell.trend_k_per_year = 0.02 * (c + 1);
    cell.offset_k = 280.0 + c;
    cell.scale_k = 5.0 + c;
    for (int64_t i = 0; i < store.num_hours; ++i)
      cell.tas_k.push_back(i % 97 == 3 ? std::nanf("") : static_cast<float>(270.0 + c + 0.01 * i));
    store.cells.push_back(cell);
  }
  return store;
}

void expect_same_store(const Store& a, const Store& b) {
  EXPECT_EQ(a.start_hour, b.start_hour);
  EXPECT_EQ(a.num_hours, b.num_hours);
  EXPECT_EQ(a.reference_year, b.reference_year);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.history, b.history);
  ASSERT_EQ(a.cells.size(), b.cells.size());
  for (size_t c = 0; c < a.cells.size(); ++c) {
    EXPECT_EQ(a.cells[c].latitude, b.cells[c].latitude);
    EXPECT_EQ(a.cells[c].longitude, b.cells[c].longitude);
    EXPECT_EQ(a.cells[c].utc_offset_hours, b.cells[c].utc_offset_hours);
    EXPECT_EQ(a.cells[c].trend_k_per_year, b.cells[c].trend_k_per_year);
    EXPECT_EQ(a.cells[c].offset_k, b.cells[c].offset_k);
    EXPECT_EQ(a.cells[c].scale_k, b.cells[c].scale_k);
    ASSERT_EQ(a.cells[c].tas_k.size(), b.cells[c].tas_k.size());
    for (size_t i = 0; i < a.cells[c].tas_k.size(); ++i) {
      const float x = a.cells[c].tas_k[i], y = b.cells[c].tas_k[i];
      ASSERT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << "cell " << c << " hour " << i;
    }
  }
}

bool any_temporary_left(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

// A store-like file lacking `lat`, made by hand with PnetCDF on rank 0.
void write_store_without_lat(const std::string& path) {
  int ncid = -1, cell = -1, time = -1, var = -1;
  const int version = 1;
  ASSERT_EQ(ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &ncid), NC_NOERR);
  ncmpi_def_dim(ncid, "cell", 1, &cell);
  ncmpi_def_dim(ncid, "time", 3, &time);
  ncmpi_def_var(ncid, "time", NC_INT64, 1, &time, &var);
  ncmpi_put_att_int(ncid, NC_GLOBAL, "climvae_store_version", NC_INT, 1, &version);
  ncmpi_enddef(ncid);
  const long long hours[3] = {0, 1, 2};
  const MPI_Offset start = 0, count = 3;
  ncmpi_put_vara_longlong_all(ncid, var, &start, &count, hours);
  ASSERT_EQ(ncmpi_close(ncid), NC_NOERR);
}

}  // namespace

TEST(Store, WriteReadRoundTrip) {
  const Store store = two_cell_store();
  const std::string path = (scratch_dir() / "round_trip.nc").string();
  write_store(store, path, true);
  expect_same_store(store, read_store(path));
  EXPECT_FALSE(any_temporary_left(scratch_dir()));
  // Rewriting replaces the file in place, but only when allowed: otherwise nothing is lost.
  Store changed = store;
  changed.reference_year = 2030;
  EXPECT_CONTAINS(error_message([&] { write_store(changed, path, false); }), "exists");
  expect_same_store(store, read_store(path));
  EXPECT_FALSE(any_temporary_left(scratch_dir()));
  write_store(changed, path, true);
  EXPECT_EQ(read_store(path).reference_year, 2030);
}

TEST(Store, ImplausibleCellStatisticsAreNeverWritten) {
  SharedDirectory dir("climvae-store");
  const std::string path = dir / "implausible.nc";
  Store kelvin_as_celsius = two_cell_store();
  kelvin_as_celsius.cells[1].offset_k = 556.6;  // Kelvin values read as degC
  EXPECT_CONTAINS(error_message([&] { write_store(kelvin_as_celsius, path, false); }),
                  "cell 1: mean temperature (offset, K) 556.600000 is outside 170");
  Store typo = two_cell_store();
  typo.cells[0].scale_k = 754;  // one 99999 degC value
  typo.cells[0].trend_k_per_year = -13;
  EXPECT_CONTAINS(error_message([&] { write_store(typo, path, false); }), "cell 0: standard deviation (scale, K) 754");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Store, FailedWriteLeavesNoFile) {
  const fs::path dir = scratch_dir() / "atomic";
  if (world_rank() == 0) fs::create_directories(dir / "occupied.nc" / "inside");
  MPI_Barrier(MPI_COMM_WORLD);

  Store broken = two_cell_store();
  broken.cells[1].tas_k.pop_back();
  const std::string path = (dir / "broken.nc").string();
  EXPECT_CONTAINS(error_message([&] { write_store(broken, path, false); }), "cell 1");
  EXPECT_FALSE(fs::exists(path));

  // The final rename fails (a directory is in the way): the finished temporary must go too.
  const std::string occupied = (dir / "occupied.nc").string();
  EXPECT_CONTAINS(error_message([&] { write_store(two_cell_store(), occupied, false); }), "cannot move");
  EXPECT_TRUE(fs::is_directory(occupied));
  EXPECT_FALSE(any_temporary_left(dir));
}

TEST(Store, BadStoresNameTheFileAndProblem) {
  const std::string not_netcdf = data_dir + "/bad/not_netcdf.nc";
  std::string message = error_message([&] { read_store(not_netcdf); });
  EXPECT_CONTAINS(message, not_netcdf);
  EXPECT_CONTAINS(message, "not a NetCDF file");

  const std::string missing = (scratch_dir() / "no_such_store.nc").string();
  EXPECT_CONTAINS(error_message([&] { read_store(missing); }), "no_such_store.nc: cannot open");

  const std::string whole = (scratch_dir() / "whole.nc").string();
  const std::string truncated = (scratch_dir() / "truncated.nc").string();
  const std::string without_lat = (scratch_dir() / "without_lat.nc").string();
  write_store(two_cell_store(), whole, true);
  if (world_rank() == 0) {
    fs::copy_file(whole, truncated, fs::copy_options::overwrite_existing);
    fs::resize_file(truncated, fs::file_size(whole) - 1000);
    write_store_without_lat(without_lat);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  message = error_message([&] { read_store(truncated); });
  EXPECT_CONTAINS(message, "truncated.nc");
  EXPECT_CONTAINS(message, "truncated (");
  message = error_message([&] { read_store(without_lat); });
  EXPECT_CONTAINS(message, "without_lat.nc");
  EXPECT_CONTAINS(message, "variable 'lat' is missing");
}

// Every count of a classic/CDF-5 header must fit in the file before PnetCDF opens it (it
// allocates what the header announces: one flipped byte once asked for 17 GB).
TEST(Store, CorruptHeaderCountsAreRefusedBeforeOpening) {
  const std::string whole = (scratch_dir() / "header_whole.nc").string();
  const std::string long_attribute = (scratch_dir() / "header_long_attribute.nc").string();
  const std::string many_dimensions = (scratch_dir() / "header_many_dimensions.nc").string();
  const std::string cut = (scratch_dir() / "header_cut.nc").string();
  write_store(two_cell_store(), whole, true);
  EXPECT_NO_THROW(check_cdf_header(whole));
  if (world_rank() == 0) {
    std::ifstream in(whole, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(bytes.substr(0, 4), std::string("CDF\x05", 4));
    const auto write = [](const std::string& path, const std::string& content) {
      std::ofstream(path, std::ios::binary) << content;
    };
    std::string b = bytes;
    const size_t units = b.find("units");  // then padding to 8, the type (4), the 8-byte length
    b[units + 15] = 4;                      // + 4 x 2^32 values
    write(long_attribute, b);
    b = bytes;
    b[16] = 0x7f;  // the dimension list's 8-byte count, after magic, numrecs and its tag
    write(many_dimensions, b);
    write(cut, bytes.substr(0, 10));  // inside the record count
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_CONTAINS(error_message([&] { read_store(long_attribute); }), "attribute values at byte");
  EXPECT_CONTAINS(error_message([&] { read_store(long_attribute); }), "more than the file's");
  EXPECT_CONTAINS(error_message([&] { check_cdf_header(many_dimensions); }), "dimension list");
  EXPECT_CONTAINS(error_message([&] { check_cdf_header(cut); }), "header ends inside the record count");
}

// ---- climvae prepare ------------------------------------------------------------------------

namespace {

struct CommandResult {
  int status;
  std::string output;
};

// Runs the climvae binary outside this MPI job: a clean environment, so that it starts as its
// own singleton instead of joining the test's mpiexec job.
CommandResult run_climvae(const std::string& arguments) {
  const std::string command = "env -i PATH=/usr/bin:/bin OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                              "OMP_NUM_THREADS=1 " + std::string(CLIMVAE_BINARY) + " " + arguments + " 2>&1";
  CommandResult result{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace

TEST(PrepareCommand, WritesTheParisStore) {
  const std::string output = (scratch_dir() / "paris.nc").string();
  if (world_rank() == 0) {
    const CommandResult help = run_climvae("prepare --help");
    EXPECT_EQ(help.status, 0) << help.output;
    EXPECT_CONTAINS(help.output, "--input");
    EXPECT_CONTAINS(help.output, "--reference-year");

    const CommandResult unknown = run_climvae("prepare --bogus-option 3");
    EXPECT_NE(unknown.status, 0);
    EXPECT_CONTAINS(unknown.output, "bogus-option");

    const CommandResult made = run_climvae("prepare --input " + paris_csv + " --output " + output +
                                           " --from 2014-01-01 --until 2021-12-31");
    EXPECT_EQ(made.status, 0) << made.output;
    EXPECT_CONTAINS(made.output, "48.8200 N");
    EXPECT_CONTAINS(made.output, "K/decade");

    const CommandResult again = run_climvae("prepare --input " + paris_csv + " --output " + output);
    EXPECT_NE(again.status, 0);
    EXPECT_CONTAINS(again.output, "--overwrite");

    const CommandResult no_location = run_climvae("prepare --input " + data_dir + "/small/generic_with_gap.csv --units K --output " +
                                                  (scratch_dir() / "nowhere.nc").string());
    EXPECT_NE(no_location.status, 0);
    EXPECT_CONTAINS(no_location.output, "--lat");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const Store store = read_store(output);
  ASSERT_EQ(store.cells.size(), 1u);
  EXPECT_DOUBLE_EQ(store.cells[0].latitude, 48.82);
  EXPECT_DOUBLE_EQ(store.cells[0].longitude, 2.29);
  EXPECT_EQ(store.cells[0].utc_offset_hours, 0);
  EXPECT_EQ(store.start_hour, parse_iso_hour("2014-01-01"));
  EXPECT_EQ(store.num_hours, 70128);
  EXPECT_EQ(store.reference_year, 2021);
  EXPECT_FLOAT_EQ(store.cells[0].tas_k[0], static_cast<float>(5.9 + 273.15));
  EXPECT_GT(store.cells[0].trend_k_per_year, 0.0);
  EXPECT_NEAR(store.cells[0].offset_k, 285.5, 2.0);
  EXPECT_NEAR(store.cells[0].scale_k, 7.0, 1.0);
  EXPECT_CONTAINS(store.history, "climvae prepare --input");
  EXPECT_EQ(store.source, paris_csv);
}

TEST(PrepareStore, TheLibraryMakesAStoreInOneCall) {
  const std::string output = (scratch_dir() / "library_sites.nc").string();
  PrepareRequest request;
  request.sites = {{paris_csv, {}, {}}, {berlin_csv, LatLon{52.5, 13.4}, {}}};
  request.preprocess.trend_k_per_year = 0.0;
  request.preprocess.from_hour = parse_iso_hour("2020-01-01");
  request.preprocess.until_hour = parse_iso_hour("2022-01-01");
  request.history = "library call";
  const PreparedStore prepared = prepare_store(request, output);  // collective
  if (world_rank() == 0) EXPECT_EQ(prepared.store.cells.size(), 2u);
  const Store store = read_store(output);
  ASSERT_EQ(store.cells.size(), 2u);
  EXPECT_DOUBLE_EQ(store.cells[0].latitude, 48.82);  // from the Open-Meteo file name
  EXPECT_DOUBLE_EQ(store.cells[1].latitude, 52.5);   // the site's own location comes first
  EXPECT_EQ(store.start_hour, parse_iso_hour("2020-01-01"));
  EXPECT_EQ(store.reference_year, 2021);
  EXPECT_EQ(store.source, paris_csv + ";" + berlin_csv);
  EXPECT_EQ(store.history, "library call");
  // Every rank throws the same error for an existing output; --overwrite's request replaces it.
  EXPECT_CONTAINS(error_message([&] { prepare_store(request, output); }), "exists; give --overwrite");
  request.overwrite = true;
  request.sites.pop_back();
  prepare_store(request, output);
  EXPECT_EQ(read_store(output).cells.size(), 1u);
}

TEST(PrepareStore, SiteListsAndInputKinds) {
  const std::string list = (scratch_dir() / ("sites_" + std::to_string(world_rank()) + ".txt")).string();
  {
    std::ofstream out(list);
    out << "# path, lat, lon, offset\n\nparis.csv\n/abs/berlin.csv, 52.5, 13.4\nstation.csv,-33.9,151.2,10  # Sydney\n";
  }
  const std::vector<Site> sites = read_site_list(list);
  ASSERT_EQ(sites.size(), 3u);
  EXPECT_EQ(sites[0].path, scratch_dir().string() + "/paris.csv");
  EXPECT_FALSE(sites[0].location.has_value());
  EXPECT_EQ(sites[1].path, "/abs/berlin.csv");
  EXPECT_DOUBLE_EQ(sites[1].location->longitude, 13.4);
  EXPECT_EQ(sites[2].timestamp_offset_hours, 10);
  {
    std::ofstream out(list);
    out << "paris.csv,48.8\n";
  }
  EXPECT_CONTAINS(error_message([&] { read_site_list(list); }), ":1: expected PATH[,LAT,LON[,TIMESTAMP_UTC_OFFSET]]");
  EXPECT_TRUE(is_netcdf_input("missing.nc"));
  EXPECT_FALSE(is_netcdf_input(paris_csv));
  EXPECT_TRUE(is_netcdf_input(data_dir + "/era5/era5-cds-nc-feedinlib/ERA5_example_data.nc"));
}
