#include "data/nc_input.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/error.hpp"

namespace climvae {

NcFormat nc_format_of(const std::string& path) {
  struct stat info {};
  require(::stat(path.c_str(), &info) == 0, path + ": cannot open: " + std::strerror(errno));
  require(S_ISREG(info.st_mode), path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "\x89HDF", 4) == 0) return NcFormat::netcdf4;
  if (in.gcount() == 4 && std::memcmp(magic, "CDF", 3) == 0) {
    if (magic[3] == 1 || magic[3] == 2) return NcFormat::classic;
    if (magic[3] == 5) return NcFormat::cdf5;
  }
  return NcFormat::not_netcdf;
}

std::unique_ptr<NcInput> open_nc_input(const std::string& path) {
  switch (nc_format_of(path)) {
    case NcFormat::classic:
    case NcFormat::cdf5: return open_classic_input(path);
    case NcFormat::netcdf4: return open_netcdf4_input(path);
    case NcFormat::not_netcdf: break;
  }
  throw Error(path + ": not a NetCDF file (neither CDF nor HDF5 magic number at its start)");
}

std::optional<NcVariableInfo> NcInput::find(const std::string& name) const {
  for (NcVariableInfo& info : variables())
    if (info.name == name) return info;
  return std::nullopt;
}

NcVariableInfo NcInput::variable(const std::string& name) const {
  std::optional<NcVariableInfo> info = find(name);
  require(info.has_value(), path() + ": no variable '" + name + "'");
  return *info;
}

std::vector<double> NcInput::read_all(const std::string& name) const {
  const NcVariableInfo info = variable(name);
  size_t total = 1;
  for (int64_t n : info.shape) total *= static_cast<size_t>(n);
  std::vector<double> values(total);
  read(name, std::vector<int64_t>(info.shape.size(), 0), info.shape, values.data());
  return values;
}

}  // namespace climvae
