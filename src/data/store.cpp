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
#include <limits>
#include <type_traits>
#include <utility>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "data/cdf_header.hpp"
#include "common/file_io.hpp"
#include "common/collective.hpp"
#include "common/pnetcdf_util.hpp"
#include "data/nc_input.hpp"
#include "data/units.hpp"

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

// A cell's statistics that no climate has (a typo or wrong unit that slipped through, or a damaged
// store): never written, refused when read.
constexpr double kMinScaleK = 0.01, kMaxScaleK = 50;
constexpr double kMaxTrendKPerYear = 10;  // short records fit a few K/year

// `header` gives the store's size; `cells` are this rank's, from global index `first`.
void validate_for_writing(const Store& header, const std::vector<CellSeries>& cells, int first) {
  require(header.total_cells > 0, "the store has no cells");
  require(header.num_hours > 0, "the store has no hours");
  require(header.reference_year >= 1 && header.reference_year <= 9999,
          "reference year " + std::to_string(header.reference_year) + " is outside 1..9999");  // read_store refuses it
  for (size_t c = 0; c < cells.size(); ++c) {
    const CellSeries& cell = cells[c];
    const std::string name = "cell " + std::to_string(first + static_cast<int>(c));
    require(static_cast<int64_t>(cell.tas_k.size()) == header.num_hours,
            name + " has " + std::to_string(cell.tas_k.size()) + " hours, the store " + std::to_string(header.num_hours));
    // Statistics no climate has (a typo or wrong unit that slipped through): never written.
    const auto plausible = [&](double value, double low, double high, const char* what) {
      require(value >= low && value <= high, name + ": " + what + " " + std::to_string(value) + " is outside " +
                                                 std::to_string(low) + ".." + std::to_string(high) +
                                                 " (are the input values in the unit they claim?)");
    };
    plausible(cell.offset_k, kMinAirTemperatureK, kMaxAirTemperatureK, "mean temperature (offset, K)");
    plausible(cell.scale_k, kMinScaleK, kMaxScaleK, "standard deviation (scale, K)");
    plausible(cell.trend_k_per_year, -kMaxTrendKPerYear, kMaxTrendKPerYear, "trend (K/year)");
  }
}

// Rank 0's header fields (time axis, reference year, texts, cell count) on every rank.
void share_header(Store& store, MPI_Comm comm) {
  long long numbers[4] = {store.start_hour, store.num_hours, store.reference_year, store.total_cells};
  MPI_Bcast(numbers, 4, MPI_LONG_LONG, 0, comm);
  store.start_hour = numbers[0];
  store.num_hours = numbers[1];
  store.reference_year = static_cast<int>(numbers[2]);
  store.total_cells = static_cast<int>(numbers[3]);
  for (std::string* text : {&store.source, &store.history}) {
    long long length = static_cast<long long>(text->size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
    text->resize(static_cast<size_t>(length));
    MPI_Bcast(text->data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  }
}

struct StoreVariables {
  int time, lat, lon, utc_offset_hours, trend, offset, scale, land, tas;
};

// A variable and its text attributes, written in the order given.
using TextAttributes = std::initializer_list<std::pair<const char*, const char*>>;
int define_variable(const NcDefiner& def, const char* name, nc_type type, const std::vector<int>& dims,
                    TextAttributes texts) {
  const int varid = def.variable(name, type, dims);
  for (const auto& [key, value] : texts) def.text(varid, key, value);
  return varid;
}

StoreVariables define_store(int ncid, const std::string& path, const Store& store) {
  const NcDefiner def{ncid, path};
  const std::vector<int> cell{def.dimension("cell", store.total_cells)};
  const int time_dim = def.dimension("time", store.num_hours);
  StoreVariables v{};
  v.time = define_variable(def, "time", NC_INT64, {time_dim},
                           {{"standard_name", "time"}, {"units", time_units}, {"calendar", "proleptic_gregorian"},
                            {"axis", "T"}});
  v.lat = define_variable(def, "lat", NC_DOUBLE, cell, {{"standard_name", "latitude"}, {"units", "degrees_north"}});
  v.lon = define_variable(def, "lon", NC_DOUBLE, cell, {{"standard_name", "longitude"}, {"units", "degrees_east"}});
  v.utc_offset_hours = define_variable(def, "utc_offset_hours", NC_INT, cell,
                                       {{"long_name", "local solar time minus UTC"}, {"units", "hours"}});
  v.trend = define_variable(def, "trend", NC_DOUBLE, cell,
                            {{"long_name", "linear trend removed relative to reference_year"}, {"units", "K year-1"}});
  v.offset = define_variable(def, "offset", NC_DOUBLE, cell,
                             {{"long_name", "standardisation offset: z = (detrended - offset) / scale"}, {"units", "K"}});
  v.scale = define_variable(def, "scale", NC_DOUBLE, cell,
                            {{"long_name", "standardisation scale: z = (detrended - offset) / scale"}, {"units", "K"}});
  v.land = define_variable(def, "land", NC_INT, cell,
                           {{"long_name", "land-sea flag of the cell: 1 land, 0 sea, -1 unknown"}});
  v.tas = define_variable(def, "tas", NC_FLOAT, {cell[0], time_dim},
                          {{"standard_name", "air_temperature"}, {"long_name", "2 m air temperature"}, {"units", "K"},
                           {"coordinates", "lat lon"}});
  const float fill = std::numeric_limits<float>::quiet_NaN();
  check_nc(ncmpi_put_att_float(ncid, v.tas, "_FillValue", NC_FLOAT, 1, &fill), path, "writing tas:_FillValue");

  def.text(NC_GLOBAL, "Conventions", "CF-1.8");
  def.text(NC_GLOBAL, "title", "climvae cell store");
  def.text(NC_GLOBAL, "source", store.source);
  def.text(NC_GLOBAL, "history", store.history);
  def.integer(NC_GLOBAL, "reference_year", store.reference_year);
  def.integer(NC_GLOBAL, "climvae_store_version", store_version);
  return v;
}

// Collective: every rank writes its cells (from global index `first_cell`) into the
// (temporary) file at `path`.
void write_file(const Store& header, const std::vector<CellSeries>& share, int first_cell, const std::string& path,
                MPI_Comm comm) {
  OpenFile file;
  const int status = ncmpi_create(comm, path.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &file.id);
  if (status != NC_NOERR) file.id = -1;
  throw_if_any_rank_failed(comm, nc_message(status, path, "creating the file"));
  const int ncid = file.id;
  StoreVariables v{};
  run_on_all_ranks(comm, [&] { v = define_store(ncid, path, header); });
  throw_if_any_rank_failed(comm, nc_message(ncmpi_enddef(ncid), path, "leaving define mode"));

  // Every rank makes every collective call, even after a failure, then the ranks compare notes.
  std::string error;
  auto note = [&](int code, const char* name) {
    if (error.empty()) error = nc_message(code, path, std::string("writing ") + name);
  };
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const MPI_Offset num_hours = header.num_hours, zero = 0;
  const MPI_Offset time_count = rank == 0 ? num_hours : 0;
  std::vector<long long> hours(static_cast<size_t>(time_count));
  for (MPI_Offset i = 0; i < time_count; ++i) hours[i] = header.start_hour + i;
  note(ncmpi_put_vara_longlong_all(ncid, v.time, &zero, &time_count, hours.data()), "time");

  const MPI_Offset cells = static_cast<MPI_Offset>(share.size());
  const MPI_Offset first = cells > 0 ? first_cell : 0;
  auto put_per_cell = [&](int varid, const char* name, auto field) {
    std::vector<double> values;
    for (const CellSeries& cell : share) values.push_back(field(cell));
    note(ncmpi_put_vara_double_all(ncid, varid, &first, &cells, values.data()), name);
  };
  put_per_cell(v.lat, "lat", [](const CellSeries& c) { return c.latitude; });
  put_per_cell(v.lon, "lon", [](const CellSeries& c) { return c.longitude; });
  put_per_cell(v.trend, "trend", [](const CellSeries& c) { return c.trend_k_per_year; });
  put_per_cell(v.offset, "offset", [](const CellSeries& c) { return c.offset_k; });
  put_per_cell(v.scale, "scale", [](const CellSeries& c) { return c.scale_k; });
  put_per_cell(v.utc_offset_hours, "utc_offset_hours", [](const CellSeries& c) { return c.utc_offset_hours; });
  put_per_cell(v.land, "land", [](const CellSeries& c) { return c.land; });
  // One non-blocking put per cell straight from its series, flushed by one collective wait.
  for (MPI_Offset c = 0; c < cells; ++c) {
    const MPI_Offset start[2] = {first + c, 0}, count[2] = {1, num_hours};
    note(ncmpi_iput_vara_float(ncid, v.tas, start, count, share[c].tas_k.data(), nullptr), "tas");
  }
  note(ncmpi_wait_all(ncid, NC_REQ_ALL, nullptr, nullptr), "tas");
  throw_if_any_rank_failed(comm, error);
  file.id = -1;
  throw_if_any_rank_failed(comm, nc_message(ncmpi_close(ncid), path, "closing the file"));
}

// ---- reading ------------------------------------------------------------------------------

// Rank 0's look at the file before the collective open, so that a missing, foreign or
// netCDF-4 file gives one clear message on every rank. Returns the file size in bytes.
long long probe_store_file(const std::string& path) {
  const NcFormat format = nc_format_of(path);  // Error naming the file if it cannot be opened
  require(format != NcFormat::netcdf4,
          path + ": is netCDF-4/HDF5; a climvae store is CDF-5 (write it with 'climvae prepare')");
  require(format != NcFormat::not_netcdf, path + ": not a NetCDF file (no CDF magic number at its start)");
  struct stat info {};
  require(::stat(path.c_str(), &info) == 0, path + ": cannot open the store: " + std::strerror(errno));
  return static_cast<long long>(info.st_size);
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

  // The attribute's type and length; Error naming it when it is missing.
  std::pair<nc_type, MPI_Offset> attribute(int varid, const char* name) const {
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    require(ncmpi_inq_att(ncid, varid, name, &type, &length) == NC_NOERR,
            path + ": attribute '" + name + "' is missing");
    return {type, length};
  }

  int int_attribute(int varid, const char* name) const {
    const auto [type, length] = attribute(varid, name);
    require(type != NC_CHAR && length == 1, path + ": attribute '" + name + "' is not one number");
    int value = 0;
    check_nc(ncmpi_get_att_int(ncid, varid, name, &value), path, std::string("attribute ") + name);
    return value;
  }

  std::string text_attribute(int varid, const char* name) const {
    const auto [type, length] = attribute(varid, name);
    require(type == NC_CHAR, path + ": attribute '" + name + "' is not text");
    std::string value(static_cast<size_t>(length), '\0');
    check_nc(ncmpi_get_att_text(ncid, varid, name, value.data()), path, std::string("attribute ") + name);
    while (!value.empty() && value.back() == '\0') value.pop_back();
    return value;
  }
};

struct StoreLayout {
  MPI_Offset num_cells = 0, num_hours = 0;
  int time = -1, lat = -1, lon = -1, utc_offset_hours = -1, trend = -1, offset = -1, scale = -1, tas = -1;
  int land = -1;  // -1: a store written before the land-sea flag
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
  if (ncmpi_inq_varid(reader.ncid, "land", &layout.land) == NC_NOERR) layout.land = reader.variable("land", {"cell"});
  else layout.land = -1;
  const std::string units = reader.text_attribute(layout.time, "units");
  require(units == time_units, path + ": variable 'time' has units '" + units + "', expected '" + time_units + "'");
  store.reference_year = reader.int_attribute(NC_GLOBAL, "reference_year");
  store.source = reader.text_attribute(NC_GLOBAL, "source");
  store.history = reader.text_attribute(NC_GLOBAL, "history");
  const long long expected = nc_expected_file_size(reader.ncid, path);
  require(file_size >= expected, path + ": the file is truncated (" + std::to_string(file_size) + " bytes, its header needs " +
                                     std::to_string(expected) + ")");
  return layout;
}

// What prepare never writes, found in a damaged or hand-edited store (training on it would save a
// model that cannot be loaded, or learn from values no air temperature has); "" if none. Bounds
// as in validate_for_writing and the model file's checks.
std::string content_error(const std::string& path, const Store& store, int64_t start_hour, int64_t hours, int first) {
  const auto g = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return std::string(text);
  };
  if (store.reference_year < 1 || store.reference_year > 9999)
    return path + ": reference_year " + std::to_string(store.reference_year) + " is outside 1..9999 (a damaged store?)";
  if (start_hour < calendar_first_hour() || start_hour > calendar_end_hour() - hours)
    return path + ": variable 'time' starts at hour " + std::to_string(start_hour) +
           " since 1970, outside the years 1..9999 (a damaged store?)";
  for (size_t c = 0; c < store.cells.size(); ++c) {
    const CellSeries& cell = store.cells[c];
    const std::string name = path + ": cell " + std::to_string(first + static_cast<int>(c)) + ": ";
    const auto outside = [&](double value, double low, double high, const char* what) {
      if (value >= low && value <= high) return std::string();  // false for NaN
      return name + what + " " + g(value) + " is outside " + g(low) + ".." + g(high) + " (a damaged store?)";
    };
    for (const std::string& problem :
         {outside(cell.latitude, -90, 90, "lat"), outside(cell.longitude, -360, 360, "lon"),
          outside(cell.utc_offset_hours, -14, 14, "utc_offset_hours"), outside(cell.trend_k_per_year, -kMaxTrendKPerYear, kMaxTrendKPerYear, "trend"),
          outside(cell.offset_k, kMinAirTemperatureK, kMaxAirTemperatureK, "offset"), outside(cell.scale_k, kMinScaleK, kMaxScaleK, "scale")})
      if (!problem.empty()) return problem;
    for (size_t i = 0; i < cell.tas_k.size(); ++i) {
      const float v = cell.tas_k[i];
      if (std::isnan(v) || (v >= kMinAirTemperatureK && v <= kMaxAirTemperatureK)) continue;
      return name + "tas at " + format_iso_hour(start_hour + static_cast<int64_t>(i)) + " is " + g(v) + " K, outside " +
             g(kMinAirTemperatureK) + ".." + g(kMaxAirTemperatureK) + " K (a damaged store?)";
    }
  }
  return "";
}

// Collective: writes `cells` (this rank's, from global index `first`) with the header of rank
// 0's `store` (time axis, year, texts) and rank 0's `total_cells`.
void write_cells(const Store& store, const std::vector<CellSeries>& cells, int first, int total_cells,
                 const std::string& path, bool replace, MPI_Comm comm) {
  Store header;  // rank 0's, on every rank
  header.start_hour = store.start_hour;
  header.num_hours = store.num_hours;
  header.reference_year = store.reference_year;
  header.total_cells = total_cells;
  header.source = store.source;
  header.history = store.history;
  share_header(header, comm);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  // The ranks' cells must tile 0 .. total_cells - 1 in rank order.
  const int mine[2] = {first, static_cast<int>(cells.size())};
  std::vector<int> all(2 * static_cast<size_t>(ranks));
  MPI_Allgather(mine, 2, MPI_INT, all.data(), 2, MPI_INT, comm);
  run_on_all_ranks(comm, [&] {
    int next = 0;
    for (int r = 0; r < ranks; ++r) {
      require(all[2 * r + 1] == 0 || all[2 * r] == next, path + ": rank " + std::to_string(r) + "'s cells start at " +
                                                               std::to_string(all[2 * r]) + ", not " + std::to_string(next));
      next += all[2 * r + 1];
    }
    require(next == header.total_cells, path + ": the ranks hold " + std::to_string(next) + " cells, the store " +
                                            std::to_string(header.total_cells));
    require(cells.empty() || store.start_hour == header.start_hour, path + ": the ranks' shares start at different hours");
    validate_for_writing(header, cells, first);
  });
  const std::string temporary = broadcast_from_root(comm, temporary_path(path, static_cast<long long>(::getpid())));
  if (rank == 0) remove_stale_temporaries(path);
  try {
    write_file(header, cells, first, temporary, comm);
    run_on_root(comm, [&] {
      try {
        commit_file(temporary, path, replace);
      } catch (const Error& e) {
        throw Error("store " + path + ": cannot move the finished store into place: " + e.what());
      }
    });
  } catch (...) {
    if (rank == 0) std::remove(temporary.c_str());  // never leave a half-written store behind
    throw;
  }
  MPI_Barrier(comm);  // the file exists for every rank once the write returns
}

}  // namespace

void write_store(const Store& store, const std::string& path, bool replace, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  static const std::vector<CellSeries> none;
  write_cells(store, rank == 0 ? store.cells : none, 0, static_cast<int>(store.cells.size()), path, replace, comm);
}

void write_store_share(const Store& share, const std::string& path, bool replace, MPI_Comm comm) {
  write_cells(share, share.cells, share.first_cell, share.total_cells, path, replace, comm);
}

CellRange cell_share(int total_cells, int rank, int ranks) {
  const int base = total_cells / ranks, extra = total_cells % ranks;
  return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
}

Store read_store(const std::string& path, MPI_Comm comm, StoreCells which) {
  long long file_size = 0;
  run_on_root(comm, [&] {
    file_size = probe_store_file(path);
    check_cdf_header(path);
  });
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
  store.cells.resize(static_cast<size_t>(cells));
  for (CellSeries& cell : store.cells) cell.tas_k.resize(static_cast<size_t>(hours));
  // Every rank makes every collective call, even after a failure, then the ranks compare notes.
  std::string error;
  auto note = [&](int code, const char* name) {
    if (code != NC_NOERR && error.empty()) error = path + ": reading variable '" + name + "': " + ncmpi_strerror(code);
  };
  // A per-cell variable into that field of each cell, read as the field's type.
  auto get_per_cell = [&](int varid, const char* name, auto field) {
    using Value = std::remove_reference_t<decltype(store.cells[0].*field)>;
    std::vector<Value> values(static_cast<size_t>(cells));
    if constexpr (std::is_same_v<Value, int>)
      note(ncmpi_get_vara_int_all(file.id, varid, &first, &cells, values.data()), name);
    else
      note(ncmpi_get_vara_double_all(file.id, varid, &first, &cells, values.data()), name);
    for (MPI_Offset c = 0; c < cells; ++c) store.cells[c].*field = values[c];
  };
  note(ncmpi_get_vara_longlong_all(file.id, layout.time, &zero, &hours, time.data()), "time");
  get_per_cell(layout.lat, "lat", &CellSeries::latitude);
  get_per_cell(layout.lon, "lon", &CellSeries::longitude);
  get_per_cell(layout.utc_offset_hours, "utc_offset_hours", &CellSeries::utc_offset_hours);
  get_per_cell(layout.trend, "trend", &CellSeries::trend_k_per_year);
  get_per_cell(layout.offset, "offset", &CellSeries::offset_k);
  get_per_cell(layout.scale, "scale", &CellSeries::scale_k);
  if (layout.land >= 0) get_per_cell(layout.land, "land", &CellSeries::land);  // else -1: unknown
  // The share's series are one contiguous run of tas(cell, time): one non-blocking get per
  // cell straight into its vector, served by one collective wait (no staging copy).
  for (MPI_Offset c = 0; c < cells; ++c) {
    const MPI_Offset start[2] = {first + c, 0}, count[2] = {1, hours};
    note(ncmpi_iget_vara_float(file.id, layout.tas, start, count, store.cells[c].tas_k.data(), nullptr), "tas");
  }
  note(ncmpi_wait_all(file.id, NC_REQ_ALL, nullptr, nullptr), "tas");
  if (error.empty())
    for (MPI_Offset i = 1; i < hours; ++i)
      if (time[i] != time[0] + i) {
        error = path + ": variable 'time' is not contiguous hourly (" + format_iso_hour(time[i - 1]) + " is followed by " +
                format_iso_hour(time[i]) + ")";
        break;
      }
  if (error.empty()) error = content_error(path, store, time[0], hours, mine.first);
  throw_if_any_rank_failed(comm, error);

  store.start_hour = time[0];
  store.num_hours = hours;
  store.first_cell = mine.first;
  store.total_cells = static_cast<int>(layout.num_cells);
  return store;
}

double Store::detrended_k(int c, int64_t i) const {
  if (cells[c].trend_k_per_year == 0) return cells[c].tas_k[i];  // the same value, without the calendar
  return cells[c].tas_k[i] - cells[c].trend_k_per_year * (fractional_year(start_hour + i) - reference_year);
}

double Store::at_year_k(int c, int64_t i, int year) const {
  return cells[c].tas_k[i] - cells[c].trend_k_per_year * (fractional_year(start_hour + i) - year);
}

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
