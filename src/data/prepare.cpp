#include "data/prepare.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/collective.hpp"
#include "common/error.hpp"
#include "data/nc_input.hpp"
#include "data/station_series.hpp"

namespace climvae {

namespace {

void require_new_output(const std::string& output, bool overwrite) {
  struct stat info {};
  require(overwrite || ::stat(output.c_str(), &info) != 0, output + " exists; give --overwrite to replace it");
}

// Where a series was measured: the site list's coordinates, the request's, the file's metadata,
// then the Open-Meteo file name.
LatLon location_of(const Site& site, const PrepareRequest& request, const HourlySeries& series) {
  if (site.location) return *site.location;
  if (request.location) return *request.location;
  if (series.location) return *series.location;
  if (const auto from_name = location_from_openmeteo_filename(site.path)) return *from_name;
  throw Error(site.path + ": no latitude/longitude in the file or its name; give --lat and --lon");
}

}  // namespace

bool is_netcdf_input(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string extension = dot == std::string::npos ? "" : path.substr(dot);
  if (extension == ".nc" || extension == ".nc4" || extension == ".netcdf") return true;
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && nc_format_of(path) != NcFormat::not_netcdf;
}

namespace {

// The whole field as a number, or Error naming it ("10.5" is no whole hour, "151.2xyz" no longitude).
double number_field(const std::string& field, const std::string& where, const char* what) {
  char* end = nullptr;
  const double v = field.empty() ? NAN : std::strtod(field.c_str(), &end);
  require(!field.empty() && end == field.c_str() + field.size() && std::isfinite(v) &&
              field.find_first_of("xXpP") == std::string::npos,  // no hexadecimal
          where + what + " '" + field + "' is not a number");
  return v;
}

}  // namespace

std::vector<Site> read_site_list(const std::string& list) {
  std::ifstream in(list);
  require(in.good(), "cannot open --sites file '" + list + "'");
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
    require(fields.size() == 1 || fields.size() == 3 || fields.size() == 4,
            where + "expected PATH[,LAT,LON[,TIMESTAMP_UTC_OFFSET]], got " + std::to_string(fields.size()) + " fields");
    Site site;
    site.path = fields[0].empty() || fields[0][0] == '/' ? fields[0] : dir + fields[0];
    if (fields.size() >= 3)
      site.location = LatLon{number_field(fields[1], where, "latitude"), number_field(fields[2], where, "longitude")};
    if (fields.size() == 4) {
      const double offset = number_field(fields[3], where, "timestamp UTC offset");
      require(offset == std::floor(offset) && std::fabs(offset) <= 14,
              where + "timestamp UTC offset '" + fields[3] + "' must be whole hours between -14 and 14");
      site.timestamp_offset_hours = static_cast<int>(offset);
    }
    sites.push_back(site);
  }
  require(!sites.empty(), "--sites file '" + list + "' lists no site");
  return sites;
}

HourlySeries read_site_series(const Site& site, std::optional<TemperatureUnit> units) {
  const bool halfhourly = is_halfhourly_station_csv(site.path);
  const bool prsa = !halfhourly && is_prsa_station_csv(site.path);
  if (!halfhourly && !prsa) {
    require(!site.timestamp_offset_hours.has_value(),
            site.path + ": a timestamp UTC offset is for station CSVs in local standard time; this series is "
                        "in UTC (leave the offset out)");
    return read_csv_series(site.path, units);
  }
  require(site.timestamp_offset_hours.has_value(),
          site.path + ": station data in local standard time: give the UTC offset of its timestamps "
                      "(--timestamp-offset H, or the 4th field in --sites; Beijing is 8, Sydney 10)");
  return halfhourly ? read_halfhourly_station_csv(site.path, *site.timestamp_offset_hours)
                    : read_prsa_station_csv(site.path, *site.timestamp_offset_hours);
}

Store store_of_sites(const PrepareRequest& request) {
  const std::vector<Site>& sites = request.sites;
  std::vector<HourlySeries> series;
  for (const Site& site : sites) series.push_back(read_site_series(site, request.units));
  PreprocessOptions preprocess = request.preprocess;
  // Several cells share one reference year: by default the last year any of them has data.
  if (!preprocess.reference_year && sites.size() > 1) {
    int last = INT32_MIN;
    for (const auto& one : series) {
      const auto selected = select_period(one, preprocess.from_hour, preprocess.until_hour);
      last = std::max(last, last_year_with_data(selected.start_hour, selected.values_k));
    }
    preprocess.reference_year = last;
  }
  std::vector<Store> cells;
  std::string source;
  for (size_t i = 0; i < sites.size(); ++i) {
    try {
      cells.push_back(make_cell_store(series[i], location_of(sites[i], request, series[i]), preprocess));
    } catch (const Error& e) {
      throw Error(sites.size() > 1 ? sites[i].path + ": " + e.what() : std::string(e.what()));
    }
    source += (i ? ";" : "") + sites[i].path;
  }
  Store store = cells.size() == 1 ? cells[0] : merge_cell_stores(cells);
  store.source = source;
  return store;
}

PreparedStore prepare_store(const PrepareRequest& request, const std::string& output, MPI_Comm comm) {
  PreparedStore prepared;
  if (request.netcdf) {  // every rank reads, preprocesses and writes its share of the cells
    run_on_all_ranks(comm, [&] { require_new_output(output, request.overwrite); });
    RegionOptions region = request.region;
    region.inputs.clear();
    for (const Site& site : request.sites) region.inputs.push_back(site.path);
    region.location = request.location;
    region.preprocess = request.preprocess;
    prepared.store = prepare_region(region, comm, &prepared.notes);
    prepared.store.history = request.history;
    write_store_share(prepared.store, output, request.overwrite, comm);
    return prepared;
  }
  // Rank 0 reads and preprocesses; the others only take part in the collective write.
  run_on_root(comm, [&] {
    require_new_output(output, request.overwrite);
    prepared.store = store_of_sites(request);
    prepared.store.history = request.history;
  });
  write_store(prepared.store, output, request.overwrite, comm);
  return prepared;
}

}  // namespace climvae
