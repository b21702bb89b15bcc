// From ERA5 files of a region to this rank's share of a cell store: cell selection (area,
// explicit cells, land only, stride), parallel reading and per-cell preprocessing.
#pragma once
#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

#include "data/lat_lon.hpp"
#include "data/era5.hpp"
#include "data/preprocess.hpp"
#include "data/store.hpp"

namespace climvae {

struct Area {
  double north = 90, west = -180, south = -90, east = 180;  // degrees, the CDS request's order
};
// "N/W/S/E" as in a CDS request, e.g. "55/5/47/15". Error naming the text.
Area parse_area(const std::string& text);
// "LAT,LON", e.g. "52.35,13.1". Error naming the text.
LatLon parse_lat_lon(const std::string& text);

struct RegionOptions {
  std::vector<std::string> inputs;
  std::string variable;              // default: found by name or standard_name
  std::optional<LatLon> location;    // only for a file without coordinates (one series)
  std::optional<Area> area;          // keep cells inside (edges included)
  std::vector<LatLon> cells;         // keep the grid cells nearest these points
  int stride = 1;                    // keep every stride-th latitude and longitude
  bool land_only = false;            // keep cells whose land-sea mask is >= 0.5
  std::string land_mask;             // file with `lsm` on the same grid (default: lsm of the inputs)
  PreprocessOptions preprocess;
};

struct SelectedCells {
  std::vector<GridCell> cells;       // grid order (rows as stored, then columns)
  std::vector<LatLon> locations;
  std::vector<int> land;             // 1 land, 0 sea, -1 unknown
};
// The cells the options keep, in grid order; Error when none is left or an option cannot apply.
SelectedCells select_grid_cells(const Era5Region& region, const RegionOptions& options);

// Collective over comm: every rank reads and preprocesses its cell_share of the selected cells
// and gets them as a Store (first_cell, total_cells set), with the region's gaps/overlaps in
// `notes`. Every rank throws the same climvae::Error on bad input (naming file, cell, option).
Store prepare_region(const RegionOptions& options, MPI_Comm comm, std::vector<std::string>* notes = nullptr);

}  // namespace climvae
