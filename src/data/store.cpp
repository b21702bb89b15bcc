// The cell store in CDF-5 through PnetCDF. Layout (see store.hpp):
//   dimensions cell, time; time(time) int64 hours since 1970; lat/lon/utc_offset_hours/trend/
//   offset/scale (cell); tas(cell, time) float K with _FillValue NaN.
// (cell, time) keeps each cell's series contiguous, so a rank reads its cells in one call.
#include "data/store.hpp"

#include <pnetcdf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/collective.hpp"
#include "common/pnetcdf_util.hpp"

namespace climvae {

namespace {

constexpr int store_version = 1;
const char* const time_units = "hours since 1970-01-01 00:00:00";

// Closes the file on scope exit. ncmpi_close is collective: every rank of the file's
// communicator leaves the scope together, because errors are made to agree (collective.hpp).
struct OpenFile {
  int id = -1;
  ~OpenFile() {
    if (id >= 0) ncmpi_close(id);
  }
};

void validate_for_writing(const Store& store) {
  require(!store.cells.empty(), "the store has no cells");
  require(store.num_hours > 0, "the store has no hours");
  for (size_t c = 0; c < store.cells.size(); ++c) {
    const CellSeries& cell = store.cells[c];
    const std::string name = "cell " + std::to_string(c);
    require(static_cast<int64_t>(cell.tas_k.size()) == store.num_hours,
            name + " has " + std::to_string(cell.tas_k.size()) + " hours, the store " + std::to_string(store.num_hours));
    require(std::isfinite(cell.scale_k) && cell.scale_k > 0, name + ": scale must be positive");
    require(std::isfinite(cell.offset_k) && std::isfinite(cell.trend_k_per_year), name + ": offset/trend not finite");
  }
}

void write_file(const Store& store, const std::string& path) {
  const MPI_Offset num_cells = static_cast<MPI_Offset>(store.cells.size());
  const MPI_Offset num_hours = store.num_hours;
  OpenFile file;
  check_nc(ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &file.id), path,
           "creating the file");
  const int ncid = file.id;
  const NcDefiner def{ncid, path};
  const int cell_dim = def.dimension("cell", num_cells);
  const int time_dim = def.dimension("time", num_hours);

  const int time_var = def.variable("time", NC_INT64, {time_dim});
  def.text(time_var, "standard_name", "time");
  def.text(time_var, "units", time_units);
  def.text(time_var, "calendar", "proleptic_gregorian");
  def.text(time_var, "axis", "T");
  const int lat_var = def.variable("lat", NC_DOUBLE, {cell_dim});
  def.text(lat_var, "standard_name", "latitude");
  def.text(lat_var, "units", "degrees_north");
  const int lon_var = def.variable("lon", NC_DOUBLE, {cell_dim});
  def.text(lon_var, "standard_name", "longitude");
  def.text(lon_var, "units", "degrees_east");
  const int offset_hours_var = def.variable("utc_offset_hours", NC_INT, {cell_dim});
  def.text(offset_hours_var, "long_name", "local solar time minus UTC");
  def.text(offset_hours_var, "units", "hours");
  const int trend_var = def.variable("trend", NC_DOUBLE, {cell_dim});
  def.text(trend_var, "long_name", "linear trend removed relative to reference_year");
  def.text(trend_var, "units", "K year-1");
  const int offset_var = def.variable("offset", NC_DOUBLE, {cell_dim});
  def.text(offset_var, "long_name", "standardisation offset: z = (detrended - offset) / scale");
  def.text(offset_var, "units", "K");
  const int scale_var = def.variable("scale", NC_DOUBLE, {cell_dim});
  def.text(scale_var, "long_name", "standardisation scale: z = (detrended - offset) / scale");
  def.text(scale_var, "units", "K");
  const int tas_var = def.variable("tas", NC_FLOAT, {cell_dim, time_dim});
  def.text(tas_var, "standard_name", "air_temperature");
  def.text(tas_var, "long_name", "2 m air temperature");
  def.text(tas_var, "units", "K");
  def.text(tas_var, "coordinates", "lat lon");
  const float fill = std::numeric_limits<float>::quiet_NaN();
  check_nc(ncmpi_put_att_float(ncid, tas_var, "_FillValue", NC_FLOAT, 1, &fill), path, "writing tas:_FillValue");

  def.text(NC_GLOBAL, "Conventions", "CF-1.8");
  def.text(NC_GLOBAL, "title", "climvae cell store");
  def.text(NC_GLOBAL, "source", store.source);
  def.text(NC_GLOBAL, "history", store.history);
  def.integer(NC_GLOBAL, "reference_year", store.reference_year);
  def.integer(NC_GLOBAL, "climvae_store_version", store_version);
  check_nc(ncmpi_enddef(ncid), path, "leaving define mode");

  std::vector<long long> hours(static_cast<size_t>(num_hours));
  for (MPI_Offset i = 0; i < num_hours; ++i) hours[i] = store.start_hour + i;
  const MPI_Offset zero = 0;
  check_nc(ncmpi_put_vara_longlong_all(ncid, time_var, &zero, &num_hours, hours.data()), path, "writing time");

  auto put_per_cell = [&](int varid, const char* name, auto field) {
    std::vector<double> values;
    for (const CellSeries& cell : store.cells) values.push_back(field(cell));
    check_nc(ncmpi_put_vara_double_all(ncid, varid, &zero, &num_cells, values.data()), path,
             std::string("writing ") + name);
  };
  put_per_cell(lat_var, "lat", [](const CellSeries& c) { return c.latitude; });
  put_per_cell(lon_var, "lon", [](const CellSeries& c) { return c.longitude; });
  put_per_cell(trend_var, "trend", [](const CellSeries& c) { return c.trend_k_per_year; });
  put_per_cell(offset_var, "offset", [](const CellSeries& c) { return c.offset_k; });
  put_per_cell(scale_var, "scale", [](const CellSeries& c) { return c.scale_k; });
  std::vector<int> offsets;
  for (const CellSeries& cell : store.cells) offsets.push_back(cell.utc_offset_hours);
  check_nc(ncmpi_put_vara_int_all(ncid, offset_hours_var, &zero, &num_cells, offsets.data()), path,
           "writing utc_offset_hours");
  for (MPI_Offset c = 0; c < num_cells; ++c) {
    const MPI_Offset start[2] = {c, 0};
    const MPI_Offset count[2] = {1, num_hours};
    check_nc(ncmpi_put_vara_float_all(ncid, tas_var, start, count, store.cells[c].tas_k.data()), path, "writing tas");
  }
  file.id = -1;
  check_nc(ncmpi_close(ncid), path, "closing the file");
}

// ---- reading ------------------------------------------------------------------------------

// Rank 0's look at the file before the collective open, so that a missing, foreign or
// netCDF-4 file gives one clear message on every rank. Returns the file size in bytes.
long long probe_store_file(const std::string& path) {
  struct stat info {};
  require(::stat(path.c_str(), &info) == 0, path + ": cannot open the store: " + std::strerror(errno));
  require(S_ISREG(info.st_mode), path + ": the store is not a regular file");
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  require(in.gcount() == 4, path + ": not a NetCDF store (the file is shorter than a NetCDF header)");
  require(!(magic[0] == '\x89' && magic[1] == 'H' && magic[2] == 'D' && magic[3] == 'F'),
          path + ": is netCDF-4/HDF5; a climvae store is CDF-5 (write it with 'climvae prepare')");
  require(magic[0] == 'C' && magic[1] == 'D' && magic[2] == 'F' && (magic[3] == 1 || magic[3] == 2 || magic[3] == 5),
          path + ": not a NetCDF file (no CDF magic number at its start)");
  return static_cast<long long>(info.st_size);
}

size_t type_size(nc_type type) {
  switch (type) {
    case NC_BYTE: case NC_CHAR: case NC_UBYTE: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_INT: case NC_UINT: case NC_FLOAT: return 4;
    default: return 8;
  }
}

struct StoreReader {
  std::string path;
  int ncid;

  MPI_Offset dimension(const char* name) const {
    int dimid = -1;
    require(ncmpi_inq_dimid(ncid, name, &dimid) == NC_NOERR, path + ": dimension '" + std::string(name) + "' is missing");
    MPI_Offset length = 0;
    check_nc(ncmpi_inq_dimlen(ncid, dimid, &length), path, std::string("dimension ") + name);
    require(length > 0, path + ": dimension '" + std::string(name) + "' is empty");
    return length;
  }

  // The variable's id after checking it exists, is numeric and has exactly `dims`.
  int variable(const char* name, const std::vector<std::string>& dims) const {
    const std::string where = path + ": variable '" + name + "'";
    int varid = -1;
    require(ncmpi_inq_varid(ncid, name, &varid) == NC_NOERR, where + " is missing");
    nc_type type = NC_NAT;
    int ndims = 0;
    check_nc(ncmpi_inq_vartype(ncid, varid, &type), path, std::string("variable ") + name);
    check_nc(ncmpi_inq_varndims(ncid, varid, &ndims), path, std::string("variable ") + name);
    require(type != NC_CHAR, where + " is text, not numbers");
    std::string expected = "(", found = "(";
    for (size_t i = 0; i < dims.size(); ++i) expected += (i ? "," : "") + dims[i];
    std::vector<int> dimids(static_cast<size_t>(ndims));
    check_nc(ncmpi_inq_vardimid(ncid, varid, dimids.data()), path, std::string("variable ") + name);
    for (int i = 0; i < ndims; ++i) {
      char dim_name[NC_MAX_NAME + 1] = {0};
      check_nc(ncmpi_inq_dimname(ncid, dimids[i], dim_name), path, std::string("variable ") + name);
      found += (i ? "," : "") + std::string(dim_name);
    }
    require(found == expected, where + " has dimensions " + found + ") instead of " + expected + ")");
    return varid;
  }

  int int_attribute(int varid, const char* name) const {
    const std::string where = path + ": attribute '" + name + "'";
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    require(ncmpi_inq_att(ncid, varid, name, &type, &length) == NC_NOERR, where + " is missing");
    require(type != NC_CHAR && length == 1, where + " is not one number");
    int value = 0;
    check_nc(ncmpi_get_att_int(ncid, varid, name, &value), path, std::string("attribute ") + name);
    return value;
  }

  std::string text_attribute(int varid, const char* name) const {
    const std::string where = path + ": attribute '" + name + "'";
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    require(ncmpi_inq_att(ncid, varid, name, &type, &length) == NC_NOERR, where + " is missing");
    require(type == NC_CHAR, where + " is not text");
    std::string value(static_cast<size_t>(length), '\0');
    check_nc(ncmpi_get_att_text(ncid, varid, name, value.data()), path, std::string("attribute ") + name);
    while (!value.empty() && value.back() == '\0') value.pop_back();
    return value;
  }

  // Bytes the header promises: the end of the variable that ends last.
  long long expected_size() const {
    int nvars = 0;
    check_nc(ncmpi_inq_nvars(ncid, &nvars), path, "counting variables");
    MPI_Offset end = 0;
    check_nc(ncmpi_inq_header_size(ncid, &end), path, "reading the header size");
    for (int v = 0; v < nvars; ++v) {
      MPI_Offset begin = 0;
      nc_type type = NC_NAT;
      int ndims = 0;
      check_nc(ncmpi_inq_varoffset(ncid, v, &begin), path, "variable offsets");
      check_nc(ncmpi_inq_vartype(ncid, v, &type), path, "variable types");
      check_nc(ncmpi_inq_varndims(ncid, v, &ndims), path, "variable shapes");
      std::vector<int> dimids(static_cast<size_t>(ndims));
      check_nc(ncmpi_inq_vardimid(ncid, v, dimids.data()), path, "variable shapes");
      MPI_Offset bytes = static_cast<MPI_Offset>(type_size(type));
      for (int d : dimids) {
        MPI_Offset length = 0;
        check_nc(ncmpi_inq_dimlen(ncid, d, &length), path, "dimension lengths");
        bytes *= length;
      }
      end = std::max(end, begin + bytes);
    }
    return static_cast<long long>(end);
  }
};

struct StoreLayout {
  MPI_Offset num_cells = 0, num_hours = 0;
  int time = -1, lat = -1, lon = -1, utc_offset_hours = -1, trend = -1, offset = -1, scale = -1, tas = -1;
};

StoreLayout check_layout(const StoreReader& reader, long long file_size, Store& store) {
  const std::string& path = reader.path;
  const int version = reader.int_attribute(NC_GLOBAL, "climvae_store_version");
  require(version == store_version, path + ": climvae_store_version " + std::to_string(version) +
                                        " is not one this climvae reads (" + std::to_string(store_version) + ")");
  StoreLayout layout;
  layout.num_cells = reader.dimension("cell");
  layout.num_hours = reader.dimension("time");
  layout.time = reader.variable("time", {"time"});
  layout.lat = reader.variable("lat", {"cell"});
  layout.lon = reader.variable("lon", {"cell"});
  layout.utc_offset_hours = reader.variable("utc_offset_hours", {"cell"});
  layout.trend = reader.variable("trend", {"cell"});
  layout.offset = reader.variable("offset", {"cell"});
  layout.scale = reader.variable("scale", {"cell"});
  layout.tas = reader.variable("tas", {"cell", "time"});
  const std::string units = reader.text_attribute(layout.time, "units");
  require(units == time_units, path + ": variable 'time' has units '" + units + "', expected '" + time_units + "'");
  store.reference_year = reader.int_attribute(NC_GLOBAL, "reference_year");
  store.source = reader.text_attribute(NC_GLOBAL, "source");
  store.history = reader.text_attribute(NC_GLOBAL, "history");
  const long long expected = reader.expected_size();
  require(file_size >= expected, path + ": the file is truncated (" + std::to_string(file_size) + " bytes, its header needs " +
                                     std::to_string(expected) + ")");
  return layout;
}

}  // namespace

void write_store(const Store& store, const std::string& path, MPI_Comm comm) {
  run_on_root(comm, [&] {
    validate_for_writing(store);
    const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
    try {
      write_file(store, temporary);
      if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw Error(path + ": cannot move the finished store into place from " + temporary + ": " + std::strerror(errno));
    } catch (...) {
      std::remove(temporary.c_str());  // never leave a half-written store behind
      throw;
    }
  });
  MPI_Barrier(comm);  // the file exists for every rank once write_store returns
}

CellRange cell_share(int total_cells, int rank, int ranks) {
  const int base = total_cells / ranks, extra = total_cells % ranks;
  return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
}

Store read_store(const std::string& path, MPI_Comm comm, StoreCells which) {
  long long file_size = 0;
  run_on_root(comm, [&] { file_size = probe_store_file(path); });
  MPI_Bcast(&file_size, 1, MPI_LONG_LONG, 0, comm);

  OpenFile file;
  int status = ncmpi_open(comm, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &file.id);
  if (status != NC_NOERR) file.id = -1;
  throw_if_any_rank_failed(comm, status == NC_NOERR ? "" : path + ": cannot open the store: " + ncmpi_strerror(status));
  const StoreReader reader{path, file.id};

  Store store;
  StoreLayout layout;
  run_on_all_ranks(comm, [&] { layout = check_layout(reader, file_size, store); });

  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const CellRange mine = which == StoreCells::all ? CellRange{0, static_cast<int>(layout.num_cells)}
                                                 : cell_share(static_cast<int>(layout.num_cells), rank, ranks);
  const MPI_Offset cells = mine.count, first = mine.first, hours = layout.num_hours, zero = 0;
  std::vector<long long> time(static_cast<size_t>(hours));
  std::vector<double> lat(cells), lon(cells), trend(cells), offset(cells), scale(cells);
  std::vector<int> utc_offset(cells);
  std::vector<float> tas(static_cast<size_t>(cells * hours));
  // Every rank makes every collective call, even after a failure, then the ranks compare notes.
  std::string error;
  auto note = [&](int code, const char* name) {
    if (code != NC_NOERR && error.empty()) error = path + ": reading variable '" + name + "': " + ncmpi_strerror(code);
  };
  note(ncmpi_get_vara_longlong_all(file.id, layout.time, &zero, &hours, time.data()), "time");
  note(ncmpi_get_vara_double_all(file.id, layout.lat, &first, &cells, lat.data()), "lat");
  note(ncmpi_get_vara_double_all(file.id, layout.lon, &first, &cells, lon.data()), "lon");
  note(ncmpi_get_vara_int_all(file.id, layout.utc_offset_hours, &first, &cells, utc_offset.data()), "utc_offset_hours");
  note(ncmpi_get_vara_double_all(file.id, layout.trend, &first, &cells, trend.data()), "trend");
  note(ncmpi_get_vara_double_all(file.id, layout.offset, &first, &cells, offset.data()), "offset");
  note(ncmpi_get_vara_double_all(file.id, layout.scale, &first, &cells, scale.data()), "scale");
  const MPI_Offset start[2] = {first, 0}, count[2] = {cells, hours};
  note(ncmpi_get_vara_float_all(file.id, layout.tas, start, count, tas.data()), "tas");
  if (error.empty())
    for (MPI_Offset i = 1; i < hours; ++i)
      if (time[i] != time[0] + i) {
        error = path + ": variable 'time' is not contiguous hourly (" + format_iso_hour(time[i - 1]) + " is followed by " +
                format_iso_hour(time[i]) + ")";
        break;
      }
  throw_if_any_rank_failed(comm, error);

  store.start_hour = time[0];
  store.num_hours = hours;
  store.first_cell = mine.first;
  store.total_cells = static_cast<int>(layout.num_cells);
  for (MPI_Offset c = 0; c < cells; ++c) {
    CellSeries cell;
    cell.latitude = lat[c];
    cell.longitude = lon[c];
    cell.utc_offset_hours = utc_offset[c];
    cell.trend_k_per_year = trend[c];
    cell.offset_k = offset[c];
    cell.scale_k = scale[c];
    cell.tas_k.assign(tas.begin() + c * hours, tas.begin() + (c + 1) * hours);
    store.cells.push_back(std::move(cell));
  }
  return store;
}

double Store::detrended_k(int c, int64_t i) const {
  return cells[c].tas_k[i] - cells[c].trend_k_per_year * (fractional_year(start_hour + i) - reference_year);
}

double Store::at_year_k(int c, int64_t i, int year) const {
  return cells[c].tas_k[i] - cells[c].trend_k_per_year * (fractional_year(start_hour + i) - year);
}

}  // namespace climvae

namespace climvae {

std::vector<CellSeries> all_cell_constants(const Store& share, MPI_Comm comm) {
  constexpr int per_cell = 6;
  std::vector<double> mine;
  for (const CellSeries& c : share.cells)
    mine.insert(mine.end(), {c.latitude, c.longitude, static_cast<double>(c.utc_offset_hours), c.trend_k_per_year,
                             c.offset_k, c.scale_k});
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(ranks), displacements(ranks, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (int r = 1; r < ranks; ++r) displacements[r] = displacements[r - 1] + counts[r - 1];
  std::vector<double> all(static_cast<size_t>(displacements.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displacements.data(), MPI_DOUBLE, comm);
  std::vector<CellSeries> cells(all.size() / per_cell);
  for (size_t i = 0; i < cells.size(); ++i) {
    const double* v = &all[i * per_cell];
    cells[i].latitude = v[0];
    cells[i].longitude = v[1];
    cells[i].utc_offset_hours = static_cast<int>(v[2]);
    cells[i].trend_k_per_year = v[3];
    cells[i].offset_k = v[4];
    cells[i].scale_k = v[5];
  }
  return cells;
}

}  // namespace climvae
