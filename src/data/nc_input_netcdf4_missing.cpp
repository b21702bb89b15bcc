// Built instead of nc_input_netcdf4.cpp when netCDF-C was not found at configure time.
#include "common/error.hpp"
#include "data/nc_input.hpp"

namespace climvae {

std::unique_ptr<NcInput> open_netcdf4_input(const std::string& path) {
  throw Error(path + ": is netCDF-4/HDF5, and this climvae was built without netCDF-C; install libnetcdf-dev and "
                     "rebuild, or convert the file to classic/CDF-5 with 'nccopy -k cdf5 IN OUT'");
}

}  // namespace climvae
