// climvae prepare: hourly CSV series or ERA5 NetCDF files of a region -> a cell store (trend,
// offset, scale included). CSV: one site, or several (repeated --input, or --sites LIST) aligned
// on one UTC time axis, one cell each. ERA5 regions are read and written by all ranks in parallel.
// This file turns the options into a PrepareRequest and prints the summary; the work is
// prepare_store (src/data/prepare.hpp).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "data/prepare.hpp"

namespace {

namespace po = climvae::cli::po;
const char* const summary = "read hourly 2 m temperature CSVs or ERA5 NetCDF files and write a cell store (CDF-5)";

po::options_description prepare_options() {
  po::options_description options("Prepare");
  options.add_options()
    ("input", po::value<std::vector<std::string>>()->multitoken(),
     "hourly CSV: Open-Meteo export or 'time,value' (UTC), a half-hourly station CSV (Date,Period,Temp) or a UCI "
     "Beijing station CSV (year,month,day,hour,...,TEMP); repeat for several cells; or one or more ERA5 NetCDF files of one region")
    ("sites", po::value<std::string>(), "site list, one cell per line: PATH[,LAT,LON[,TIMESTAMP_UTC_OFFSET]] (paths relative to the list)")
    ("timestamp-offset", po::value<int>(), "station CSV (half-hourly or Beijing): its timestamps are UTC + H hours (standard time)")
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
    ("overwrite", po::bool_switch(), "replace an existing output file")
    ("variable", po::value<std::string>(), "ERA5: temperature variable (default: t2m, tas, 2t or standard_name air_temperature)")
    ("area", po::value<std::string>(), "ERA5: keep cells in NORTH/WEST/SOUTH/EAST degrees (the CDS 'area' order)")
    ("cell", po::value<std::vector<std::string>>()->composing(), "ERA5: keep the grid cell nearest LAT,LON (repeatable)")
    ("stride", po::value<int>()->default_value(1), "ERA5: keep every N-th latitude and longitude")
    ("land-only", po::bool_switch(), "ERA5: keep land cells (land-sea mask >= 0.5)")
    ("land-mask", po::value<std::string>(), "ERA5: NetCDF file with 'lsm' on the same grid (default: lsm in the input)");
  return options;
}

template <typename T>
std::optional<T> optional_value(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<T>();
}

// The series sites: repeated --input, or the --sites list; the per-site options only with one --input.
std::vector<climvae::Site> sites_of(const po::variables_map& vm) {
  climvae::require(vm.count("input") != vm.count("sites"), "give --input (repeatable) or --sites, not both");
  if (vm.count("sites")) return climvae::read_site_list(vm["sites"].as<std::string>());
  std::vector<climvae::Site> sites;
  for (const std::string& path : vm["input"].as<std::vector<std::string>>()) sites.push_back({path, {}, {}});
  const bool one = sites.size() == 1;
  for (const char* per_site : {"lat", "lon", "utc-offset", "timestamp-offset"})
    climvae::require(one || !vm.count(per_site), std::string("--") + per_site + " applies to one --input; use --sites for several");
  if (vm.count("timestamp-offset")) sites[0].timestamp_offset_hours = vm["timestamp-offset"].as<int>();
  return sites;
}

climvae::PreprocessOptions preprocess_options(const po::variables_map& vm) {
  climvae::PreprocessOptions options;
  options.utc_offset_hours = optional_value<int>(vm, "utc-offset");
  options.reference_year = optional_value<int>(vm, "reference-year");
  climvae::require(!options.reference_year || (*options.reference_year >= 1 && *options.reference_year <= 9999),
                   "--reference-year must be a year between 1 and 9999");
  const bool no_trend = vm["no-trend"].as<bool>();
  climvae::require(!(no_trend && vm.count("trend")), "give --trend or --no-trend, not both");
  if (no_trend) options.trend_k_per_year = 0.0;
  if (vm.count("trend")) {
    options.trend_k_per_year = climvae::parse_trend_rate_k_per_year(vm["trend"].as<std::string>());
    climvae::require(std::fabs(*options.trend_k_per_year) <= 1, "--trend '" + vm["trend"].as<std::string>() +
                                                                     "' is outside -1..1 K/year (no climate warms faster)");
  }
  try {
    if (vm.count("from")) options.from_hour = climvae::parse_from_bound(vm["from"].as<std::string>());
    if (vm.count("until")) options.until_hour = climvae::parse_until_bound(vm["until"].as<std::string>());
  } catch (const climvae::Error& e) {
    throw climvae::Error(std::string("--from/--until: ") + e.what());
  }
  return options;
}

void print_summary(const climvae::Store& store, const std::string& output) {
  std::cout << "wrote " << output << "\n";
  for (const climvae::CellSeries& cell : store.cells) {
    int64_t present = 0;
    for (float v : cell.tas_k) present += !std::isnan(v);
    char line[512];
    std::snprintf(line, sizeof line,
                  "  cell        %.4f N %.4f E, local time = UTC%+d h\n"
                  "  period      %s .. %s UTC (%lld hours: %lld present, %lld missing)\n"
                  "  trend       %+.4f K/decade removed relative to %d\n"
                  "  standardise offset %.4f K, scale %.4f K\n",
                  cell.latitude, cell.longitude, cell.utc_offset_hours,
                  climvae::format_iso_hour(store.start_hour).c_str(),
                  climvae::format_iso_hour(store.start_hour + store.num_hours - 1).c_str(),
                  static_cast<long long>(store.num_hours), static_cast<long long>(present),
                  static_cast<long long>(store.num_hours - present), cell.trend_k_per_year * 10.0, store.reference_year,
                  cell.offset_k, cell.scale_k);
    std::cout << line << std::flush;
  }
}

// The request the options make; `netcdf`: the inputs are ERA5 NetCDF files of one region.
climvae::PrepareRequest request_of(const po::variables_map& vm, bool netcdf) {
  climvae::PrepareRequest request;
  request.netcdf = netcdf;
  request.overwrite = vm["overwrite"].as<bool>();
  if (netcdf) {
    climvae::require(!vm.count("units"), "--units is for CSV input; ERA5 files carry their units");
    for (const std::string& path : vm["input"].as<std::vector<std::string>>()) request.sites.push_back({path, {}, {}});
  }
  request.preprocess = preprocess_options(vm);
  if (!netcdf) {
    if (vm.count("units")) request.units = climvae::parse_temperature_unit(vm["units"].as<std::string>());
    request.sites = sites_of(vm);
  }
  climvae::RegionOptions& region = request.region;
  if (vm.count("variable")) region.variable = vm["variable"].as<std::string>();
  if (vm.count("area")) region.area = climvae::parse_area(vm["area"].as<std::string>());
  if (vm.count("cell"))
    for (const std::string& text : vm["cell"].as<std::vector<std::string>>()) region.cells.push_back(climvae::parse_lat_lon(text));
  region.stride = vm["stride"].as<int>();
  region.land_only = vm["land-only"].as<bool>();
  if (vm.count("land-mask")) region.land_mask = vm["land-mask"].as<std::string>();
  climvae::require(vm.count("lat") == vm.count("lon"), "give both --lat and --lon, or neither");
  if (vm.count("lat")) request.location = climvae::LatLon{vm["lat"].as<double>(), vm["lon"].as<double>()};
  return request;
}

// Rank 0 decides the kind of input and which options apply to it; every rank learns the kind.
bool netcdf_input(const po::variables_map& vm) {
  bool netcdf = false;
  climvae::run_on_root(MPI_COMM_WORLD, [&] {
    netcdf = vm.count("input") && climvae::is_netcdf_input(vm["input"].as<std::vector<std::string>>()[0]);
    for (const char* option : {"variable", "area", "cell", "land-mask"})
      climvae::require(netcdf || !vm.count(option), std::string("--") + option + " is for ERA5 NetCDF input");
    climvae::require(netcdf || (!vm["land-only"].as<bool>() && vm["stride"].as<int>() == 1),
                     "--land-only and --stride are for ERA5 NetCDF input");
    climvae::require(!netcdf || !vm.count("sites"), "--sites lists CSV series; give ERA5 files with --input");
  });
  int flag = netcdf;
  MPI_Bcast(&flag, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return flag != 0;
}

void print_region_summary(const climvae::PreparedStore& prepared, size_t files, const std::string& output) {
  for (const std::string& note : prepared.notes) std::cout << "note: " << note << "\n";
  const climvae::Store& share = prepared.store;
  if (share.total_cells == 1) {
    print_summary(share, output);
    return;
  }
  std::cout << "wrote " << output << "\n  cells       " << share.total_cells << " from " << files
            << " file(s); rank 0's first: " << share.cells[0].latitude << " N " << share.cells[0].longitude << " E\n"
            << "  period      " << climvae::format_iso_hour(share.start_hour) << " .. "
            << climvae::format_iso_hour(share.start_hour + share.num_hours - 1) << " UTC (" << share.num_hours
            << " hours)\n  reference   " << share.reference_year << "\n" << std::flush;
}

int run(int argc, char** argv) {
  po::options_description options = prepare_options();
  po::variables_map vm;
  if (!climvae::cli::parse("prepare", summary, options, argc, argv, vm)) return 0;
  const std::string output = vm["output"].as<std::string>();
  const bool netcdf = netcdf_input(vm);
  climvae::PrepareRequest request;
  climvae::run_on_all_ranks(MPI_COMM_WORLD, [&] {
    request = request_of(vm, netcdf);
    // With --overwrite, an --output naming an input replaced the data with the store made of it.
    using climvae::cli::require_distinct;
    for (const climvae::Site& site : request.sites) require_distinct({{"--output", output}, {"--input", site.path}});
    if (vm.count("sites")) require_distinct({{"--output", output}, {"--sites", vm["sites"].as<std::string>()}});
    require_distinct({{"--output", output}, {"--land-mask", request.region.land_mask}});
  });
  request.history = climvae::cli::command_line(argc, argv);
  const climvae::PreparedStore prepared = climvae::prepare_store(request, output, MPI_COMM_WORLD);
  if (!climvae::cli::is_root()) return 0;
  if (netcdf)
    print_region_summary(prepared, request.sites.size(), output);
  else
    print_summary(prepared.store, output);
  return 0;
}

const climvae::cli::Registration registration{"prepare", run, summary};

}  // namespace
