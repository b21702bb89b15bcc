// climvae prepare: one hourly CSV series -> a one-cell store (trend, offset, scale included).
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/collective.hpp"
#include "data/csv_series.hpp"
#include "data/preprocess.hpp"
#include "data/store.hpp"
#include "data/units.hpp"

namespace {

namespace po = climvae::cli::po;
const char* const summary = "read an hourly 2 m temperature CSV and write a cell store (CDF-5)";

po::options_description prepare_options() {
  po::options_description options("Prepare");
  options.add_options()
    ("input", po::value<std::string>()->required(), "hourly CSV: Open-Meteo export or 'time,value' (UTC)")
    ("output", po::value<std::string>()->required(), "store to write (CDF-5 NetCDF)")
    ("lat", po::value<double>(), "cell latitude in degrees north (default: CSV metadata or file name)")
    ("lon", po::value<double>(), "cell longitude in degrees east (default: CSV metadata or file name)")
    ("units", po::value<std::string>(), "unit of the values when the header names none: degC, K or degF")
    ("utc-offset", po::value<int>(), "local time = UTC + H hours (default: round(lon/15))")
    ("trend", po::value<std::string>(), "warming rate to remove, e.g. 0.7degF/decade (default: estimated)")
    ("no-trend", po::bool_switch(), "remove no trend")
    ("reference-year", po::value<int>(), "year whose climate the detrended series represents (default: last year with data)")
    ("from", po::value<std::string>(), "first day to keep, YYYY-MM-DD")
    ("until", po::value<std::string>(), "last day to keep (included), YYYY-MM-DD")
    ("overwrite", po::bool_switch(), "replace an existing output file");
  return options;
}

template <typename T>
std::optional<T> optional_value(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<T>();
}

climvae::LatLon cell_location(const po::variables_map& vm, const std::string& input,
                              const std::optional<climvae::LatLon>& from_metadata) {
  const bool given_lat = vm.count("lat"), given_lon = vm.count("lon");
  climvae::require(given_lat == given_lon, "give both --lat and --lon, or neither");
  if (given_lat) return {vm["lat"].as<double>(), vm["lon"].as<double>()};
  if (from_metadata) return *from_metadata;
  if (const auto from_name = climvae::location_from_openmeteo_filename(input)) return *from_name;
  throw climvae::Error(input + ": no latitude/longitude in the file or its name; give --lat and --lon");
}

climvae::PreprocessOptions preprocess_options(const po::variables_map& vm) {
  climvae::PreprocessOptions options;
  options.utc_offset_hours = optional_value<int>(vm, "utc-offset");
  options.reference_year = optional_value<int>(vm, "reference-year");
  const bool no_trend = vm["no-trend"].as<bool>();
  climvae::require(!(no_trend && vm.count("trend")), "give --trend or --no-trend, not both");
  if (no_trend) options.trend_k_per_year = 0.0;
  if (vm.count("trend")) options.trend_k_per_year = climvae::parse_trend_rate_k_per_year(vm["trend"].as<std::string>());
  try {
    if (vm.count("from")) options.from_hour = climvae::parse_from_bound(vm["from"].as<std::string>());
    if (vm.count("until")) options.until_hour = climvae::parse_until_bound(vm["until"].as<std::string>());
  } catch (const climvae::Error& e) {
    throw climvae::Error(std::string("--from/--until: ") + e.what());
  }
  return options;
}

void print_summary(const climvae::Store& store, const std::string& output) {
  const climvae::CellSeries& cell = store.cells[0];
  int64_t present = 0;
  for (float v : cell.tas_k) present += !std::isnan(v);
  char line[512];
  std::snprintf(line, sizeof line,
                "wrote %s\n  cell        %.4f N %.4f E, local time = UTC%+d h\n"
                "  period      %s .. %s UTC (%lld hours: %lld present, %lld missing)\n"
                "  trend       %+.4f K/decade removed relative to %d\n"
                "  standardise offset %.4f K, scale %.4f K\n",
                output.c_str(), cell.latitude, cell.longitude, cell.utc_offset_hours,
                climvae::format_iso_hour(store.start_hour).c_str(),
                climvae::format_iso_hour(store.start_hour + store.num_hours - 1).c_str(),
                static_cast<long long>(store.num_hours), static_cast<long long>(present),
                static_cast<long long>(store.num_hours - present), cell.trend_k_per_year * 10.0, store.reference_year,
                cell.offset_k, cell.scale_k);
  std::cout << line << std::flush;
}

int run(int argc, char** argv) {
  po::options_description options = prepare_options();
  po::variables_map vm;
  if (!climvae::cli::parse("prepare", summary, options, argc, argv, vm)) return 0;
  const std::string input = vm["input"].as<std::string>();
  const std::string output = vm["output"].as<std::string>();

  // Rank 0 reads and preprocesses; the others only take part in the collective write.
  climvae::Store store;
  climvae::run_on_root(MPI_COMM_WORLD, [&] {
    struct stat info {};
    climvae::require(vm["overwrite"].as<bool>() || ::stat(output.c_str(), &info) != 0,
                     output + " exists; give --overwrite to replace it");
    const climvae::PreprocessOptions preprocess = preprocess_options(vm);
    std::optional<climvae::TemperatureUnit> units;
    if (vm.count("units")) units = climvae::parse_temperature_unit(vm["units"].as<std::string>());
    const climvae::HourlySeries series = climvae::read_csv_series(input, units);
    store = climvae::make_cell_store(series, cell_location(vm, input, series.location), preprocess);
    store.source = input;
    store.history = climvae::cli::command_line(argc, argv);
  });
  climvae::write_store(store, output, MPI_COMM_WORLD);
  if (climvae::cli::is_root()) print_summary(store, output);
  return 0;
}

const climvae::cli::Registration registration{"prepare", run, summary};

}  // namespace
