// `climvae prepare` as one library call: input files of any supported format -> a written cell
// store. Series files (hourly CSV, half-hourly or UCI Beijing station CSV) give one cell each and
// are read by rank 0; the NetCDF files of one region are read and written by all ranks in
// parallel (region.hpp). A new input format adds its reader beside csv_series/station_series/
// era5 and its choice in read_site_series or is_netcdf_input.
#pragma once
#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

#include "data/csv_series.hpp"
#include "data/lat_lon.hpp"
#include "data/preprocess.hpp"
#include "data/region.hpp"
#include "data/store.hpp"
#include "data/units.hpp"

namespace climvae {

// A NetCDF file by its extension (.nc, .nc4, .netcdf) or, for an existing file, its first bytes.
bool is_netcdf_input(const std::string& path);

// One input series and what the file cannot say about itself.
struct Site {
  std::string path;
  std::optional<LatLon> location;            // before the request's location and the file's own
  std::optional<int> timestamp_offset_hours;  // station files: local standard time = UTC + H
};

// A site list, one cell per line: PATH[,LAT,LON[,TIMESTAMP_UTC_OFFSET]] ('#' starts a comment,
// paths relative to the list's folder). Error naming the list and line.
std::vector<Site> read_site_list(const std::string& list);

// The site's series from whichever format its file has: a half-hourly or UCI Beijing station
// CSV (both need the timestamps' UTC offset) or an hourly CSV (`units` when its header names none).
HourlySeries read_site_series(const Site& site, std::optional<TemperatureUnit> units);

// What a store is made from, without the command line's syntax.
struct PrepareRequest {
  std::vector<Site> sites;               // series files, one cell each; or the NetCDF files of one region
  bool netcdf = false;                   // the sites are NetCDF files of one region (see is_netcdf_input)
  std::optional<LatLon> location;        // for inputs without coordinates (series: before the file's metadata)
  std::optional<TemperatureUnit> units;  // series whose header names no unit
  PreprocessOptions preprocess;
  RegionOptions region;                  // NetCDF: the variable and the cells to keep (inputs, location and
                                         // preprocess are taken from the fields above)
  std::string history;                   // the command that made the store
  bool overwrite = false;                // replace an existing output file
};

struct PreparedStore {
  Store store;                     // series: the whole store on rank 0; NetCDF: this rank's share
  std::vector<std::string> notes;  // NetCDF: the region's gaps and overlaps
};

// Makes the store and writes it to `output`; collective over comm. Every rank throws the same
// climvae::Error (naming the file, line, cell or option) for bad input or an existing output
// without `overwrite`, and no file is left at `output`.
PreparedStore prepare_store(const PrepareRequest& request, const std::string& output, MPI_Comm comm = MPI_COMM_WORLD);

// The series sites as one store (local, no MPI): a cell each on the union of their UTC hours,
// sharing one reference year (by default the last year any of them has data); `source` lists
// the files. Errors name the site's file when there are several.
Store store_of_sites(const PrepareRequest& request);

}  // namespace climvae
