// climvae prepare: hourly CSV series or ERA5 NetCDF files of a region -> a cell store (trend,
// offset, scale included). CSV: one site, or several (repeated --input, or --sites LIST) aligned
// on one UTC time axis, one cell each. ERA5 regions are read and written by all ranks in parallel.
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <fstream>
#include <vector>

#include "cli.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/collective.hpp"
#include "data/csv_series.hpp"
#include "data/nc_input.hpp"
#include "data/station_series.hpp"
#include "data/preprocess.hpp"
#include "data/region.hpp"
#include "data/store.hpp"
#include "data/units.hpp"

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

climvae::LatLon cell_location(const po::variables_map& vm, const std::string& input,
                              const std::optional<climvae::LatLon>& from_metadata) {
  const bool given_lat = vm.count("lat"), given_lon = vm.count("lon");
  climvae::require(given_lat == given_lon, "give both --lat and --lon, or neither");
  if (given_lat) return {vm["lat"].as<double>(), vm["lon"].as<double>()};
  if (from_metadata) return *from_metadata;
  if (const auto from_name = climvae::location_from_openmeteo_filename(input)) return *from_name;
  throw climvae::Error(input + ": no latitude/longitude in the file or its name; give --lat and --lon");
}

// One input series and what the file cannot say about itself.
struct Site {
  std::string path;
  std::optional<climvae::LatLon> location;
  std::optional<int> timestamp_offset_hours;  // half-hourly station files: local standard time = UTC + H
};

std::vector<Site> read_site_list(const std::string& list) {
  std::ifstream in(list);
  climvae::require(in.good(), "cannot open --sites file '" + list + "'");
  const auto slash = list.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : list.substr(0, slash + 1);
  std::vector<Site> sites;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find('#') != std::string::npos) line.erase(line.find('#'));
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, ',');) {
      field.erase(0, field.find_first_not_of(" \t\r"));
      field.erase(field.find_last_not_of(" \t\r") + 1);
      fields.push_back(field);
    }
    if (fields.empty() || (fields.size() == 1 && fields[0].empty())) continue;
    const std::string where = list + ":" + std::to_string(number) + ": ";
    climvae::require(fields.size() == 1 || fields.size() == 3 || fields.size() == 4,
                     where + "expected PATH[,LAT,LON[,TIMESTAMP_UTC_OFFSET]], got " + std::to_string(fields.size()) + " fields");
    Site site;
    site.path = fields[0].empty() || fields[0][0] == '/' ? fields[0] : dir + fields[0];
    try {
      if (fields.size() >= 3) site.location = climvae::LatLon{std::stod(fields[1]), std::stod(fields[2])};
      if (fields.size() == 4) site.timestamp_offset_hours = std::stoi(fields[3]);
    } catch (const std::exception&) {
      throw climvae::Error(where + "latitude, longitude and offset must be numbers");
    }
    sites.push_back(site);
  }
  climvae::require(!sites.empty(), "--sites file '" + list + "' lists no site");
  return sites;
}

std::vector<Site> sites_of(const po::variables_map& vm) {
  climvae::require(vm.count("input") != vm.count("sites"), "give --input (repeatable) or --sites, not both");
  if (vm.count("sites")) return read_site_list(vm["sites"].as<std::string>());
  std::vector<Site> sites;
  for (const std::string& path : vm["input"].as<std::vector<std::string>>()) sites.push_back({path, {}, {}});
  const bool one = sites.size() == 1;
  for (const char* per_site : {"lat", "lon", "utc-offset", "timestamp-offset"})
    climvae::require(one || !vm.count(per_site), std::string("--") + per_site + " applies to one --input; use --sites for several");
  if (vm.count("timestamp-offset")) sites[0].timestamp_offset_hours = vm["timestamp-offset"].as<int>();
  return sites;
}

climvae::HourlySeries read_site_series(const Site& site, std::optional<climvae::TemperatureUnit> units) {
  const bool halfhourly = climvae::is_halfhourly_station_csv(site.path);
  const bool prsa = !halfhourly && climvae::is_prsa_station_csv(site.path);
  if (!halfhourly && !prsa) return climvae::read_csv_series(site.path, units);
  climvae::require(site.timestamp_offset_hours.has_value(),
                   site.path + ": station data in local standard time: give the UTC offset of its timestamps "
                               "(--timestamp-offset H, or the 4th field in --sites; Beijing is 8, Sydney 10)");
  return halfhourly ? climvae::read_halfhourly_station_csv(site.path, *site.timestamp_offset_hours)
                    : climvae::read_prsa_station_csv(site.path, *site.timestamp_offset_hours);
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

// ERA5 files: every rank reads, preprocesses and writes its share of the cells.
int run_region(const po::variables_map& vm, const std::vector<std::string>& inputs, const std::string& output,
               const std::string& history) {
  climvae::RegionOptions region;
  climvae::run_on_all_ranks(MPI_COMM_WORLD, [&] {
    struct stat info {};
    climvae::require(vm["overwrite"].as<bool>() || ::stat(output.c_str(), &info) != 0,
                     output + " exists; give --overwrite to replace it");
    climvae::require(!vm.count("units"), "--units is for CSV input; ERA5 files carry their units");
    region.inputs = inputs;
    region.preprocess = preprocess_options(vm);
    if (vm.count("variable")) region.variable = vm["variable"].as<std::string>();
    if (vm.count("area")) region.area = climvae::parse_area(vm["area"].as<std::string>());
    if (vm.count("cell"))
      for (const std::string& text : vm["cell"].as<std::vector<std::string>>()) region.cells.push_back(climvae::parse_lat_lon(text));
    region.stride = vm["stride"].as<int>();
    region.land_only = vm["land-only"].as<bool>();
    if (vm.count("land-mask")) region.land_mask = vm["land-mask"].as<std::string>();
    climvae::require(vm.count("lat") == vm.count("lon"), "give both --lat and --lon, or neither");
    if (vm.count("lat")) region.location = climvae::LatLon{vm["lat"].as<double>(), vm["lon"].as<double>()};
  });
  std::vector<std::string> notes;
  climvae::Store share = climvae::prepare_region(region, MPI_COMM_WORLD, &notes);
  share.history = history;
  climvae::write_store_share(share, output, vm["overwrite"].as<bool>(), MPI_COMM_WORLD);
  if (!climvae::cli::is_root()) return 0;
  for (const std::string& note : notes) std::cout << "note: " << note << "\n";
  if (share.total_cells == 1) {
    print_summary(share, output);
    return 0;
  }
  std::cout << "wrote " << output << "\n  cells       " << share.total_cells << " from " << inputs.size()
            << " file(s); rank 0's first: " << share.cells[0].latitude << " N " << share.cells[0].longitude << " E\n"
            << "  period      " << climvae::format_iso_hour(share.start_hour) << " .. "
            << climvae::format_iso_hour(share.start_hour + share.num_hours - 1) << " UTC (" << share.num_hours
            << " hours)\n  reference   " << share.reference_year << "\n" << std::flush;
  return 0;
}

bool is_netcdf_input(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string extension = dot == std::string::npos ? "" : path.substr(dot);
  if (extension == ".nc" || extension == ".nc4" || extension == ".netcdf") return true;
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && climvae::nc_format_of(path) != climvae::NcFormat::not_netcdf;
}

int run(int argc, char** argv) {
  po::options_description options = prepare_options();
  po::variables_map vm;
  if (!climvae::cli::parse("prepare", summary, options, argc, argv, vm)) return 0;
  const std::string output = vm["output"].as<std::string>();
  bool netcdf = false;
  climvae::run_on_root(MPI_COMM_WORLD, [&] {
    netcdf = vm.count("input") && is_netcdf_input(vm["input"].as<std::vector<std::string>>()[0]);
    for (const char* option : {"variable", "area", "cell", "land-mask"})
      climvae::require(netcdf || !vm.count(option), std::string("--") + option + " is for ERA5 NetCDF input");
    climvae::require(netcdf || (!vm["land-only"].as<bool>() && vm["stride"].as<int>() == 1),
                     "--land-only and --stride are for ERA5 NetCDF input");
    climvae::require(!netcdf || !vm.count("sites"), "--sites lists CSV series; give ERA5 files with --input");
  });
  int flag = netcdf;
  MPI_Bcast(&flag, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (flag)
    return run_region(vm, vm["input"].as<std::vector<std::string>>(), output, climvae::cli::command_line(argc, argv));

  // Rank 0 reads and preprocesses; the others only take part in the collective write.
  climvae::Store store;
  climvae::run_on_root(MPI_COMM_WORLD, [&] {
    struct stat info {};
    climvae::require(vm["overwrite"].as<bool>() || ::stat(output.c_str(), &info) != 0,
                     output + " exists; give --overwrite to replace it");
    climvae::PreprocessOptions preprocess = preprocess_options(vm);
    std::optional<climvae::TemperatureUnit> units;
    if (vm.count("units")) units = climvae::parse_temperature_unit(vm["units"].as<std::string>());
    const std::vector<Site> sites = sites_of(vm);
    std::vector<climvae::HourlySeries> series;
    for (const Site& site : sites) series.push_back(read_site_series(site, units));
    // Several cells share one reference year: by default the last year any of them has data.
    if (!preprocess.reference_year && sites.size() > 1) {
      int last = INT32_MIN;
      for (const auto& one : series) {
        const auto selected = climvae::select_period(one, preprocess.from_hour, preprocess.until_hour);
        last = std::max(last, climvae::last_year_with_data(selected.start_hour, selected.values_k));
      }
      preprocess.reference_year = last;
    }
    std::vector<climvae::Store> cells;
    for (size_t i = 0; i < sites.size(); ++i) {
      const Site& site = sites[i];
      try {
        const climvae::LatLon location = site.location ? *site.location : cell_location(vm, site.path, series[i].location);
        cells.push_back(climvae::make_cell_store(series[i], location, preprocess));
      } catch (const climvae::Error& e) {
        throw climvae::Error(sites.size() > 1 ? site.path + ": " + e.what() : std::string(e.what()));
      }
      store.source += (i ? ";" : "") + site.path;
    }
    const std::string source = store.source;
    store = cells.size() == 1 ? cells[0] : climvae::merge_cell_stores(cells);
    store.source = source;
    store.history = climvae::cli::command_line(argc, argv);
  });
  climvae::write_store(store, output, vm["overwrite"].as<bool>(), MPI_COMM_WORLD);
  if (climvae::cli::is_root()) print_summary(store, output);
  return 0;
}

const climvae::cli::Registration registration{"prepare", run, summary};

}  // namespace
