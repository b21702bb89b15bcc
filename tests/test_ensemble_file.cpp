// Ensemble files: CF layout, round trip over 1 and 2 ranks, atomic writes, clear errors, CDO.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <dirent.h>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "test_support.hpp"
#include "generate/ensemble_file.hpp"

using namespace climvae;
using namespace climvae::testing;

namespace {

struct SharedTemporaryDirectory : SharedDirectory {
  SharedTemporaryDirectory() : SharedDirectory("climvae-ensemble") {}
};

std::vector<std::string> entries_of(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(directory.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
  }
  return names;
}

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

Ensemble sample_ensemble(int64_t hours, int members) {
  Ensemble e;
  e.meta.latitude = 33.5;
  e.meta.longitude = -112.0;
  e.meta.start_hour = 455832;  // 2022-01-01T00:00
  e.meta.num_hours = hours;
  e.meta.members = members;
  e.meta.seed = 18446744073709551557ull;  // larger than any int64
  e.meta.reference_year = 2022;
  e.meta.target_year = 2050;
  e.meta.model_path = "phoenix.model";
  e.meta.scenario = "reference climate 2022 warmed to 2050";
  e.meta.history = "climvae generate --model phoenix.model --members 3";
  e.tas_k.resize(static_cast<size_t>(hours * members));
  for (int64_t t = 0; t < hours; ++t)
    for (int m = 0; m < members; ++m) e.tas_k[t * members + m] = 290.0f + 0.01f * t + m;
  return e;
}

std::string text_attribute(int ncid, int varid, const char* name) {
  MPI_Offset length = 0;
  if (ncmpi_inq_attlen(ncid, varid, name, &length) != NC_NOERR) return "<missing>";
  std::string value(static_cast<size_t>(length), '\0');
  ncmpi_get_att_text(ncid, varid, name, value.data());
  return value;
}

std::string command_output(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    status = -1;
    return output;
  }
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  status = pclose(pipe);
  return output;
}

bool on_path(const std::string& program) {
  int status = 0;
  command_output("command -v " + program, status);
  return status == 0;
}

}  // namespace

TEST(EnsembleFile, RoundTripsValuesAndMetadata) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string path = dir + "/out.nc";
  Ensemble written = sample_ensemble(100, 3);
  written.tas_k[7] = std::nanf("");  // missing value survives as _FillValue
  write_ensemble(path, written, false);
  const Ensemble read = read_ensemble(path);

  EXPECT_EQ(read.meta.start_hour, written.meta.start_hour);
  EXPECT_EQ(read.meta.num_hours, 100);
  EXPECT_EQ(read.meta.members, 3);
  EXPECT_EQ(read.meta.seed, written.meta.seed);
  EXPECT_EQ(read.meta.reference_year, 2022);
  EXPECT_EQ(read.meta.target_year, 2050);
  EXPECT_DOUBLE_EQ(read.meta.latitude, 33.5);
  EXPECT_DOUBLE_EQ(read.meta.longitude, -112.0);
  EXPECT_EQ(read.meta.model_path, written.meta.model_path);
  EXPECT_EQ(read.meta.scenario, written.meta.scenario);
  EXPECT_EQ(read.meta.history, written.meta.history);
  ASSERT_EQ(read.tas_k.size(), written.tas_k.size());
  EXPECT_TRUE(std::isnan(read.tas_k[7]));
  for (size_t i = 0; i < read.tas_k.size(); ++i)
    if (i != 7) EXPECT_EQ(read.tas_k[i], written.tas_k[i]) << "at " << i;
  EXPECT_EQ(entries_of(dir), std::vector<std::string>{"out.nc"});  // no temporary left behind
}

TEST(EnsembleFile, WritesTheCfAttributes) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string path = dir + "/cf.nc";
  write_ensemble(path, sample_ensemble(24, 2), false);

  int ncid = -1;
  ASSERT_EQ(ncmpi_open(MPI_COMM_WORLD, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid), NC_NOERR);
  int format = 0;
  ncmpi_inq_format(ncid, &format);
  EXPECT_EQ(format, NC_FORMAT_CDF5);
  EXPECT_EQ(text_attribute(ncid, NC_GLOBAL, "Conventions"), "CF-1.8");
  EXPECT_EQ(text_attribute(ncid, NC_GLOBAL, "source"), std::string("climvae ") + CLIMVAE_VERSION_STRING);
  EXPECT_EQ(text_attribute(ncid, NC_GLOBAL, "climvae_seed"), "18446744073709551557");
  EXPECT_EQ(text_attribute(ncid, NC_GLOBAL, "history"), "climvae generate --model phoenix.model --members 3");
  EXPECT_NE(text_attribute(ncid, NC_GLOBAL, "date_created"), "<missing>");
  int target_year = 0;
  EXPECT_EQ(ncmpi_get_att_int(ncid, NC_GLOBAL, "climvae_target_year", &target_year), NC_NOERR);
  EXPECT_EQ(target_year, 2050);

  int tas = -1, time = -1, height = -1;
  ASSERT_EQ(ncmpi_inq_varid(ncid, "tas", &tas), NC_NOERR);
  ASSERT_EQ(ncmpi_inq_varid(ncid, "time", &time), NC_NOERR);
  ASSERT_EQ(ncmpi_inq_varid(ncid, "height", &height), NC_NOERR);
  EXPECT_EQ(text_attribute(ncid, tas, "units"), "K");
  EXPECT_EQ(text_attribute(ncid, tas, "standard_name"), "air_temperature");
  EXPECT_EQ(text_attribute(ncid, tas, "coordinates"), "lat lon");
  EXPECT_EQ(text_attribute(ncid, NC_GLOBAL, "coordinates"), "height");
  EXPECT_EQ(text_attribute(ncid, tas, "cell_methods"), "time: point");
  float fill = 0;
  EXPECT_EQ(ncmpi_get_att_float(ncid, tas, "_FillValue", &fill), NC_NOERR);
  EXPECT_EQ(fill, 1e20f);
  EXPECT_EQ(text_attribute(ncid, time, "units"), "hours since 1970-01-01 00:00:00");
  EXPECT_EQ(text_attribute(ncid, time, "calendar"), "proleptic_gregorian");
  EXPECT_EQ(text_attribute(ncid, height, "standard_name"), "height");
  double two_metres = 0;
  EXPECT_EQ(ncmpi_get_var_double_all(ncid, height, &two_metres), NC_NOERR);
  EXPECT_EQ(two_metres, 2.0);
  int dimids[4] = {};
  ncmpi_inq_vardimid(ncid, tas, dimids);
  const char* expected[4] = {"time", "realization", "lat", "lon"};
  for (int d = 0; d < 4; ++d) {
    char name[NC_MAX_NAME + 1] = {};
    ncmpi_inq_dimname(ncid, dimids[d], name);
    EXPECT_STREQ(name, expected[d]);
  }
  ncmpi_close(ncid);
}

TEST(EnsembleFile, WriterAcceptsBlocksFromEveryRank) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string path = dir + "/blocks.nc";
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const Ensemble whole = sample_ensemble(48, 2 * size);
  {
    EnsembleWriter writer(path, whole.meta, false);
    // Each rank writes its own two members, in two time chunks.
    const int m0 = 2 * world_rank();
    for (int64_t t0 = 0; t0 < 48; t0 += 24) {
      std::vector<float> block;
      for (int64_t t = t0; t < t0 + 24; ++t)
        for (int m = m0; m < m0 + 2; ++m) block.push_back(whole.tas_k[t * whole.meta.members + m]);
      writer.write_block(t0, 24, m0, 2, block.data());
    }
    writer.commit();
  }
  EXPECT_EQ(read_ensemble(path).tas_k, whole.tas_k);
}

// Every cell of a grid file and of a one-member cells file: tas(t, m, cell) = 100 t + 10 m + cell,
// cells row by row (lat index, then lon index).
TEST(EnsembleFile, ReadsEveryCellOfGridAndCellsFiles) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const int64_t hours = 4;
  EnsembleMeta grid = sample_ensemble(hours, 2).meta;
  grid.lats = {52.6, 52.35};
  grid.lons = {13.1, 13.35, 13.6};
  EnsembleMeta cells = grid;
  cells.layout = EnsembleLayout::cells;
  cells.members = 1;
  cells.member_number = 4;
  cells.lons = {13.1, 13.35};
  for (const EnsembleMeta& meta : {grid, cells}) {
    const int64_t ny = meta.num_lats(), nx = meta.num_lons();
    std::vector<float> values;  // (time, member, y, x)
    for (int64_t t = 0; t < hours; ++t)
      for (int m = 0; m < meta.members; ++m)
        for (int64_t c = 0; c < ny * nx; ++c) values.push_back(static_cast<float>(100 * t + 10 * m + c));
    const std::string path = dir + (meta.layout == EnsembleLayout::grid ? "/grid.nc" : "/cells.nc");
    EnsembleWriter writer(path, meta, false);
    if (world_rank() == 0) writer.post(0, hours, 0, meta.members, 0, 0, values, ny, nx);
    writer.flush();
    writer.commit();

    const EnsembleCells read = read_ensemble_cells(path);
    ASSERT_EQ(read.cells(), static_cast<size_t>(ny * nx)) << path;
    EXPECT_EQ(read.meta.members, meta.members);
    EXPECT_EQ(read.meta.num_hours, hours);
    EXPECT_EQ(read.meta.start_hour, meta.start_hour);
    EXPECT_EQ(read.meta.seed, meta.seed);
    EXPECT_EQ(read.tas_k, values) << path;
    if (meta.layout == EnsembleLayout::grid) {
      EXPECT_EQ(read.member_numbers, (std::vector<int>{1, 2}));
      EXPECT_EQ(read.cell_lats, (std::vector<double>{52.6, 52.6, 52.6, 52.35, 52.35, 52.35}));
      EXPECT_EQ(read.cell_lons, (std::vector<double>{13.1, 13.35, 13.6, 13.1, 13.35, 13.6}));
    } else {
      EXPECT_EQ(read.member_numbers, (std::vector<int>{4}));
      EXPECT_EQ(read.cell_lats, (std::vector<double>{52.6, 52.35}));
      EXPECT_EQ(read.cell_lons, (std::vector<double>{13.1, 13.35}));
    }
  }
}

TEST(EnsembleFile, RefusesAnExistingOutputUnlessOverwriting) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string path = dir + "/exists.nc";
  write_ensemble(path, sample_ensemble(10, 1), false);
  try {
    write_ensemble(path, sample_ensemble(20, 1), false);
    ADD_FAILURE() << "an existing output was overwritten";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_ensemble(path).meta.num_hours, 10);
  write_ensemble(path, sample_ensemble(20, 1), true);
  EXPECT_EQ(read_ensemble(path).meta.num_hours, 20);
}

TEST(EnsembleFile, LeavesNoTemporaryFileAfterAFailure) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  // The final rename fails: the output path is a non-empty directory.
  const std::string blocked = dir + "/blocked.nc";
  if (world_rank() == 0) {
    mkdir(blocked.c_str(), 0755);
    std::ofstream(blocked + "/keep") << "x";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    write_ensemble(blocked, sample_ensemble(10, 2), true);
    ADD_FAILURE() << "moving onto a directory succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(blocked), std::string::npos) << e.what();
  }
  // A block outside the file, passed by the last rank only, fails on every rank (none hangs),
  // and a writer left uncommitted cleans up.
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::string outside = dir + "/outside.nc";
  {
    const Ensemble e = sample_ensemble(10, 2);
    EnsembleWriter writer(outside, e.meta, false);
    const bool last = world_rank() == size - 1;
    EXPECT_THROW(writer.write_block(last ? 5 : 0, last ? 10 : 0, 0, 2, e.tas_k.data()), Error);
  }
  const std::string abandoned = dir + "/abandoned.nc";
  {
    const Ensemble e = sample_ensemble(10, 2);
    EnsembleWriter writer(abandoned, e.meta, false);
  }
  // A missing directory fails at creation.
  EXPECT_THROW(write_ensemble(dir + "/no/such/dir.nc", sample_ensemble(10, 2), false), Error);
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_EQ(entries_of(dir), std::vector<std::string>{"blocked.nc"});
}

TEST(EnsembleFile, ReadErrorsNameTheFileAndTheVariable) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string text = dir + "/not-netcdf.nc";
  if (world_rank() == 0) std::ofstream(text) << "this is not a NetCDF file\n";
  MPI_Barrier(MPI_COMM_WORLD);
  try {
    read_ensemble(text);
    ADD_FAILURE() << "a text file was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }

  const std::string no_tas = dir + "/no-tas.nc";
  int ncid = -1, dim = -1, var = -1;
  ASSERT_EQ(ncmpi_create(MPI_COMM_WORLD, no_tas.c_str(), NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &ncid), NC_NOERR);
  ncmpi_def_dim(ncid, "time", 4, &dim);
  ncmpi_def_var(ncid, "pr", NC_FLOAT, 1, &dim, &var);
  ncmpi_enddef(ncid);
  ncmpi_close(ncid);
  try {
    read_ensemble(no_tas);
    ADD_FAILURE() << "a file without tas was read";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(no_tas), std::string::npos) << message;
    EXPECT_NE(message.find("'tas'"), std::string::npos) << message;
  }
}

TEST(EnsembleFile, NcdumpAndCdoAcceptTheFile) {
  const SharedTemporaryDirectory temporary;
  const std::string& dir = temporary;
  const std::string path = dir + "/tools.nc";
  write_ensemble(path, sample_ensemble(72, 3), false);
  if (world_rank() != 0) return;

  int status = 0;
  const std::string header = command_output("ncdump -h " + path, status);
  ASSERT_EQ(status, 0) << header;
  EXPECT_NE(header.find("float tas(time, realization, lat, lon)"), std::string::npos) << header;
  EXPECT_NE(header.find(":Conventions = \"CF-1.8\""), std::string::npos) << header;
  EXPECT_NE(header.find("tas:_FillValue = 1.e+20f"), std::string::npos) << header;

  if (!on_path("cdo")) {
    std::printf("[  SKIPPED ] cdo is not on PATH: the CDO check was skipped\n");
    return;
  }
  const std::string info = command_output("cdo -s sinfon " + path, status);
  ASSERT_EQ(status, 0) << info;
  EXPECT_NE(info.find("tas"), std::string::npos) << info;
  EXPECT_NE(info.find("time : 72 steps"), std::string::npos) << info;
  EXPECT_NE(info.find("levels=3"), std::string::npos) << info;  // members appear as levels
  EXPECT_NE(info.find("realization : 1 to 3"), std::string::npos) << info;
}
