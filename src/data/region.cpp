#include "data/region.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"

namespace climvae {

namespace {

std::string describe(const LatLon& p) {
  char text[64];
  std::snprintf(text, sizeof text, "%.4fN %.4fE", p.latitude, p.longitude);
  return text;
}

// Land-sea mask (1/0/-1 per grid cell, row-major) from `lsm` on the region's grid.
std::vector<int> land_sea_mask(const Era5Region& region, const std::string& mask_path) {
  const size_t cells = region.latitudes.size() * region.longitudes.size();
  std::string path = mask_path;
  if (path.empty()) {  // the inputs themselves may carry lsm
    if (!open_nc_input(region.files.front().path)->find("lsm")) return std::vector<int>(cells, -1);
    path = region.files.front().path;
  }
  const std::unique_ptr<NcInput> file = open_nc_input(path);
  const NcVariableInfo lsm = file->variable("lsm");
  std::vector<int64_t> start(lsm.shape.size(), 0), count(lsm.shape.size(), 1);
  size_t found = 1;
  for (size_t d = 0; d < lsm.shape.size(); ++d) {
    const std::string& dim = lsm.dimensions[d];
    const bool lat = dim == "latitude" || dim == "lat", lon = dim == "longitude" || dim == "lon";
    if (!lat && !lon) continue;  // time or level: the first step
    const std::vector<double>& axis = lat ? region.latitudes : region.longitudes;
    std::vector<double> values = file->read_all(dim);
    for (double& v : values)
      if (lon && v > 180) v -= 360;
    bool same = values.size() == axis.size();
    for (size_t i = 0; same && i < axis.size(); ++i) same = std::abs(values[i] - axis[i]) < 1e-6;
    require(same, path + ": the land-sea mask's " + dim + " axis differs from the temperature grid");
    count[d] = lsm.shape[d];
    found *= static_cast<size_t>(lsm.shape[d]);
  }
  require(found == cells, path + ": variable 'lsm' is not on the temperature grid");
  std::vector<double> fraction(cells);
  file->read("lsm", start, count, fraction.data());
  const double scale = file->number("lsm", "scale_factor").value_or(1), offset = file->number("lsm", "add_offset").value_or(0);
  // A masked cell (its fill value, packed) unpacked to a fraction near 0 and was taken for sea.
  std::vector<double> fills;
  for (const char* name : {"_FillValue", "missing_value"})
    if (const auto fill = file->number("lsm", name)) fills.push_back(*fill);
  std::vector<int> land(cells);
  for (size_t i = 0; i < cells; ++i) {
    const bool missing = std::isnan(fraction[i]) || std::find(fills.begin(), fills.end(), fraction[i]) != fills.end();
    land[i] = missing ? -1 : fraction[i] * scale + offset >= 0.5;
  }
  return land;
}

}  // namespace

Area parse_area(const std::string& text) {
  Area area;
  char end = 0;
  require(std::sscanf(text.c_str(), "%lf/%lf/%lf/%lf%c", &area.north, &area.west, &area.south, &area.east, &end) == 4,
          "--area '" + text + "': expected NORTH/WEST/SOUTH/EAST in degrees, e.g. 55/5/47/15");
  require(area.south <= area.north, "--area '" + text + "': south is above north");
  return area;
}

LatLon parse_lat_lon(const std::string& text) {
  LatLon point;
  char end = 0;
  require(std::sscanf(text.c_str(), "%lf,%lf%c", &point.latitude, &point.longitude, &end) == 2,
          "--cell '" + text + "': expected LAT,LON in degrees, e.g. 52.35,13.1");
  if (point.longitude > 180) point.longitude -= 360;
  return point;
}

SelectedCells select_grid_cells(const Era5Region& region, const RegionOptions& options) {
  require(options.stride >= 1, "--stride must be at least 1");
  const int rows = static_cast<int>(region.latitudes.size()), cols = static_cast<int>(region.longitudes.size());
  const std::vector<int> land = land_sea_mask(region, options.land_mask);
  require(!options.land_only || land[0] >= 0,
          "--land-only needs a land-sea mask: give --land-mask FILE (ERA5 'lsm' on the same grid)");
  // Explicit cells: the nearest grid point, which must lie within one grid step.
  std::vector<char> wanted(land.size(), options.cells.empty());
  for (const LatLon& p : options.cells) {
    int best_r = 0, best_c = 0;
    for (int r = 0; r < rows; ++r)
      if (std::abs(region.latitudes[r] - p.latitude) < std::abs(region.latitudes[best_r] - p.latitude)) best_r = r;
    for (int c = 0; c < cols; ++c)
      if (std::abs(region.longitudes[c] - p.longitude) < std::abs(region.longitudes[best_c] - p.longitude)) best_c = c;
    const double step_lat = rows > 1 ? std::abs(region.latitudes[1] - region.latitudes[0]) : 0.5;
    const double step_lon = cols > 1 ? std::abs(region.longitudes[1] - region.longitudes[0]) : 0.5;
    require(std::abs(region.latitudes[best_r] - p.latitude) <= step_lat &&
                std::abs(region.longitudes[best_c] - p.longitude) <= step_lon,
            "--cell " + describe(p) + " is outside the grid of " + region.files.front().path);
    wanted[best_r * cols + best_c] = 1;
  }
  SelectedCells selected;
  for (int r = 0; r < rows; r += options.stride)
    for (int c = 0; c < cols; c += options.stride) {
      const LatLon p{region.latitudes[r], region.longitudes[c]};
      const int index = r * cols + c;
      if (!wanted[index] || (options.land_only && land[index] != 1)) continue;
      if (options.area && (p.latitude > options.area->north || p.latitude < options.area->south ||
                           p.longitude < options.area->west || p.longitude > options.area->east))
        continue;
      selected.cells.push_back({r, c});
      selected.locations.push_back(p);
      selected.land.push_back(land[index]);
    }
  require(!selected.cells.empty(), "no grid cell of " + region.files.front().path + " (" + std::to_string(rows) + " x " +
                                       std::to_string(cols) + ") is left after --area/--cell/--land-only/--stride");
  return selected;
}

Store prepare_region(const RegionOptions& options, MPI_Comm comm, std::vector<std::string>* notes) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  Store store;
  SelectedCells selected;
  CellRange mine;
  std::vector<float> values;
  int last_year = 0;
  std::string inputs;
  for (const std::string& path : options.inputs) inputs += (inputs.empty() ? "" : " ") + path;
  // Every rank reads the headers (small) and its own cells' series.
  run_on_all_ranks(comm, [&] {
    Era5Region region = describe_era5_region(options.inputs, options.variable);
    if (notes) *notes = region.notes;
    if (!region.files.front().has_coordinates()) {
      require(options.location.has_value(),
              region.files.front().path + ": the file gives no latitude/longitude; give --lat and --lon");
      require(region.longitudes.size() == 1, region.files.front().path + ": a grid without coordinates");
      region.latitudes = {options.location->latitude};
      region.longitudes = {options.location->longitude};
    } else {
      require(!options.location, region.files.front().path + ": the file has its own coordinates; select cells with "
                                                              "--cell LAT,LON instead of --lat/--lon");
    }
    selected = select_grid_cells(region, options);
    const int64_t end = region.start_hour + region.num_hours;
    const int64_t first = std::max(region.start_hour, options.preprocess.from_hour.value_or(region.start_hour));
    const int64_t last = std::min(end, options.preprocess.until_hour.value_or(end));
    require(first < last, inputs + ": the selected period does not overlap the data (" +
                              format_iso_hour(region.start_hour) + " to " + format_iso_hour(end - 1) + ")");
    store.start_hour = first;
    store.num_hours = last - first;
    store.total_cells = static_cast<int>(selected.cells.size());
    mine = cell_share(store.total_cells, rank, ranks);
    store.first_cell = mine.first;
    values = read_era5_cells(region, {selected.cells.begin() + mine.first, selected.cells.begin() + mine.first + mine.count},
                             first, store.num_hours);
    for (int k = 0; k < mine.count; ++k) {
      const float* series = values.data() + k * store.num_hours;
      int64_t i = store.num_hours;
      while (i > 0 && std::isnan(series[i - 1])) --i;
      require(i > 0, inputs + ": cell " + std::to_string(mine.first + k) + " (" +
                         describe(selected.locations[mine.first + k]) + ") has no values in " +
                         format_iso_hour(first) + " .. " + format_iso_hour(last - 1) +
                         "; leave it out with --area, --cell or --land-only");
      last_year = std::max(last_year, civil_from_hours(first + i - 1).year);
    }
  });
  MPI_Allreduce(MPI_IN_PLACE, &last_year, 1, MPI_INT, MPI_MAX, comm);
  store.reference_year = options.preprocess.reference_year.value_or(last_year);
  store.source = inputs;
  run_on_all_ranks(comm, [&] {
    PreprocessOptions preprocess = options.preprocess;
    preprocess.reference_year = store.reference_year;
    preprocess.from_hour = preprocess.until_hour = std::nullopt;  // the period is already cut
    HourlySeries series;
    series.start_hour = store.start_hour;
    for (int k = 0; k < mine.count; ++k) {
      const int cell = mine.first + k;
      const float* begin = values.data() + k * store.num_hours;
      series.values_k.assign(begin, begin + store.num_hours);
      try {
        Store one = make_cell_store(series, selected.locations[cell], preprocess);
        one.cells[0].land = selected.land[cell];
        store.cells.push_back(std::move(one.cells[0]));
      } catch (const Error& e) {
        throw Error(inputs + ": cell " + std::to_string(cell) + " (" + describe(selected.locations[cell]) + "): " + e.what());
      }
    }
    values.clear();
    values.shrink_to_fit();
  });
  return store;
}

}  // namespace climvae
