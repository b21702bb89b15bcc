#include "common/pnetcdf_util.hpp"

#include "common/error.hpp"

namespace climvae {

std::string nc_message(int status, const std::string& path, const std::string& what) {
  if (status == NC_NOERR) return "";
  return "NetCDF file '" + path + "': " + what + ": " + ncmpi_strerror(status);
}

void check_nc(int status, const std::string& path, const std::string& what) {
  const std::string message = nc_message(status, path, what);
  if (!message.empty()) throw Error(message);
}

int NcDefiner::dimension(const char* name, MPI_Offset length) const {
  int dimid = -1;
  check_nc(ncmpi_def_dim(ncid_, name, length, &dimid), path_, std::string("dimension '") + name + "'");
  return dimid;
}

int NcDefiner::variable(const char* name, nc_type type, const std::vector<int>& dimids) const {
  int varid = -1;
  check_nc(ncmpi_def_var(ncid_, name, type, static_cast<int>(dimids.size()), dimids.data(), &varid), path_,
           std::string("variable '") + name + "'");
  return varid;
}

std::string NcDefiner::attribute(int varid, const char* name) const {
  char variable[NC_MAX_NAME + 1] = "global";
  if (varid != NC_GLOBAL) ncmpi_inq_varname(ncid_, varid, variable);
  return std::string("attribute '") + variable + ":" + name + "'";
}

void NcDefiner::text(int varid, const char* name, const std::string& value) const {
  check_nc(ncmpi_put_att_text(ncid_, varid, name, static_cast<MPI_Offset>(value.size()), value.c_str()), path_,
           attribute(varid, name));
}

void NcDefiner::number(int varid, const char* name, double value) const {
  check_nc(ncmpi_put_att_double(ncid_, varid, name, NC_DOUBLE, 1, &value), path_, attribute(varid, name));
}

void NcDefiner::integer(int varid, const char* name, int value) const {
  check_nc(ncmpi_put_att_int(ncid_, varid, name, NC_INT, 1, &value), path_, attribute(varid, name));
}

}  // namespace climvae
