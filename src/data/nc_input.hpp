// Read-only access to one NetCDF input file, whatever its format: classic and CDF-5 through
// PnetCDF (nc_input_pnetcdf.cpp), netCDF-4/HDF5 through netCDF-C (nc_input_netcdf4.cpp, or
// nc_input_netcdf4_missing.cpp when climvae is built without netCDF-C). Serial: each rank opens
// the files it reads on its own. Every failure is a climvae::Error naming the file.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace climvae {

enum class NcFormat { classic, cdf5, netcdf4, not_netcdf };

// From the file's first bytes; Error if it cannot be opened or is shorter than a header.
NcFormat nc_format_of(const std::string& path);

struct NcVariableInfo {
  std::string name;
  int type = 0;                          // NC_SHORT, NC_FLOAT, ... (same codes in both libraries)
  std::vector<std::string> dimensions;   // slowest first
  std::vector<int64_t> shape;
};

class NcInput {
 public:
  virtual ~NcInput() = default;
  const std::string& path() const { return path_; }
  virtual std::vector<NcVariableInfo> variables() const = 0;
  // An attribute of a variable ("" names the file's global attributes), if present and of
  // the asked kind (text, or a first number).
  virtual std::optional<std::string> text(const std::string& variable, const std::string& name) const = 0;
  virtual std::optional<double> number(const std::string& variable, const std::string& name) const = 0;
  // The stored numbers of a hyperslab as double, not unpacked (start/count per dimension).
  virtual void read(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                    double* values) const = 0;

  // The variable's description; Error naming the file if there is none of that name.
  NcVariableInfo variable(const std::string& name) const;
  std::optional<NcVariableInfo> find(const std::string& name) const;
  std::vector<double> read_all(const std::string& variable) const;

 protected:
  explicit NcInput(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
};

// Opens a classic, CDF-5 or netCDF-4 file; Error naming the file if it is none of these, is
// truncated, or is netCDF-4 and climvae was built without netCDF-C.
std::unique_ptr<NcInput> open_nc_input(const std::string& path);

// The backends (one source file each).
std::unique_ptr<NcInput> open_classic_input(const std::string& path);
std::unique_ptr<NcInput> open_netcdf4_input(const std::string& path);

}  // namespace climvae
