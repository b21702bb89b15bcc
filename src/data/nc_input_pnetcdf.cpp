// Classic (CDF-1/2) and CDF-5 input through PnetCDF, opened on MPI_COMM_SELF.
#include <pnetcdf.h>
#include <sys/stat.h>

#include "common/error.hpp"
#include "data/cdf_header.hpp"
#include "common/pnetcdf_util.hpp"
#include "data/nc_input.hpp"

namespace climvae {

namespace {

class ClassicInput final : public NcInput {
 public:
  explicit ClassicInput(const std::string& path) : NcInput(path) {
    check_cdf_header(path);
    check_nc(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid_), path, "opening");
    try {
      check_not_truncated();
    } catch (...) {
      ncmpi_close(ncid_);
      throw;
    }
  }
  ~ClassicInput() override { ncmpi_close(ncid_); }

  std::vector<NcVariableInfo> variables() const override {
    int nvars = 0;
    check_nc(ncmpi_inq_nvars(ncid_, &nvars), path(), "counting variables");
    std::vector<NcVariableInfo> infos;
    for (int v = 0; v < nvars; ++v) {
      char name[NC_MAX_NAME + 1] = {0};
      nc_type type = NC_NAT;
      int ndims = 0;
      const std::vector<int> dimids = shape_of(v, name, &type, &ndims);
      NcVariableInfo info{name, type, {}, {}};
      for (int d = 0; d < ndims; ++d) {
        char dim_name[NC_MAX_NAME + 1] = {0};
        MPI_Offset length = 0;
        check_nc(ncmpi_inq_dim(ncid_, dimids[d], dim_name, &length), path(), "describing dimensions");
        info.dimensions.push_back(dim_name);
        info.shape.push_back(length);
      }
      infos.push_back(std::move(info));
    }
    return infos;
  }

  std::optional<std::string> text(const std::string& variable, const std::string& name) const override {
    const int varid = id_of(variable);
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    if (ncmpi_inq_att(ncid_, varid, name.c_str(), &type, &length) != NC_NOERR || type != NC_CHAR) return std::nullopt;
    std::string value(static_cast<size_t>(length), '\0');
    check_nc(ncmpi_get_att_text(ncid_, varid, name.c_str(), value.data()), path(), "attribute '" + name + "'");
    while (!value.empty() && value.back() == '\0') value.pop_back();
    return value;
  }

  std::optional<double> number(const std::string& variable, const std::string& name) const override {
    const int varid = id_of(variable);
    nc_type type = NC_NAT;
    MPI_Offset length = 0;
    if (ncmpi_inq_att(ncid_, varid, name.c_str(), &type, &length) != NC_NOERR || type == NC_CHAR || length < 1)
      return std::nullopt;
    std::vector<double> values(static_cast<size_t>(length));
    check_nc(ncmpi_get_att_double(ncid_, varid, name.c_str(), values.data()), path(), "attribute '" + name + "'");
    return values[0];
  }

  void read(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
            double* values) const override {
    const std::vector<MPI_Offset> s(start.begin(), start.end()), c(count.begin(), count.end());
    check_nc(ncmpi_get_vara_double_all(ncid_, id_of(variable), s.data(), c.data(), values), path(),
             "reading variable '" + variable + "'");
  }

 private:
  // Name, type and dimension ids of variable v (PnetCDF's NC_MAX_VAR_DIMS is INT_MAX: no arrays of it).
  std::vector<int> shape_of(int v, char* name, nc_type* type, int* ndims) const {
    check_nc(ncmpi_inq_varndims(ncid_, v, ndims), path(), "describing variables");
    std::vector<int> dimids(static_cast<size_t>(*ndims));
    check_nc(ncmpi_inq_varname(ncid_, v, name), path(), "describing variables");
    check_nc(ncmpi_inq_vartype(ncid_, v, type), path(), "describing variables");
    check_nc(ncmpi_inq_vardimid(ncid_, v, dimids.data()), path(), "describing variables");
    return dimids;
  }

  int id_of(const std::string& variable) const {
    if (variable.empty()) return NC_GLOBAL;
    int varid = -1;
    check_nc(ncmpi_inq_varid(ncid_, variable.c_str(), &varid), path(), "variable '" + variable + "'");
    return varid;
  }

  // PnetCDF reads past the end of a cut-off file as zeros: compare the size the header promises.
  void check_not_truncated() const {
    struct stat info {};
    require(::stat(path().c_str(), &info) == 0, path() + ": cannot stat");
    const MPI_Offset expected = nc_expected_file_size(ncid_, path());
    require(static_cast<MPI_Offset>(info.st_size) >= expected,
            path() + ": the file is truncated (" + std::to_string(info.st_size) + " bytes, its header needs " +
                std::to_string(static_cast<long long>(expected)) + ")");
  }

  int ncid_ = -1;
};

}  // namespace

std::unique_ptr<NcInput> open_classic_input(const std::string& path) { return std::make_unique<ClassicInput>(path); }

}  // namespace climvae
