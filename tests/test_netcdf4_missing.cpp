// nc_input_netcdf4_missing.cpp (built in place of the netCDF-C reader when netCDF-C is not
// found): a netCDF-4 file gets one clear message naming the file and the way out.
#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "data/nc_input.hpp"

TEST(Netcdf4Missing, RefusesWithAClearMessage) {
  try {
    climvae::open_netcdf4_input("ERA5_2020.nc");
    FAIL() << "expected a climvae::Error";
  } catch (const climvae::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("ERA5_2020.nc: is netCDF-4/HDF5, and this climvae was built without netCDF-C"),
              std::string::npos) << message;
    EXPECT_NE(message.find("nccopy -k cdf5"), std::string::npos) << message;
  }
}
