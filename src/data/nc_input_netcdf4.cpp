// netCDF-4/HDF5 input through netCDF-C (PnetCDF cannot read HDF5).
#include <netcdf.h>

#include "common/error.hpp"
#include "data/nc_input.hpp"

namespace climvae {

namespace {

void check(int status, const std::string& path, const std::string& what) {
  if (status != NC_NOERR) throw Error("NetCDF file '" + path + "': " + what + ": " + nc_strerror(status));
}

class Netcdf4Input final : public NcInput {
 public:
  explicit Netcdf4Input(const std::string& path) : NcInput(path) {
    check(nc_open(path.c_str(), NC_NOWRITE, &ncid_), path, "opening (netCDF-4; truncated or damaged?)");
  }
  ~Netcdf4Input() override { nc_close(ncid_); }

  std::vector<NcVariableInfo> variables() const override {
    int nvars = 0;
    check(nc_inq_nvars(ncid_, &nvars), path(), "counting variables");
    std::vector<NcVariableInfo> infos;
    for (int v = 0; v < nvars; ++v) {
      char name[NC_MAX_NAME + 1] = {0};
      nc_type type = NC_NAT;
      int ndims = 0;
      int dimids[NC_MAX_VAR_DIMS];
      check(nc_inq_var(ncid_, v, name, &type, &ndims, dimids, nullptr), path(), "describing variables");
      NcVariableInfo info{name, type, {}, {}};
      for (int d = 0; d < ndims; ++d) {
        char dim_name[NC_MAX_NAME + 1] = {0};
        size_t length = 0;
        check(nc_inq_dim(ncid_, dimids[d], dim_name, &length), path(), "describing dimensions");
        info.dimensions.push_back(dim_name);
        info.shape.push_back(static_cast<int64_t>(length));
      }
      infos.push_back(std::move(info));
    }
    return infos;
  }

  std::optional<std::string> text(const std::string& variable, const std::string& name) const override {
    const int varid = id_of(variable);
    nc_type type = NC_NAT;
    size_t length = 0;
    if (nc_inq_att(ncid_, varid, name.c_str(), &type, &length) != NC_NOERR) return std::nullopt;
    if (type == NC_STRING && length == 1) {
      char* value = nullptr;
      check(nc_get_att_string(ncid_, varid, name.c_str(), &value), path(), "attribute '" + name + "'");
      std::string result = value ? value : "";
      nc_free_string(1, &value);
      return result;
    }
    if (type != NC_CHAR) return std::nullopt;
    std::string value(length, '\0');
    check(nc_get_att_text(ncid_, varid, name.c_str(), value.data()), path(), "attribute '" + name + "'");
    while (!value.empty() && value.back() == '\0') value.pop_back();
    return value;
  }

  std::optional<double> number(const std::string& variable, const std::string& name) const override {
    const int varid = id_of(variable);
    nc_type type = NC_NAT;
    size_t length = 0;
    if (nc_inq_att(ncid_, varid, name.c_str(), &type, &length) != NC_NOERR || type == NC_CHAR || type == NC_STRING ||
        length < 1)
      return std::nullopt;
    std::vector<double> values(length);
    check(nc_get_att_double(ncid_, varid, name.c_str(), values.data()), path(), "attribute '" + name + "'");
    return values[0];
  }

  void read(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
            double* values) const override {
    const std::vector<size_t> s(start.begin(), start.end()), c(count.begin(), count.end());
    check(nc_get_vara_double(ncid_, id_of(variable), s.data(), c.data(), values), path(),
          "reading variable '" + variable + "' (truncated or damaged file?)");
  }

 private:
  int id_of(const std::string& variable) const {
    if (variable.empty()) return NC_GLOBAL;
    int varid = -1;
    check(nc_inq_varid(ncid_, variable.c_str(), &varid), path(), "variable '" + variable + "'");
    return varid;
  }

  int ncid_ = -1;
};

}  // namespace

std::unique_ptr<NcInput> open_netcdf4_input(const std::string& path) { return std::make_unique<Netcdf4Input>(path); }

}  // namespace climvae
