#include <mpi.h>
#include <pnetcdf.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "synthetic_era5.hpp"

namespace climvae::synthetic {

namespace {
void ok(int status, const std::string& what) {
  if (status != NC_NOERR) throw std::runtime_error("synthetic classic file: " + what + ": " + ncmpi_strerror(status));
}
}  // namespace

void write_classic(const std::string& path, const Era5Spec& spec) {
  int ncid = -1, time_dim, lat_dim, lon_dim, time_var, lat_var, lon_var, t2m_var;
  ok(ncmpi_create(MPI_COMM_SELF, path.c_str(), NC_CLOBBER | NC_64BIT_OFFSET, MPI_INFO_NULL, &ncid), "create");
  ok(ncmpi_def_dim(ncid, "longitude", spec.cols, &lon_dim), "dim");
  ok(ncmpi_def_dim(ncid, "latitude", spec.rows, &lat_dim), "dim");
  ok(ncmpi_def_dim(ncid, "time", NC_UNLIMITED, &time_dim), "dim");
  ok(ncmpi_def_var(ncid, "longitude", NC_FLOAT, 1, &lon_dim, &lon_var), "var");
  ok(ncmpi_def_var(ncid, "latitude", NC_FLOAT, 1, &lat_dim, &lat_var), "var");
  ok(ncmpi_def_var(ncid, "time", NC_INT, 1, &time_dim, &time_var), "var");
  const int dims[3] = {time_dim, lat_dim, lon_dim};
  ok(ncmpi_def_var(ncid, "t2m", NC_SHORT, 3, dims, &t2m_var), "var");
  auto text = [&](int var, const char* name, const std::string& value) {
    ok(ncmpi_put_att_text(ncid, var, name, value.size(), value.c_str()), name);
  };
  text(lon_var, "units", "degrees_east");
  text(lat_var, "units", "degrees_north");
  text(time_var, "units", "hours since 1900-01-01 00:00:00.0");
  text(time_var, "calendar", "gregorian");
  const double scale = packing_step_k, offset = 285.0;
  const short fill = -32767;
  ok(ncmpi_put_att_double(ncid, t2m_var, "scale_factor", NC_DOUBLE, 1, &scale), "scale");
  ok(ncmpi_put_att_double(ncid, t2m_var, "add_offset", NC_DOUBLE, 1, &offset), "offset");
  ok(ncmpi_put_att_short(ncid, t2m_var, "_FillValue", NC_SHORT, 1, &fill), "fill");
  ok(ncmpi_put_att_short(ncid, t2m_var, "missing_value", NC_SHORT, 1, &fill), "missing");
  text(t2m_var, "units", "K");
  text(t2m_var, "long_name", "2 metre temperature");
  ok(ncmpi_enddef(ncid), "enddef");
  std::vector<float> lat(spec.rows), lon(spec.cols);
  for (int r = 0; r < spec.rows; ++r) lat[r] = static_cast<float>(spec.north - r * spec.step);
  for (int c = 0; c < spec.cols; ++c) lon[c] = static_cast<float>(spec.west + c * spec.step);
  ok(ncmpi_put_var_float_all(ncid, lat_var, lat.data()), "lat");
  ok(ncmpi_put_var_float_all(ncid, lon_var, lon.data()), "lon");
  const int64_t since_1900 = 613608;  // hours from 1900-01-01 to 1970-01-01
  const int64_t cells = static_cast<int64_t>(spec.rows) * spec.cols;
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / cells);
  std::vector<short> packed;
  std::vector<int> hours;
  for (int64_t t0 = 0; t0 < spec.hours; t0 += chunk) {
    const int64_t nt = std::min(chunk, spec.hours - t0);
    packed.assign(static_cast<size_t>(nt * cells), fill);
    hours.resize(static_cast<size_t>(nt));
    for (int64_t t = 0; t < nt; ++t) {
      hours[t] = static_cast<int>(since_1900 + spec.first_hour + t0 + t);
      for (int64_t k = 0; k < cells; ++k)
        if (k != spec.missing_cell)
          packed[t * cells + k] = static_cast<short>(std::lround((t2m_k(spec, static_cast<int>(k), spec.first_hour + t0 + t) - offset) / scale));
    }
    const MPI_Offset start[3] = {t0, 0, 0}, count[3] = {nt, spec.rows, spec.cols};
    ok(ncmpi_put_vara_int_all(ncid, time_var, start, count, hours.data()), "time");
    ok(ncmpi_put_vara_short_all(ncid, t2m_var, start, count, packed.data()), "t2m");
  }
  ok(ncmpi_close(ncid), "close");
}

}  // namespace climvae::synthetic
