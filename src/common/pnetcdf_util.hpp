// The one place PnetCDF status codes become messages, and define-mode helpers whose failures
// name the file and the item (dimension, variable or attribute).
#pragma once
#include <pnetcdf.h>

#include <string>
#include <vector>

namespace climvae {

// "" on success, otherwise "NetCDF file 'PATH': WHAT: <PnetCDF's reason>".
std::string nc_message(int status, const std::string& path, const std::string& what);
// Throws climvae::Error with nc_message when status is not NC_NOERR.
void check_nc(int status, const std::string& path, const std::string& what);

// Bytes an open classic/CDF-5 file must have for the data its header promises (the end of the
// variable that ends last, record variables included), to tell a truncated file from a whole one.
MPI_Offset nc_expected_file_size(int ncid, const std::string& path);

// Defines the header of a file in define mode (local calls: every rank defines the same).
class NcDefiner {
 public:
  NcDefiner(int ncid, std::string path) : ncid_(ncid), path_(std::move(path)) {}
  int dimension(const char* name, MPI_Offset length) const;
  int variable(const char* name, nc_type type, const std::vector<int>& dimids) const;
  // Attributes of a variable, or of the file with varid NC_GLOBAL.
  void text(int varid, const char* name, const std::string& value) const;
  void number(int varid, const char* name, double value) const;
  void integer(int varid, const char* name, int value) const;

 private:
  std::string attribute(int varid, const char* name) const;  // "attribute 'tas:units'"
  int ncid_;
  std::string path_;
};

}  // namespace climvae
