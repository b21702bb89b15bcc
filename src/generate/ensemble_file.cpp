// CF-1.8 ensemble files through PnetCDF (CDF-5). Layout:
//   dimensions  time (fixed, first), realization, lat = 1, lon = 1
//   time(time) double, realization(realization) int (1-based member number),
//   lat(lat), lon(lon) double, height scalar double (2 m, standard_name height),
//   tas(time, realization, lat, lon) float in K, _FillValue 1e20f; the scalar coordinates
//   CDO cannot take are named in the global `coordinates` (see define_variables).
// Errors: local PnetCDF status codes become messages (nc_message); every collective step then
// agrees on success across ranks (throw_if_any_rank_failed) so that all ranks throw together.
#include "generate/ensemble_file.hpp"

#include <pnetcdf.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sys/stat.h>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/cdf_header.hpp"
#include "data/nc_input.hpp"
#include "common/pnetcdf_util.hpp"

namespace climvae {

namespace {

constexpr float kFillValue = 1e20f;
constexpr const char* kTimeUnits = "hours since 1970-01-01 00:00:00";

int rank_in(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

bool path_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// The temporary name must be identical on every rank: rank 0's host and pid decide it.
std::string temporary_path_for(const std::string& path, MPI_Comm comm) {
  return broadcast_from_root(comm, temporary_path(path, static_cast<long long>(::getpid())));
}

// --- define mode: attribute and variable helpers (local calls; the header is identical on all ranks)

struct CoordinateIds {
  int time, realization, lat, lon, height, cell;
};

CoordinateIds define_layout(int ncid, const std::string& path, const EnsembleMeta& meta, int& tas_varid) {
  const NcDefiner def{ncid, path};
  const bool cells = meta.layout == EnsembleLayout::cells;
  const int time_dim = def.dimension("time", meta.num_hours);
  const int member_dim = cells ? -1 : def.dimension("realization", meta.members);
  const int lat_dim = def.dimension(cells ? "cell" : "lat", meta.num_lats());
  const int lon_dim = cells ? lat_dim : def.dimension("lon", meta.num_lons());

  CoordinateIds ids{};
  ids.time = def.variable("time", NC_DOUBLE, {time_dim});
  def.text(ids.time, "units", kTimeUnits);
  def.text(ids.time, "calendar", "proleptic_gregorian");
  def.text(ids.time, "standard_name", "time");
  def.text(ids.time, "long_name", "time");
  def.text(ids.time, "axis", "T");

  ids.realization = def.variable("realization", NC_INT, cells ? std::vector<int>{} : std::vector<int>{member_dim});
  def.text(ids.realization, "standard_name", "realization");
  def.text(ids.realization, "long_name", "ensemble member number");
  def.text(ids.realization, "units", "1");

  ids.lat = def.variable("lat", NC_DOUBLE, {lat_dim});
  def.text(ids.lat, "units", "degrees_north");
  def.text(ids.lat, "standard_name", "latitude");
  def.text(ids.lat, "long_name", "latitude");
  if (!cells) def.text(ids.lat, "axis", "Y");

  ids.lon = def.variable("lon", NC_DOUBLE, {lon_dim});
  def.text(ids.lon, "units", "degrees_east");
  def.text(ids.lon, "standard_name", "longitude");
  def.text(ids.lon, "long_name", "longitude");
  if (!cells) def.text(ids.lon, "axis", "X");

  if (cells) {
    ids.cell = def.variable("cell_id", NC_INT, {lat_dim});
    def.text(ids.cell, "long_name", "cell index in the model");
    def.text(ids.cell, "cf_role", "timeseries_id");
    def.text(NC_GLOBAL, "featureType", "timeSeries");
  }

  ids.height = def.variable("height", NC_DOUBLE, {});
  def.text(ids.height, "units", "m");
  def.text(ids.height, "standard_name", "height");
  def.text(ids.height, "long_name", "height");
  def.text(ids.height, "positive", "up");
  def.text(ids.height, "axis", "Z");

  tas_varid = def.variable("tas", NC_FLOAT, cells ? std::vector<int>{time_dim, lat_dim}
                                                  : std::vector<int>{time_dim, member_dim, lat_dim, lon_dim});
  def.text(tas_varid, "standard_name", "air_temperature");
  def.text(tas_varid, "long_name", "Near-Surface Air Temperature");
  def.text(tas_varid, "units", "K");
  // CDO 2.1 gives a variable one vertical axis and warns about, or rejects, any further
  // non-horizontal coordinate. A grid file's axis is its realization dimension, so its 2 m
  // height is named in the global `coordinates` (xarray reads it as a coordinate of tas; CDO
  // ignores it); a member file's axis is the 2 m height, as in CMIP's tas, and its scalar
  // realization moves to the global list (and `realization_index`, as in CMIP).
  def.text(tas_varid, "coordinates", cells ? "height lat lon" : "lat lon");
  def.text(NC_GLOBAL, "coordinates", cells ? "realization" : "height");
  if (cells) def.integer(NC_GLOBAL, "realization_index", meta.member_number);
  def.text(tas_varid, "cell_methods", "time: point");
  check_nc(ncmpi_put_att_float(ncid, tas_varid, "_FillValue", NC_FLOAT, 1, &kFillValue), path,
           "attribute 'tas:_FillValue'");

  const std::string version = CLIMVAE_VERSION_STRING;
  def.text(NC_GLOBAL, "Conventions", "CF-1.8");
  def.text(NC_GLOBAL, "title", "climvae synthetic hourly near-surface air temperature");
  def.text(NC_GLOBAL, "institution", "climvae " + version);
  def.text(NC_GLOBAL, "source", "climvae " + version);
  def.text(NC_GLOBAL, "history", meta.history);
  def.text(NC_GLOBAL, "date_created", utc_now_text());
  def.text(NC_GLOBAL, "climvae_model", meta.model_path);
  def.text(NC_GLOBAL, "climvae_seed", std::to_string(meta.seed));  // uint64 has no CDF attribute type
  def.integer(NC_GLOBAL, "climvae_reference_year", meta.reference_year);
  def.integer(NC_GLOBAL, "climvae_target_year", meta.target_year);
  def.text(NC_GLOBAL, "climvae_scenario", meta.scenario);
  def.text(NC_GLOBAL, "climvae_version", version);
  for (const auto& [name, value] : meta.attributes) def.text(NC_GLOBAL, name.c_str(), value);
  return ids;
}

// Rank 0 writes the small coordinate variables in independent mode.
void write_coordinates(int ncid, const std::string& path, const EnsembleMeta& meta, const CoordinateIds& ids) {
  std::vector<double> hours(static_cast<size_t>(meta.num_hours));
  for (size_t t = 0; t < hours.size(); ++t) hours[t] = static_cast<double>(meta.start_hour + static_cast<int64_t>(t));
  const bool cells = meta.layout == EnsembleLayout::cells;
  std::vector<int> members(static_cast<size_t>(meta.members));
  for (size_t m = 0; m < members.size(); ++m) members[m] = cells ? meta.member_number : static_cast<int>(m) + 1;
  const double height = 2.0;
  const std::vector<double> lats = meta.lats.empty() ? std::vector<double>{meta.latitude} : meta.lats;
  const std::vector<double> lons = meta.lons.empty() ? std::vector<double>{meta.longitude} : meta.lons;
  check_nc(ncmpi_put_var_double(ncid, ids.time, hours.data()), path, "writing variable 'time'");
  check_nc(ncmpi_put_var_int(ncid, ids.realization, members.data()), path, "writing variable 'realization'");
  check_nc(ncmpi_put_var_double(ncid, ids.lat, lats.data()), path, "writing variable 'lat'");
  check_nc(ncmpi_put_var_double(ncid, ids.lon, lons.data()), path, "writing variable 'lon'");
  if (cells) {
    std::vector<int> cell_ids = meta.cell_ids;
    if (cell_ids.empty())
      for (size_t c = 0; c < lats.size(); ++c) cell_ids.push_back(static_cast<int>(c));
    check_nc(ncmpi_put_var_int(ncid, ids.cell, cell_ids.data()), path, "writing variable 'cell_id'");
  }
  check_nc(ncmpi_put_var_double(ncid, ids.height, &height), path, "writing variable 'height'");
}

void validate_meta(const std::string& path, const EnsembleMeta& meta) {
  require(meta.num_hours > 0, "ensemble '" + path + "': the number of hours must be positive");
  require(meta.members > 0, "ensemble '" + path + "': the number of members must be positive");
  const bool cells = meta.layout == EnsembleLayout::cells;
  require(!cells || meta.members == 1, "ensemble '" + path + "': a file of cells holds one member");
  require(!cells || meta.lats.size() == meta.lons.size(), "ensemble '" + path + "': one longitude per cell needed");
  require(meta.cell_ids.empty() || meta.cell_ids.size() == meta.lats.size(),
          "ensemble '" + path + "': one cell id per cell needed");
  require(meta.lats.empty() == meta.lons.empty(), "ensemble '" + path + "': latitudes and longitudes go together");
  for (double lat : meta.lats.empty() ? std::vector<double>{meta.latitude} : meta.lats)
    require(std::isfinite(lat) && std::abs(lat) <= 90, "ensemble '" + path + "': latitude outside -90..90");
  for (double lon : meta.lons.empty() ? std::vector<double>{meta.longitude} : meta.lons)
    require(std::isfinite(lon), "ensemble '" + path + "': longitude is not finite");
}

}  // namespace

// --- EnsembleWriter -------------------------------------------------------------------------

EnsembleWriter::EnsembleWriter(const std::string& path, const EnsembleMeta& meta, bool overwrite, MPI_Comm comm)
    : path_(path), overwrite_(overwrite), meta_(meta), comm_(comm) {
  run_on_root(comm_, [&] {
    validate_meta(path_, meta_);
    require_regular_or_absent(path_, "output");
    require(overwrite || !path_exists(path_),
            "output '" + path_ + "' exists already (choose another path or allow overwriting)");
    remove_stale_temporaries(path_);
  });
  temporary_path_ = temporary_path_for(path_, comm_);

  int ncid = -1;
  const int created = ncmpi_create(comm_, temporary_path_.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &ncid);
  if (created == NC_NOERR) ncid_ = ncid;
  try {
    throw_if_any_rank_failed(comm_, nc_message(created, temporary_path_, "cannot create (for '" + path_ + "')"));
    CoordinateIds ids{};
    throw_if_any_rank_failed(comm_, error_message_of([&] { ids = define_layout(ncid_, temporary_path_, meta_, tas_varid_); }));
    throw_if_any_rank_failed(comm_, nc_message(ncmpi_enddef(ncid_), temporary_path_, "leaving define mode"));
    MPI_Offset tas_offset = 0;
    throw_if_any_rank_failed(comm_, nc_message(ncmpi_inq_varoffset(ncid_, tas_varid_, &tas_offset), temporary_path_,
                                               "offset of variable 'tas'"));
    expected_size_ = tas_offset + static_cast<long long>(sizeof(float)) * meta_.num_hours * meta_.members *
                                      meta_.num_lats() * meta_.num_lons();
    throw_if_any_rank_failed(comm_, nc_message(ncmpi_begin_indep_data(ncid_), temporary_path_, "independent mode"));
    const std::string written =
        rank_in(comm_) == 0 ? error_message_of([&] { write_coordinates(ncid_, temporary_path_, meta_, ids); }) : "";
    const std::string ended = nc_message(ncmpi_end_indep_data(ncid_), temporary_path_, "collective mode");
    throw_if_any_rank_failed(comm_, written.empty() ? ended : written);
  } catch (...) {
    discard();
    throw;
  }
}

EnsembleWriter::~EnsembleWriter() {
  if (!finished_) discard();
}

void EnsembleWriter::discard() noexcept {
  finished_ = true;
  if (ncid_ >= 0) ncmpi_close(ncid_);  // collective; its status no longer matters
  ncid_ = -1;
  if (rank_in(comm_) == 0 && !temporary_path_.empty()) std::remove(temporary_path_.c_str());
  MPI_Barrier(comm_);  // nobody reports the failure before the temporary file is gone
}

void EnsembleWriter::write_block(int64_t t0, int64_t nt, int m0, int nm, const float* tas_k) {
  if (nt > 0 && nm > 0) {
    std::vector<float> values;
    if (tas_k) values.assign(tas_k, tas_k + nt * nm);
    post(t0, nt, m0, nm, 0, 0, std::move(values));
  }
  flush();
}

void EnsembleWriter::post(int64_t t0, int64_t nt, int m0, int nm, int64_t y, int64_t x, std::vector<float> tas_k,
                          int64_t ny, int64_t nx) {
  if (nt <= 0 || nm <= 0 || !post_error_.empty()) return;
  const bool cells = meta_.layout == EnsembleLayout::cells;
  if (finished_ || t0 < 0 || m0 < 0 || t0 + nt > meta_.num_hours || m0 + nm > meta_.members || y < 0 || ny < 1 ||
      y + ny > meta_.num_lats() || x < 0 || nx < 1 || x + nx > meta_.num_lons() || tas_k.size() != size_t(nt * nm * ny * nx)) {
    post_error_ = "ensemble '" + path_ + "': block of times [" + std::to_string(t0) + ", " + std::to_string(t0 + nt) +
                  ") and members [" + std::to_string(m0) + ", " + std::to_string(m0 + nm) + ") at (" +
                  std::to_string(y) + ", " + std::to_string(x) + ") with " + std::to_string(tas_k.size()) +
                  " values lies outside the file's " + std::to_string(meta_.num_hours) + " hours, " +
                  std::to_string(meta_.members) + " members and " + std::to_string(meta_.num_lats()) + " x " +
                  std::to_string(meta_.num_lons()) + " cells (or the writer is done)";
    return;
  }
  // NaN (missing) becomes the CF fill value so readers see it as missing.
  for (float& v : tas_k)
    if (std::isnan(v)) v = kFillValue;
  pending_.push_back(std::move(tas_k));
  const MPI_Offset grid_start[4] = {t0, m0, y, x}, grid_count[4] = {nt, nm, ny, nx};
  const MPI_Offset cell_start[2] = {t0, y}, cell_count[2] = {nt, ny};
  int request = 0;
  const int status = ncmpi_iput_vara_float(ncid_, tas_varid_, cells ? cell_start : grid_start,
                                           cells ? cell_count : grid_count, pending_.back().data(), &request);
  post_error_ = nc_message(status, temporary_path_, "queueing a block of variable 'tas'");
}

void EnsembleWriter::flush() {
  require(!finished_, "ensemble '" + path_ + "': write after commit or failure");
  try {
    throw_if_any_rank_failed(comm_, post_error_);
    const int status = ncmpi_wait_all(ncid_, NC_REQ_ALL, nullptr, nullptr);
    pending_.clear();
    throw_if_any_rank_failed(comm_, nc_message(status, temporary_path_, "writing variable 'tas'"));
  } catch (...) {
    discard();
    throw;
  }
}

void EnsembleWriter::commit() {
  require(!finished_, "ensemble '" + path_ + "': commit after commit or failure");
  try {
    const int closed = ncmpi_close(ncid_);
    ncid_ = -1;
    throw_if_any_rank_failed(comm_, nc_message(closed, temporary_path_, "closing"));
    run_on_root(comm_, [&] {
      // A full disk or a file size limit can cut the file short without any write reporting it.
      struct stat info {};
      require(::stat(temporary_path_.c_str(), &info) == 0 && info.st_size >= expected_size_,
              "NetCDF file '" + temporary_path_ + "': only " + std::to_string(info.st_size) + " of " +
                  std::to_string(expected_size_) + " bytes reached the disk (disk full or file size limit?); '" +
                  path_ + "' was not written");
      commit_file(temporary_path_, path_, overwrite_);
    });
  } catch (...) {
    discard();
    throw;
  }
  finished_ = true;
}

// --- whole-ensemble convenience ---------------------------------------------------------------

void write_ensemble(const std::string& path, const Ensemble& ensemble, bool overwrite, MPI_Comm comm) {
  const EnsembleMeta& meta = ensemble.meta;
  run_on_root(comm, [&] {
    require(ensemble.tas_k.size() == static_cast<size_t>(meta.num_hours) * static_cast<size_t>(meta.members),
            "ensemble '" + path + "': " + std::to_string(ensemble.tas_k.size()) + " values for " +
                std::to_string(meta.num_hours) + " hours x " + std::to_string(meta.members) + " members");
  });
  EnsembleWriter writer(path, meta, overwrite, comm);
  // For now rank 0 writes everything; other ranks join the collective call with empty blocks.
  if (rank_in(comm) == 0)
    writer.write_block(0, meta.num_hours, 0, meta.members, ensemble.tas_k.data());
  else
    writer.write_block(0, 0, 0, 0, nullptr);
  writer.commit();
}

// --- reading ----------------------------------------------------------------------------------

namespace {

// Why ncmpi_open failed ("" when it did not). PnetCDF's own message for netCDF-4 ("feature not
// turned on") does not say what to do.
std::string open_failure(int status, const std::string& path) {
  if (status == NC_NOERR) return "";
  NcFormat format = NcFormat::classic;
  try {
    format = nc_format_of(path);
  } catch (const Error&) {  // unreadable: PnetCDF's message says so
  }
  // An empty or foreign file gets PnetCDF's "Unknown error in file operation" otherwise.
  if (format == NcFormat::not_netcdf)
    return "NetCDF file '" + path + "' is not a NetCDF file (no CDF magic number at its start; empty, or of another format)";
  if (format != NcFormat::netcdf4) return nc_message(status, path, "cannot open as a classic/CDF-5 NetCDF file");
  return "NetCDF file '" + path + "' is netCDF-4/HDF5; climvae reads generated ensembles as classic or CDF-5 NetCDF "
         "(convert it with: nccopy -k cdf5 IN OUT)";
}

class OpenFile {
 public:
  OpenFile(const std::string& path, MPI_Comm comm) : path_(path), comm_(comm) {
    run_on_root(comm, [&] {
      require_regular_input(path, "NetCDF file");  // a FIFO would block the open for ever
      check_cdf_header(path);
    });
    int ncid = -1;
    const int status = ncmpi_open(comm, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid);
    if (status == NC_NOERR) ncid_ = ncid;
    try {
      throw_if_any_rank_failed(comm, open_failure(status, path));
    } catch (...) {
      if (ncid_ >= 0) ncmpi_close(ncid_);
      throw;
    }
  }
  ~OpenFile() { ncmpi_close(ncid_); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int id() const { return ncid_; }
  const std::string& path() const { return path_; }
  MPI_Comm comm() const { return comm_; }

  int varid(const std::string& name) const {
    int varid = -1;
    require(ncmpi_inq_varid(ncid_, name.c_str(), &varid) == NC_NOERR,
            "NetCDF file '" + path_ + "': no variable '" + name + "'");
    return varid;
  }
  std::vector<int> dimensions_of(int varid, const std::string& name) const {
    int ndims = 0;
    check_nc(ncmpi_inq_varndims(ncid_, varid, &ndims), path_, "variable '" + name + "'");
    std::vector<int> dimids(static_cast<size_t>(ndims));
    check_nc(ncmpi_inq_vardimid(ncid_, varid, dimids.data()), path_, "variable '" + name + "'");
    return dimids;
  }
  std::string dimension_name(int dimid) const {
    char name[NC_MAX_NAME + 1] = {};
    check_nc(ncmpi_inq_dimname(ncid_, dimid, name), path_, "dimension name");
    return name;
  }
  MPI_Offset dimension_length(int dimid) const {
    MPI_Offset length = 0;
    check_nc(ncmpi_inq_dimlen(ncid_, dimid, &length), path_, "dimension '" + dimension_name(dimid) + "'");
    return length;
  }
  // Text attribute or `fallback` when absent.
  std::string text(int varid, const char* name, const std::string& fallback = "") const {
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    if (ncmpi_inq_att(ncid_, varid, name, &type, &length) != NC_NOERR || type != NC_CHAR) return fallback;
    std::string value(static_cast<size_t>(length), '\0');
    check_nc(ncmpi_get_att_text(ncid_, varid, name, value.data()), path_, std::string("attribute '") + name + "'");
    while (!value.empty() && value.back() == '\0') value.pop_back();  // C writers count the terminator
    return value;
  }
  // Numeric attribute or `fallback` when absent.
  double number(int varid, const char* name, double fallback) const {
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    if (ncmpi_inq_att(ncid_, varid, name, &type, &length) != NC_NOERR || type == NC_CHAR || length < 1) return fallback;
    std::vector<double> values(static_cast<size_t>(length));
    check_nc(ncmpi_get_att_double(ncid_, varid, name, values.data()), path_, std::string("attribute '") + name + "'");
    return values[0];
  }
  // Values the variable holds (the product of its dimensions' lengths).
  size_t values_in(int varid, const std::string& name) const {
    size_t count = 1;
    for (int dim : dimensions_of(varid, name)) count *= static_cast<size_t>(dimension_length(dim));
    return count;
  }
  // `name` must hold `count` values: a coordinate variable on another, longer dimension ('lat' on
  // a dimension of 100000) was read whole into a buffer of `count` (a heap overflow, a crash).
  void require_values(int varid, const std::string& name, size_t count) const {
    const size_t holds = values_in(varid, name);
    require(holds == count, "NetCDF file '" + path_ + "': variable '" + name + "' holds " + std::to_string(holds) +
                                " values, expected " + std::to_string(count) + " (one per element of its dimension)");
  }
  // Collective read of a whole variable (every rank gets all of it).
  std::vector<double> doubles(int varid, const std::string& name, size_t count) const {
    require_values(varid, name, count);
    std::vector<double> values(count);
    throw_if_any_rank_failed(comm_, nc_message(ncmpi_get_var_double_all(ncid_, varid, values.data()), path_,
                                               "reading variable '" + name + "'"));
    return values;
  }

 private:
  std::string path_;
  MPI_Comm comm_;
  int ncid_ = -1;
};

uint64_t parse_seed(const std::string& text, const std::string& path) {
  if (text.empty()) return 0;
  try {
    size_t used = 0;
    const unsigned long long seed = std::stoull(text, &used);
    require(used == text.size(), "");
    return seed;
  } catch (const std::exception&) {
    throw Error("NetCDF file '" + path + "': attribute 'climvae_seed' is not an unsigned integer: '" + text + "'");
  }
}

// Hours since 1970 from the time variable; climvae files are hourly and consecutive.
void read_time_axis(const OpenFile& file, int time_dim, EnsembleMeta& meta) {
  const std::string& path = file.path();
  const int varid = file.varid("time");
  const std::string units = file.text(varid, "units");
  require(units.rfind("hours since 1970-01-01", 0) == 0,
          "NetCDF file '" + path + "': variable 'time' has units '" + units + "', expected '" + kTimeUnits + "'");
  const std::string calendar = file.text(varid, "calendar", "standard");
  require(calendar == "proleptic_gregorian" || calendar == "standard" || calendar == "gregorian",
          "NetCDF file '" + path + "': variable 'time' has calendar '" + calendar + "'");
  const auto hours = file.doubles(varid, "time", static_cast<size_t>(file.dimension_length(time_dim)));
  require(!hours.empty(), "NetCDF file '" + path + "': variable 'time' is empty");
  meta.start_hour = static_cast<int64_t>(std::llround(hours[0]));
  for (size_t t = 0; t < hours.size(); ++t)
    require(hours[t] == static_cast<double>(meta.start_hour + static_cast<int64_t>(t)),
            "NetCDF file '" + path + "': variable 'time' is not consecutive whole hours (at index " +
                std::to_string(t) + ")");
  meta.num_hours = static_cast<int64_t>(hours.size());
}

// The run's global attributes: seed, reference and target year, model, scenario, command.
void read_run_attributes(const OpenFile& file, const std::string& path, EnsembleMeta& meta) {
  meta.seed = parse_seed(file.text(NC_GLOBAL, "climvae_seed"), path);
  // Years outside 0 (not given) ..9999 are refused, not cast to int (1e12 and NaN became
  // -2147483648, and evaluate moved the observed trend to that year).
  const auto year = [&](const char* name, double fallback) {
    const double value = file.number(NC_GLOBAL, name, fallback);
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", value);
    require(value >= 0 && value <= 9999 && value == std::floor(value),
            "NetCDF file '" + path + "': attribute '" + name + "' is " + text + ", not a year 1..9999");
    return static_cast<int>(value);
  };
  meta.reference_year = year("climvae_reference_year", 0);
  meta.target_year = year("climvae_target_year", meta.reference_year);
  meta.model_path = file.text(NC_GLOBAL, "climvae_model");
  meta.scenario = file.text(NC_GLOBAL, "climvae_scenario");
  meta.history = file.text(NC_GLOBAL, "history");
}

// All of tas (count values): its _FillValue and missing_value turned into NaN, packed values
// unpacked (CF scale_factor, add_offset: a packed int16 file read raw looked like 934 K, or, with
// another offset, like a plausible and wrong temperature). Collective.
std::vector<float> read_tas(const OpenFile& file, int tas, size_t count, const std::string& path, MPI_Comm comm) {
  const float fill = static_cast<float>(file.number(tas, "_FillValue", kFillValue));
  const float missing = static_cast<float>(file.number(tas, "missing_value", fill));
  const double scale = file.number(tas, "scale_factor", 1), offset = file.number(tas, "add_offset", 0);
  require(std::isfinite(scale) && scale != 0 && std::isfinite(offset),
          "NetCDF file '" + path + "': variable 'tas' has scale_factor " + std::to_string(scale) + " and add_offset " +
              std::to_string(offset) + "; climvae cannot unpack it");
  std::vector<float> values(count);
  throw_if_any_rank_failed(comm, nc_message(ncmpi_get_var_float_all(file.id(), tas, values.data()), path,
                                            "reading variable 'tas'"));
  for (float& v : values)
    v = v == fill || v == missing ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(v * scale + offset);
  return values;
}

}  // namespace

EnsembleCells read_ensemble_cells(const std::string& path, MPI_Comm comm) {
  const OpenFile file(path, comm);
  const int tas = file.varid("tas");
  const auto dims = file.dimensions_of(tas, "tas");
  std::vector<std::string> names;
  for (int dim : dims) names.push_back(file.dimension_name(dim));
  const bool grid = names == std::vector<std::string>{"time", "realization", "lat", "lon"};
  const bool cells = names == std::vector<std::string>{"time", "cell"};
  require(grid || cells, "NetCDF file '" + path +
                             "': variable 'tas' must have dimensions (time, realization, lat, lon) or (time, cell)");
  const std::string units = file.text(tas, "units");
  require(units == "K", "NetCDF file '" + path + "': variable 'tas' has units '" + units + "', expected 'K'");

  EnsembleCells result;
  EnsembleMeta& meta = result.meta;
  meta.layout = grid ? EnsembleLayout::grid : EnsembleLayout::cells;
  read_time_axis(file, dims[0], meta);
  meta.members = grid ? static_cast<int>(file.dimension_length(dims[1])) : 1;
  require(meta.members > 0, "NetCDF file '" + path + "': dimension 'realization' is empty");
  const size_t num_lats = static_cast<size_t>(file.dimension_length(dims[grid ? 2 : 1]));
  const size_t num_lons = grid ? static_cast<size_t>(file.dimension_length(dims[3])) : 1;
  require(num_lats > 0 && num_lons > 0, "NetCDF file '" + path + "': no cells");
  meta.lats = file.doubles(file.varid("lat"), "lat", num_lats);
  meta.lons = file.doubles(file.varid("lon"), "lon", grid ? num_lons : num_lats);
  for (size_t y = 0; y < num_lats; ++y)
    for (size_t x = 0; x < num_lons; ++x) {
      result.cell_lats.push_back(meta.lats[y]);
      result.cell_lons.push_back(meta.lons[grid ? x : y]);
    }
  meta.latitude = result.cell_lats[0];
  meta.longitude = result.cell_lons[0];
  result.member_numbers.resize(static_cast<size_t>(meta.members));
  int realization = -1;  // files of other tools may number no members: 1, 2, ... then
  if (ncmpi_inq_varid(file.id(), "realization", &realization) == NC_NOERR) {
    file.require_values(realization, "realization", result.member_numbers.size());
    throw_if_any_rank_failed(comm, nc_message(ncmpi_get_var_int_all(file.id(), realization, result.member_numbers.data()),
                                              path, "reading variable 'realization'"));
  } else
    for (int m = 0; m < meta.members; ++m) result.member_numbers[m] = m + 1;
  meta.member_number = result.member_numbers[0];
  read_run_attributes(file, path, meta);

  result.tas_k = read_tas(file, tas, size_t(meta.num_hours) * size_t(meta.members) * result.cells(), path, comm);
  return result;
}

Ensemble read_ensemble(const std::string& path, MPI_Comm comm) {
  const OpenFile file(path, comm);
  const int tas = file.varid("tas");
  const auto dims = file.dimensions_of(tas, "tas");
  const char* expected[4] = {"time", "realization", "lat", "lon"};
  bool layout_ok = dims.size() == 4;
  for (size_t d = 0; layout_ok && d < 4; ++d) layout_ok = file.dimension_name(dims[d]) == expected[d];
  require(layout_ok, "NetCDF file '" + path + "': variable 'tas' must have dimensions (time, realization, lat, lon)");
  require(file.dimension_length(dims[2]) == 1 && file.dimension_length(dims[3]) == 1,
          "NetCDF file '" + path + "': variable 'tas' must hold one grid cell (lat = lon = 1)");
  const std::string units = file.text(tas, "units");
  require(units == "K", "NetCDF file '" + path + "': variable 'tas' has units '" + units + "', expected 'K'");

  Ensemble ensemble;
  EnsembleMeta& meta = ensemble.meta;
  read_time_axis(file, dims[0], meta);
  meta.members = static_cast<int>(file.dimension_length(dims[1]));
  require(meta.members > 0, "NetCDF file '" + path + "': dimension 'realization' is empty");
  meta.latitude = file.doubles(file.varid("lat"), "lat", 1)[0];
  meta.longitude = file.doubles(file.varid("lon"), "lon", 1)[0];
  read_run_attributes(file, path, meta);

  ensemble.tas_k = read_tas(file, tas, size_t(meta.num_hours) * size_t(meta.members), path, comm);
  return ensemble;
}

}  // namespace climvae
