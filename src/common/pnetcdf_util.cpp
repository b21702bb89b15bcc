#include "common/pnetcdf_util.hpp"

#include <algorithm>

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

namespace {
MPI_Offset type_bytes(nc_type type) {
  switch (type) {
    case NC_BYTE: case NC_CHAR: case NC_UBYTE: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_INT: case NC_UINT: case NC_FLOAT: return 4;
    default: return 8;
  }
}
}  // namespace

MPI_Offset nc_expected_file_size(int ncid, const std::string& path) {
  int nvars = 0, unlimited = -1;
  MPI_Offset records = 0, record_bytes = 0, end = 0;
  check_nc(ncmpi_inq_nvars(ncid, &nvars), path, "counting variables");
  check_nc(ncmpi_inq_unlimdim(ncid, &unlimited), path, "record dimension");
  if (unlimited >= 0) check_nc(ncmpi_inq_dimlen(ncid, unlimited, &records), path, "record dimension");
  check_nc(ncmpi_inq_recsize(ncid, &record_bytes), path, "record size");
  check_nc(ncmpi_inq_header_size(ncid, &end), path, "header size");
  for (int v = 0; v < nvars; ++v) {
    nc_type type = NC_NAT;
    int ndims = 0;
    MPI_Offset begin = 0;
    check_nc(ncmpi_inq_vartype(ncid, v, &type), path, "variable types");
    check_nc(ncmpi_inq_varndims(ncid, v, &ndims), path, "variable shapes");
    std::vector<int> dimids(static_cast<size_t>(ndims));  // (PnetCDF's NC_MAX_VAR_DIMS is INT_MAX)
    check_nc(ncmpi_inq_vardimid(ncid, v, dimids.data()), path, "variable shapes");
    check_nc(ncmpi_inq_varoffset(ncid, v, &begin), path, "variable offsets");
    MPI_Offset bytes = type_bytes(type);
    bool is_record = false;
    for (int d : dimids) {
      if (d == unlimited) {
        is_record = true;
        continue;
      }
      MPI_Offset length = 0;
      check_nc(ncmpi_inq_dimlen(ncid, d, &length), path, "dimension lengths");
      bytes *= length;
    }
    if (is_record && records == 0) continue;
    end = std::max(end, begin + (is_record ? (records - 1) * record_bytes : 0) + bytes);
  }
  return end;
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
