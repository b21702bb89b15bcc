#include <netcdf.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "synthetic_era5.hpp"

namespace climvae::synthetic {

namespace {
void ok(int status, const std::string& what) {
  if (status != NC_NOERR) throw std::runtime_error("synthetic netCDF-4 file: " + what + ": " + nc_strerror(status));
}
}  // namespace

void write_netcdf4(const std::string& path, const Era5Spec& spec) {
  int ncid = -1, time_dim, lat_dim, lon_dim, number_var, time_var, lat_var, lon_var, t2m_var;
  ok(nc_create(path.c_str(), NC_CLOBBER | NC_NETCDF4, &ncid), "create");
  ok(nc_def_dim(ncid, "valid_time", spec.hours, &time_dim), "dim");
  ok(nc_def_dim(ncid, "latitude", spec.rows, &lat_dim), "dim");
  ok(nc_def_dim(ncid, "longitude", spec.cols, &lon_dim), "dim");
  ok(nc_def_var(ncid, "number", NC_INT64, 0, nullptr, &number_var), "var");
  ok(nc_def_var(ncid, "valid_time", NC_INT64, 1, &time_dim, &time_var), "var");
  ok(nc_def_var(ncid, "latitude", NC_DOUBLE, 1, &lat_dim, &lat_var), "var");
  ok(nc_def_var(ncid, "longitude", NC_DOUBLE, 1, &lon_dim, &lon_var), "var");
  const int dims[3] = {time_dim, lat_dim, lon_dim};
  ok(nc_def_var(ncid, "t2m", NC_FLOAT, 3, dims, &t2m_var), "var");
  // The new CDS chunks one time step of the whole field.
  const size_t chunks[3] = {1, static_cast<size_t>(spec.rows), static_cast<size_t>(spec.cols)};
  ok(nc_def_var_chunking(ncid, t2m_var, NC_CHUNKED, chunks), "chunking");
  auto text = [&](int var, const char* name, const std::string& value) {
    ok(nc_put_att_text(ncid, var, name, value.size(), value.c_str()), name);
  };
  text(time_var, "units", "seconds since 1970-01-01");
  text(time_var, "calendar", "proleptic_gregorian");
  text(lat_var, "units", "degrees_north");
  text(lat_var, "stored_direction", "decreasing");
  text(lon_var, "units", "degrees_east");
  const float fill = std::numeric_limits<float>::quiet_NaN();
  ok(nc_put_att_float(ncid, t2m_var, "_FillValue", NC_FLOAT, 1, &fill), "fill");
  text(t2m_var, "units", "K");
  text(t2m_var, "GRIB_shortName", "2t");
  text(t2m_var, "coordinates", "number valid_time latitude longitude expver");
  ok(nc_enddef(ncid), "enddef");
  const long long number = 0;
  ok(nc_put_var_longlong(ncid, number_var, &number), "number");
  std::vector<double> lat(spec.rows), lon(spec.cols);
  for (int r = 0; r < spec.rows; ++r) lat[r] = spec.north - r * spec.step;
  for (int c = 0; c < spec.cols; ++c) lon[c] = spec.west + c * spec.step;
  ok(nc_put_var_double(ncid, lat_var, lat.data()), "lat");
  ok(nc_put_var_double(ncid, lon_var, lon.data()), "lon");
  const int64_t cells = static_cast<int64_t>(spec.rows) * spec.cols;
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / cells);
  std::vector<float> values;
  std::vector<long long> seconds;
  for (int64_t t0 = 0; t0 < spec.hours; t0 += chunk) {
    const int64_t nt = std::min(chunk, spec.hours - t0);
    values.assign(static_cast<size_t>(nt * cells), fill);
    seconds.resize(static_cast<size_t>(nt));
    for (int64_t t = 0; t < nt; ++t) {
      seconds[t] = (spec.first_hour + t0 + t) * 3600;
      for (int64_t k = 0; k < cells; ++k)
        if (k != spec.missing_cell)
          values[t * cells + k] = static_cast<float>(t2m_k(spec, static_cast<int>(k), spec.first_hour + t0 + t));
    }
    const size_t start[3] = {static_cast<size_t>(t0), 0, 0};
    const size_t count[3] = {static_cast<size_t>(nt), static_cast<size_t>(spec.rows), static_cast<size_t>(spec.cols)};
    ok(nc_put_vara_longlong(ncid, time_var, start, count, seconds.data()), "time");
    ok(nc_put_vara_float(ncid, t2m_var, start, count, values.data()), "t2m");
  }
  ok(nc_close(ncid), "close");
}

}  // namespace climvae::synthetic
