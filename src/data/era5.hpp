// ERA5 2 m temperature files as users download them (see docs/era5.md for the layouts):
// old CDS netCDF-3 packed short, new CDS netCDF-4 (valid_time, NaN fill, decreasing latitude),
// CDO-repacked ushort with an UNLIMITED time, processed `tas` files; points, lines and grids;
// many files of one region in any order, gaps and overlaps reported.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/nc_input.hpp"
#include "data/units.hpp"

namespace climvae {

// One file: where the temperature is and how to unpack it.
struct Era5File {
  std::string path;
  std::string variable;            // the temperature variable found (or given)
  std::string units;               // its units attribute, as written
  TemperatureUnit unit = TemperatureUnit::kelvin;
  std::vector<double> latitudes;   // grid rows as stored (one value for a point; NaN if the file has none)
  std::vector<double> longitudes;  // grid columns as stored, degrees east (-180..180)
  std::vector<int64_t> hours;      // each time step, hours since 1970-01-01T00 UTC
  // Position of time, latitude, longitude among the variable's dimensions (-1: not a dimension);
  // any other dimension has length 1.
  int time_dim = -1, lat_dim = -1, lon_dim = -1, ndims = 0;
  double scale = 1, offset = 0;    // value = stored * scale + offset
  std::vector<double> fills;       // _FillValue / missing_value as stored (unsigned, see below)
  int unsigned_bits = 0;           // _Unsigned = "true": a signed type holding unsigned values of this width

  bool has_coordinates() const { return !latitudes.empty() && latitudes[0] == latitudes[0]; }
};

// Reads the header of one file and finds the temperature variable: `variable` if given, else
// t2m, tas, 2t, then standard_name air_temperature. Error naming the file for anything it
// cannot use (no such variable, no time axis, unknown units or calendar, extra dimensions).
Era5File describe_era5_file(const NcInput& file, const std::string& variable = "");
Era5File describe_era5_file(const std::string& path, const std::string& variable = "");

// Kelvin, NaN where missing, laid out (time, row, col), of steps [t0, t0+nt), rows [r0, r0+nr)
// and columns [c0, c0+nc) of the file's grid.
std::vector<float> read_era5_block(const NcInput& file, const Era5File& layout, int64_t t0, int64_t nt, int r0,
                                   int nr, int c0, int nc);

// Several files of one region as one hourly axis.
struct Era5Region {
  std::vector<Era5File> files;     // sorted by first hour
  std::vector<double> latitudes, longitudes;
  int64_t start_hour = 0, num_hours = 0;
  std::vector<std::string> notes;  // gaps and overlaps found (the values there are missing / compared)
};

// Describes every file and checks they fit together: same variable and grid, each time axis
// hourly and increasing. Error naming the file: a different grid, a time axis that is not
// hourly (monthly means are recognised and named as such), or no hours at all.
Era5Region describe_era5_region(const std::vector<std::string>& paths, const std::string& variable = "");

// Full hourly series (cell-major, num_hours each, NaN where missing) of the given grid cells
// (row, col) over hours [first_hour, first_hour + num_hours). Files are read in time chunks of
// the rows and columns the cells span. Error naming the files when overlapping hours disagree.
struct GridCell {
  int row = 0, col = 0;
};
std::vector<float> read_era5_cells(const Era5Region& region, const std::vector<GridCell>& cells, int64_t first_hour,
                                   int64_t num_hours);

}  // namespace climvae
