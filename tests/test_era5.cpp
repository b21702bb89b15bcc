// ERA5 input (src/data/nc_input, era5, region): every real layout in tests/data/era5 read back
// as ncdump shows it (unpacked), regions of several files, cell selection, the Berlin grid
// store at 1 and 2 ranks, and a clear error for each kind of bad input.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "test_support.hpp"
#include "data/era5.hpp"
#include "data/region.hpp"
#include "data/store.hpp"
#include "synthetic_era5.hpp"

using namespace climvae;
using namespace climvae::testing;
namespace fs = std::filesystem;

namespace {

const std::string era5_dir = std::string(CLIMVAE_TEST_DATA) + "/era5";
const std::string cdl_dir = std::string(CLIMVAE_TEST_DATA) + "/era5-cdl";
const std::string berlin_grid = era5_dir + "/era5-cds-nc-feedinlib/ERA5_example_data.nc";
const std::string point_a = era5_dir + "/era5-cds-nc-feedinlib/era5_feedinlib_54-16_9-08_2019-01-01_2019-12-31.nc";
const std::string point_b = era5_dir + "/era5-cds-nc-feedinlib/era5_feedinlib_54-43_7-68_2019-01-01_2019-12-31.nc";
const std::string monthly = era5_dir + "/era5-cds-nc4-newformat-monthly/data_stream-oper_stepType-instant.nc";
const std::string lsj = era5_dir + "/era5-hourly-lsj-raven/tas_pr_LSJ_20140520-20180615.nc";

// Scratch directory shared by the ranks (rank 0's pid names it); files a single rank makes
// carry the rank in their name.
const fs::path& scratch() {
  static const fs::path dir = [] {
    long pid = static_cast<long>(::getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    const fs::path path = fs::temp_directory_path() / ("climvae_test_era5_" + std::to_string(pid));
    if (world_rank() == 0) fs::create_directories(path);
    MPI_Barrier(MPI_COMM_WORLD);
    return path;
  }();
  return dir;
}
std::string my_file(const std::string& name) { return (scratch() / (std::to_string(world_rank()) + "_" + name)).string(); }

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) fs::remove_all(scratch());
  }
};
const auto* const cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

std::string shell(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return output;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  ::pclose(pipe);
  return output;
}

// The data section of `ncdump -v VAR` (with `-t`: times as text), one token per value.
std::vector<std::string> ncdump_tokens(const std::string& path, const std::string& variable, bool times = false) {
  const std::string text = shell("ncdump " + std::string(times ? "-t " : "-p 9,17 ") + "-v " + variable + " '" + path + "'");
  const size_t data = text.find("\ndata:");
  const std::string head = "\n " + variable + " =";
  const size_t begin = text.find(head, data);
  if (data == std::string::npos || begin == std::string::npos) return {};
  const size_t end = text.find(';', begin);
  std::string body = text.substr(begin + head.size(), end - begin - head.size());
  for (char& c : body)
    if (c == ',' || c == '\n' || c == '"') c = c == '"' ? '"' : ' ';
  std::vector<std::string> tokens;
  if (times) {  // "2017-01-01 01" holds a blank: split on the quotes
    std::string token;
    bool inside = false;
    for (char c : body) {
      if (c == '"') {
        if (inside) tokens.push_back(token);
        token.clear();
        inside = !inside;
      } else if (inside) {
        token += c;
      }
    }
    return tokens;
  }
  std::istringstream in(body);
  for (std::string token; in >> token;) tokens.push_back(token);
  return tokens;
}

std::vector<double> ncdump_numbers(const std::string& path, const std::string& variable) {
  std::vector<double> values;
  for (const std::string& token : ncdump_tokens(path, variable))
    values.push_back(token == "_" || token.rfind("NaN", 0) == 0 ? std::nan("") : std::strtod(token.c_str(), nullptr));
  return values;
}

// A number attribute as `ncdump -h` prints it ("\t\tt2m:scale_factor = 0.0005 ;").
std::optional<double> ncdump_attribute(const std::string& path, const std::string& variable, const std::string& name) {
  const std::string header = shell("ncdump -h '" + path + "'");
  const size_t at = header.find("\t\t" + variable + ":" + name + " = ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(header.c_str() + at + variable.size() + name.size() + 6, nullptr);
}

// ncdump -t prints "2017-01-01" for midnight and "2017-01-01 01" otherwise.
int64_t ncdump_hour(std::string text) {
  if (text.size() == 13) text += ":00";
  if (text.size() > 10) text[10] = 'T';
  return parse_iso_hour(text);
}

// A build without netCDF-C reads classic/CDF-5 only; netCDF-4 input is refused (see
// test_netcdf4_missing), so the checks on netCDF-4 files apply where it is built in.
#ifdef CLIMVAE_SYNTHETIC_NETCDF4
constexpr bool netcdf4_built_in = true;
#else
constexpr bool netcdf4_built_in = false;
#endif

struct Layout {
  std::string file, variable, time, lat, lon;
  size_t steps, rows, cols;
};

}  // namespace

// ---- every real layout, as ncdump shows it ---------------------------------------------------

TEST(Era5Files, EveryLayoutReadsAsNcdumpShowsIt) {
  const std::vector<Layout> layouts = {
      {"era5-cds-nc-feedinlib/ERA5_example_data.nc", "t2m", "time", "latitude", "longitude", 8760, 2, 3},
      {"era5-cds-nc-feedinlib/era5_feedinlib_54-16_9-08_2019-01-01_2019-12-31.nc", "t2m", "time", "latitude",
       "longitude", 8760, 1, 1},
      {"era5-cds-nc-pvlib/era5_testfile.nc", "t2m", "time", "latitude", "longitude", 8784, 1, 1},
      {"era5-cds-nc4-newformat-monthly/data_stream-oper_stepType-instant.nc", "t2m", "valid_time", "latitude",
       "longitude", 132, 5, 5},
      {"era5-grid-140h-reskit/2m_temperature.nc", "t2m", "time", "latitude", "longitude", 140, 13, 11},
      {"era5-hourly-lsj-raven/tas_pr_20180101-20180108.nc", "tas", "time", "latitude", "longitude", 192, 1, 1},
      {"era5-hourly-lsj-raven/tas_pr_LSJ_20140520-20180615.nc", "tas", "time", "", "", 35737, 1, 1},
  };
  for (const Layout& expected : layouts) {
    SCOPED_TRACE(expected.file);
    const std::string path = era5_dir + "/" + expected.file;
    if (!netcdf4_built_in && nc_format_of(path) == NcFormat::netcdf4) {
      EXPECT_CONTAINS(error_message([&] { open_nc_input(path); }), "built without netCDF-C");
      continue;
    }
    const std::unique_ptr<NcInput> file = open_nc_input(path);
    const Era5File layout = describe_era5_file(*file);
    EXPECT_EQ(layout.variable, expected.variable);
    EXPECT_EQ(layout.unit, TemperatureUnit::kelvin);
    ASSERT_EQ(layout.hours.size(), expected.steps);
    ASSERT_EQ(layout.latitudes.size(), expected.rows);
    ASSERT_EQ(layout.longitudes.size(), expected.cols);

    const std::vector<std::string> times = ncdump_tokens(path, expected.time, true);
    ASSERT_EQ(times.size(), expected.steps);
    for (size_t i = 0; i < times.size(); i += 97) EXPECT_EQ(layout.hours[i], ncdump_hour(times[i])) << times[i];
    EXPECT_EQ(layout.hours.back(), ncdump_hour(times.back()));

    if (!expected.lat.empty()) {
      const std::vector<double> lat = ncdump_numbers(path, expected.lat), lon = ncdump_numbers(path, expected.lon);
      ASSERT_EQ(lat.size(), expected.rows);
      for (size_t r = 0; r < lat.size(); ++r) EXPECT_NEAR(layout.latitudes[r], lat[r], 1e-6);  // ncdump: 9 digits
      for (size_t c = 0; c < lon.size(); ++c)
        EXPECT_NEAR(layout.longitudes[c], lon[c] > 180 ? lon[c] - 360 : lon[c], 1e-6);
    } else {
      EXPECT_FALSE(layout.has_coordinates());
    }

    // Values: ncdump's stored numbers, unpacked by hand.
    const std::vector<double> raw = ncdump_numbers(path, expected.variable);
    ASSERT_EQ(raw.size(), expected.steps * expected.rows * expected.cols);
    const double scale = ncdump_attribute(path, expected.variable, "scale_factor").value_or(1.0);
    const double offset = ncdump_attribute(path, expected.variable, "add_offset").value_or(0.0);
    const std::vector<float> values = read_era5_block(*file, layout, 0, static_cast<int64_t>(expected.steps), 0,
                                                      static_cast<int>(expected.rows), 0, static_cast<int>(expected.cols));
    size_t mismatches = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
      const double want = raw[i] * scale + offset;
      if (std::isnan(raw[i]) ? !std::isnan(values[i]) : !(std::abs(values[i] - want) < 1e-4)) ++mismatches;
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_TRUE(std::isfinite(values.front()));
  }
}

TEST(Era5Files, VariableByStandardNameOrOption) {
  EXPECT_EQ(describe_era5_file(berlin_grid, "t2m").variable, "t2m");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(berlin_grid, "u10"); }),
                  berlin_grid + ": variable 'u10': unknown temperature unit 'm s**-1'");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(berlin_grid, "t3m"); }), "no variable 't3m' (given with --variable)");
  // Only standard_name air_temperature names it; degC, days since, scalar lat/lon 0..360.
  const std::string path = my_file("standard_name_degC.nc");
  ASSERT_EQ(std::system(("ncgen -o " + path + " " + cdl_dir + "/standard_name_degC.cdl").c_str()), 0);
  const std::unique_ptr<NcInput> file = open_nc_input(path);
  const Era5File layout = describe_era5_file(*file);
  EXPECT_EQ(layout.variable, "temperature");
  EXPECT_EQ(layout.unit, TemperatureUnit::celsius);
  EXPECT_EQ(layout.hours, (std::vector<int64_t>{parse_iso_hour("2000-01-01T12"), parse_iso_hour("2000-01-01T13")}));
  EXPECT_EQ(layout.latitudes, std::vector<double>{48.8});
  EXPECT_NEAR(layout.longitudes[0], 2.5, 1e-12);
  const std::vector<float> values = read_era5_block(*file, layout, 0, 2, 0, 1, 0, 1);
  EXPECT_FLOAT_EQ(values[0], 283.65f);
  EXPECT_FLOAT_EQ(values[1], 271.15f);
}

// ---- regions of several files ----------------------------------------------------------------

TEST(Era5Region, FilesInAnyOrderWithOverlapAndGap) {
  synthetic::Era5Spec a;
  a.first_hour = parse_iso_hour("2017-01-01");
  a.hours = 100;
  synthetic::Era5Spec b = a, c = a;
  b.first_hour = a.first_hour + 90;  // overlaps a by 10 hours, same values
  b.hours = 110;
  c.first_hour = a.first_hour + 250;  // a gap of 50 hours before it
  c.hours = 50;
  const std::string pa = my_file("a.nc"), pb = my_file("b.nc"), pc = my_file("c.nc");
  synthetic::write_classic(pa, a);
  synthetic::write_classic(pb, b);
#ifdef CLIMVAE_SYNTHETIC_NETCDF4
  synthetic::write_netcdf4(pc, c);  // formats may mix
#else
  synthetic::write_classic(pc, c);
#endif
  const Era5Region region = describe_era5_region({pc, pa, pb});
  EXPECT_EQ(region.files.front().path, pa);
  EXPECT_EQ(region.start_hour, a.first_hour);
  EXPECT_EQ(region.num_hours, 300);
  ASSERT_EQ(region.notes.size(), 2u);
  EXPECT_CONTAINS(region.notes[0], "overlap: " + pb + " repeats 10 hour(s)");
  EXPECT_CONTAINS(region.notes[1], "gap: no data from 2017-01-09T08:00 to 2017-01-11T09:00");
  ASSERT_EQ(region.latitudes.size(), 2u);
  EXPECT_NEAR(region.latitudes[1], 52.25, 1e-6);  // north to south, as stored

  const std::vector<GridCell> cells = {{0, 0}, {1, 2}};
  const std::vector<float> series = read_era5_cells(region, cells, region.start_hour, region.num_hours);
  ASSERT_EQ(series.size(), 600u);
  for (int k = 0; k < 2; ++k)
    for (int64_t i = 0; i < 300; ++i) {
      const float value = series[k * 300 + i];
      const int cell = cells[k].row * 3 + cells[k].col;
      if (i >= 200 && i < 250) EXPECT_TRUE(std::isnan(value)) << i;
      else EXPECT_NEAR(value, synthetic::t2m_k(a, cell, a.first_hour + i), synthetic::packing_step_k) << i;
    }
  // A part of the period only.
  const std::vector<float> part = read_era5_cells(region, {{1, 1}}, a.first_hour + 95, 10);
  EXPECT_NEAR(part[9], synthetic::t2m_k(a, 4, a.first_hour + 104), synthetic::packing_step_k);

  // A value missing in one overlapping file is taken from the other.
  synthetic::Era5Spec holes = b;
  holes.missing_cell = 0;
  synthetic::write_classic(pb, holes);
  const std::vector<float> merged = read_era5_cells(describe_era5_region({pb, pa}), {{0, 0}}, a.first_hour, 200);
  EXPECT_NEAR(merged[95], synthetic::t2m_k(a, 0, a.first_hour + 95), synthetic::packing_step_k);
  EXPECT_TRUE(std::isnan(merged[150]));

  synthetic::Era5Spec differs = b;
  differs.bias_k = 1;
  synthetic::write_classic(pb, differs);
  EXPECT_CONTAINS(error_message([&] { read_era5_cells(describe_era5_region({pa, pb}), cells, a.first_hour, 200); }),
                  pb + ": at 2017-01-04T18:00 its value differs from that of an earlier file");
}

TEST(Era5Region, SelectsCellsByAreaListStrideAndLand) {
  const Era5Region region = describe_era5_region({berlin_grid});
  const std::string mask = my_file("lsm.nc");
  ASSERT_EQ(std::system(("ncgen -o " + mask + " " + cdl_dir + "/lsm_berlin.cdl").c_str()), 0);
  auto picked = [&](const RegionOptions& options) {
    std::string text;
    for (const GridCell& cell : select_grid_cells(region, options).cells)
      text += std::to_string(cell.row) + std::to_string(cell.col) + " ";
    return text;
  };
  RegionOptions options;
  EXPECT_EQ(picked(options), "00 01 02 10 11 12 ");
  options.stride = 2;
  EXPECT_EQ(picked(options), "00 02 ");
  options.stride = 1;
  options.area = parse_area("52.5/13.2/52.3/13.7");
  EXPECT_EQ(picked(options), "11 12 ");
  options.area.reset();
  options.cells = {parse_lat_lon("52.36,13.62"), parse_lat_lon("52.6,13.1")};
  EXPECT_EQ(picked(options), "00 12 ");
  options.cells.clear();
  options.land_only = true;
  EXPECT_CONTAINS(error_message([&] { select_grid_cells(region, options); }), "--land-only needs a land-sea mask");
  options.land_mask = mask;
  EXPECT_EQ(picked(options), "00 01 02 10 12 ");
  EXPECT_EQ(select_grid_cells(region, options).land, std::vector<int>(5, 1));
  options.area = parse_area("10/0/0/10");
  EXPECT_CONTAINS(error_message([&] { select_grid_cells(region, options); }), "no grid cell");
  EXPECT_CONTAINS(error_message([] { parse_area("52/13/53"); }), "NORTH/WEST/SOUTH/EAST");
  EXPECT_CONTAINS(error_message([] { parse_lat_lon("52.6;13.1"); }), "LAT,LON");
  RegionOptions far;
  far.cells = {parse_lat_lon("40,13.1")};
  EXPECT_CONTAINS(error_message([&] { select_grid_cells(region, far); }), "outside the grid");
}

// ---- the Berlin 2 x 3 grid as a store, written and read by every rank -------------------------

TEST(Era5Store, BerlinGridHoldsSixCellsWithTheirSeries) {
  const std::string mask = (scratch() / "lsm_berlin.nc").string();
  if (world_rank() == 0) ASSERT_EQ(std::system(("ncgen -o " + mask + " " + cdl_dir + "/lsm_berlin.cdl").c_str()), 0);
  MPI_Barrier(MPI_COMM_WORLD);
  RegionOptions options;
  options.inputs = {berlin_grid};
  options.land_mask = mask;
  options.preprocess.trend_k_per_year = 0.0;  // one year: no trend to estimate
  const Store share = prepare_region(options, MPI_COMM_WORLD);
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const CellRange mine = cell_share(6, world_rank(), ranks);
  EXPECT_EQ(share.first_cell, mine.first);
  EXPECT_EQ(static_cast<int>(share.cells.size()), mine.count);
  const std::string path = (scratch() / "berlin_store.nc").string();
  write_store_share(share, path, true, MPI_COMM_WORLD);

  const std::vector<double> raw = ncdump_numbers(berlin_grid, "t2m");
  const double scale = *ncdump_attribute(berlin_grid, "t2m", "scale_factor");
  const double offset = *ncdump_attribute(berlin_grid, "t2m", "add_offset");
  const double lat[2] = {52.6, 52.35}, lon[3] = {13.1, 13.35, 13.6};
  for (StoreCells which : {StoreCells::all, StoreCells::my_share}) {
    const Store store = read_store(path, MPI_COMM_WORLD, which);
    EXPECT_EQ(store.total_cells, 6);
    EXPECT_EQ(store.num_hours, 8760);
    EXPECT_EQ(store.start_hour, parse_iso_hour("2017-01-01"));
    EXPECT_EQ(store.reference_year, 2017);
    EXPECT_EQ(store.source, berlin_grid);
    ASSERT_EQ(static_cast<int>(store.cells.size()), which == StoreCells::all ? 6 : mine.count);
    for (size_t k = 0; k < store.cells.size(); ++k) {
      const int cell = store.first_cell + static_cast<int>(k);
      const CellSeries& series = store.cells[k];
      EXPECT_NEAR(series.latitude, lat[cell / 3], 1e-5);
      EXPECT_NEAR(series.longitude, lon[cell % 3], 1e-5);
      EXPECT_EQ(series.utc_offset_hours, 1);
      EXPECT_EQ(series.land, cell == 4 ? 0 : 1);
      EXPECT_EQ(series.trend_k_per_year, 0.0);
      EXPECT_NEAR(series.offset_k, 283.3, 0.5);
      for (int64_t i = 0; i < 8760; ++i)
        ASSERT_NEAR(series.tas_k[i], raw[i * 6 + cell] * scale + offset, 1e-4) << "cell " << cell << " hour " << i;
    }
  }
}

TEST(Era5Store, OldStoresWithoutLandFlagStillRead) {
  const std::string path = (scratch() / "old_store.nc").string();
  Store store;
  store.start_hour = 0;
  store.num_hours = 2;
  store.cells.resize(1);
  store.cells[0].tas_k = {280, 281};
  store.cells[0].offset_k = 280.5;  // statistics a climate can have (write_store refuses others)
  store.reference_year = 1970;
  write_store(store, path, true, MPI_COMM_WORLD);
  if (world_rank() == 0)  // a store as written before the land flag existed
    ASSERT_EQ(std::system(("ncdump " + path + " | grep -v land | ncgen -k cdf5 -o " + path + ".old && mv " + path +
                           ".old " + path).c_str()), 0);
  MPI_Barrier(MPI_COMM_WORLD);
  const Store read = read_store(path);
  ASSERT_EQ(read.cells.size(), 1u);
  EXPECT_EQ(read.cells[0].land, -1);
  EXPECT_EQ(read.cells[0].tas_k[1], 281.0f);
}

// ---- bad input: one clear error each ---------------------------------------------------------

TEST(Era5BadInput, EachNamesTheFileAndProblem) {
  auto made = [](const std::string& name) {
    const std::string path = my_file(name + ".nc");
    EXPECT_EQ(std::system(("ncgen -o " + path + " " + cdl_dir + "/" + name + ".cdl").c_str()), 0);
    return path;
  };
  const std::string no_temperature = made("no_temperature");
  std::string message = error_message([&] { describe_era5_file(no_temperature); });
  EXPECT_CONTAINS(message, no_temperature + ": no 2 m temperature variable");
  EXPECT_CONTAINS(message, "the file has longitude, latitude, time, u10");

  const std::string three_hourly = made("three_hourly");
  EXPECT_CONTAINS(error_message([&] { describe_era5_region({three_hourly}); }),
                  three_hourly + ": the time axis is not hourly: steps of 3 hours");
  if (netcdf4_built_in) {  // monthly means are read (see above) but refused for a store
    EXPECT_EQ(describe_era5_file(monthly).hours.size(), 132u);
    message = error_message([&] { describe_era5_region({monthly}); });
    EXPECT_CONTAINS(message, monthly + ": the time axis is not hourly");
    EXPECT_CONTAINS(message, "monthly means?");
  }

  message = error_message([&] { describe_era5_region({point_a, point_b}); });
  EXPECT_CONTAINS(message, point_b + ": its grid (1 latitudes 54.5..54.5 x 1 longitudes 7.75..7.75) differs from "
                           "that of " + point_a);

  const std::string not_netcdf = std::string(CLIMVAE_TEST_DATA) + "/bad/not_netcdf.nc";
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(not_netcdf); }), not_netcdf + ": not a NetCDF file");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(my_file("absent.nc")); }), "absent.nc: cannot open");

  const std::string cut_classic = my_file("cut_classic.nc"), cut_netcdf4 = my_file("cut_netcdf4.nc");
  ASSERT_EQ(std::system(("head -c 300000 " + berlin_grid + " > " + cut_classic).c_str()), 0);
  ASSERT_EQ(std::system(("head -c 200000 " + lsj + " > " + cut_netcdf4).c_str()), 0);
  message = error_message([&] { describe_era5_file(cut_classic); });
  EXPECT_CONTAINS(message, cut_classic + ": the file is truncated (300000 bytes, its header needs 984336)");
  if (!netcdf4_built_in) return;
  message = error_message([&] {
    const std::unique_ptr<NcInput> file = open_nc_input(cut_netcdf4);
    const Era5File layout = describe_era5_file(*file);
    read_era5_block(*file, layout, 0, static_cast<int64_t>(layout.hours.size()), 0, 1, 0, 1);
  });
  EXPECT_CONTAINS(message, cut_netcdf4);
  EXPECT_CONTAINS(message, "truncated or damaged");
}

TEST(Era5BadInput, AllMissingCellAndMissingCoordinatesAreRefusedOnEveryRank) {
  const std::string all_missing = (scratch() / "all_missing_cell.nc").string();
  if (world_rank() == 0)
    ASSERT_EQ(std::system(("ncgen -o " + all_missing + " " + cdl_dir + "/all_missing_cell.cdl").c_str()), 0);
  MPI_Barrier(MPI_COMM_WORLD);
  RegionOptions options;
  options.inputs = {all_missing};
  options.preprocess.trend_k_per_year = 0.0;
  EXPECT_CONTAINS(error_message([&] { prepare_region(options, MPI_COMM_WORLD); }),
                  all_missing + ": cell 1 (52.6000N 13.3500E) has no values in 2017-01-01T00:00 .. 2017-01-01T02:00");
  options.inputs = {lsj};
  EXPECT_CONTAINS(error_message([&] { prepare_region(options, MPI_COMM_WORLD); }),
                  lsj + (netcdf4_built_in ? ": the file gives no latitude/longitude; give --lat and --lon"
                                          : ": is netCDF-4/HDF5, and this climvae was built without netCDF-C"));
}

// ---- attributes and values read as they say, or refused naming them ----------------------------

namespace {

// A one-cell, three-hour file from CDL with the given time units, t2m declaration and values.
std::string one_cell_file(const std::string& name, const std::string& time_units, const std::string& t2m,
                          const std::string& values) {
  const std::string cdl = my_file(name + ".cdl"), path = my_file(name + ".nc");
  std::ofstream(cdl) << "netcdf x {\ndimensions: time = 3 ; latitude = 1 ; longitude = 1 ;\nvariables:\n"
                     << "  int time(time) ; time:units = \"" << time_units << "\" ;\n"
                     << "  float latitude(latitude) ; latitude:units = \"degrees_north\" ;\n"
                     << "  float longitude(longitude) ; longitude:units = \"degrees_east\" ;\n  " << t2m << "\n"
                     << "data:\n  time = 0, 1, 2 ; latitude = 48.5 ; longitude = 2.25 ;\n  t2m = " << values << " ;\n}\n";
  EXPECT_EQ(std::system(("ncgen -o " + path + " " + cdl).c_str()), 0);
  return path;
}

std::vector<float> all_values(const std::string& path) {
  const std::unique_ptr<NcInput> file = open_nc_input(path);
  const Era5File layout = describe_era5_file(*file);
  return read_era5_block(*file, layout, 0, static_cast<int64_t>(layout.hours.size()), 0, 1, 0, 1);
}

}  // namespace

TEST(Era5BadInput, TimeZonesPackingTypesAndImpossibleValues) {
  const std::string kelvin = "double t2m(time, latitude, longitude) ; t2m:units = \"K\" ;";
  // A UTC offset in the time units moves the axis: 00:00 at +05:00 is 19:00 UTC the day before.
  const std::string plus5 = one_cell_file("plus5", "hours since 1900-01-01 00:00:00 +05:00", kelvin, "280, 281, 282");
  EXPECT_EQ(describe_era5_file(plus5).hours.front(), parse_iso_hour("1899-12-31T19:00"));
  const std::string zulu = one_cell_file("zulu", "hours since 2000-01-01T06:00:00Z", kelvin, "280, 281, 282");
  EXPECT_EQ(describe_era5_file(zulu).hours.front(), parse_iso_hour("2000-01-01T06:00"));
  const std::string half = one_cell_file("half", "hours since 2000-01-01 00:00 +05:30", kelvin, "280, 281, 282");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(half); }), "not a whole number of hours from UTC");
  const std::string garbled = one_cell_file("garbled", "hours since 2000-01-01 00:00 tomorrow", kelvin, "280, 281, 282");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(garbled); }), "cannot read its time zone 'tomorrow'");

  // A packing attribute stored as text is refused, not ignored.
  const std::string text_scale = one_cell_file(
      "text_scale", "hours since 2000-01-01",
      "short t2m(time, latitude, longitude) ; t2m:units = \"K\" ; t2m:scale_factor = \"0.01\" ; t2m:add_offset = 250. ;",
      "3000, 3001, 3002");
  EXPECT_CONTAINS(error_message([&] { describe_era5_file(text_scale); }),
                  text_scale + ": attribute 't2m:scale_factor' is text, not a number");

  // Values no air has: named with their element and value, never "the series is constant".
  const std::string infinite = one_cell_file("infinite", "hours since 2000-01-01", kelvin, "280, Infinity, 282");
  std::string message = error_message([&] { all_values(infinite); });
  EXPECT_CONTAINS(message, infinite + ": t2m[1,0,0]: temperature inf K");
  EXPECT_CONTAINS(message, "outside 170..340 K");
  const std::string typo = one_cell_file("typo", "hours since 2000-01-01",
                                         "double t2m(time, latitude, longitude) ; t2m:units = \"degC\" ;", "10, 11, 99999");
  EXPECT_CONTAINS(error_message([&] { all_values(typo); }), typo + ": t2m[2,0,0]: temperature 99999 degC (100272.15 K)");
  EXPECT_EQ(all_values(plus5), (std::vector<float>{280, 281, 282}));
}

TEST(Era5BadInput, UnsignedShortsMarkedUnsignedReadAsUnsigned) {
  // xarray writes uint16 to classic files as short with _Unsigned = "true": 290 K packed as 40000
  // is stored as -25536 and was read as 224.464 K; the fill -1 is 65535.
  const std::string path = one_cell_file(
      "unsigned", "hours since 2000-01-01",
      "short t2m(time, latitude, longitude) ; t2m:units = \"K\" ; t2m:_Unsigned = \"true\" ; t2m:scale_factor = 0.001 ;"
      " t2m:add_offset = 250. ; t2m:_FillValue = -1s ;",
      "30000, -25536, -1");
  const std::vector<float> values = all_values(path);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_NEAR(values[0], 280.0f, 1e-3);
  EXPECT_NEAR(values[1], 290.0f, 1e-3);
  EXPECT_TRUE(std::isnan(values[2]));
}

TEST(Era5Region, PackedLandMaskFillIsUnknownNotSea) {
  // ERA5's packed lsm keeps -32767 for missing (0 packs to -32766); a masked cell unpacked to a
  // fraction near 0 and was flagged sea (0) instead of unknown (-1).
  const Era5Region region = describe_era5_region({berlin_grid});
  const std::string cdl = my_file("lsm_fill.cdl"), mask = my_file("lsm_fill.nc");
  std::ofstream(cdl) << "netcdf m {\ndimensions: longitude = 3 ; latitude = 2 ; time = 1 ;\nvariables:\n"
                     << "  float longitude(longitude) ; float latitude(latitude) ; int time(time) ;\n"
                     << "  short lsm(time, latitude, longitude) ; lsm:scale_factor = 1.52597e-05 ; lsm:add_offset = 0.5 ;"
                     << " lsm:_FillValue = -32767s ; lsm:missing_value = -32767s ;\n"
                     << "data:\n  longitude = 13.1, 13.35, 13.6 ; latitude = 52.6, 52.35 ; time = 0 ;\n"
                     << "  lsm = 32766, -32767, -32766, 32766, 32766, -32766 ;\n}\n";
  ASSERT_EQ(std::system(("ncgen -o " + mask + " " + cdl).c_str()), 0);
  RegionOptions options;
  options.land_mask = mask;
  EXPECT_EQ(select_grid_cells(region, options).land, (std::vector<int>{1, -1, 0, 1, 1, 0}));
}
