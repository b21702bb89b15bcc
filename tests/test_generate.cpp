// Ensembles at scale (run at 1 and 2 ranks): time chunks bit-identical to one decode, files
// identical whatever the ranks, chunk length or request order, grid and per-member layouts with
// their CF attributes, scenario offsets exact, bad requests refused without leftovers; the decode
// window, and the loss-free encode-sample-decode of conditioning.
#include <gtest/gtest.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "test_support.hpp"
#include "generate/ensemble_run.hpp"
#include "generate/generator.hpp"
#include "generate/scenario.hpp"
#include "generate/trace_window.hpp"
#include "model/model_file.hpp"

using namespace climvae;
using namespace climvae::testing;

namespace {

// Six cells on a 2 x 3 lat/lon grid listed out of order, with different offsets, scales, trends
// and local times; the network is shared. A temporal prior gets ρ = tanh(1) on every feature.
ModelFile grid_model(PriorKind prior = PriorKind::seasonal) {
  VaeConfig config;
  config.prior = prior;
  Vae vae(config);
  vae.initialize(11);
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  if (prior == PriorKind::temporal) {
    const ParamSlice& ar = vae.params().layout.find("prior_ar.kernel");
    for (int f = 0; f < config.latent; ++f) m.parameters[ar.offset + f] = 1.0f;  // the constant input's row
  }
  m.reference_year = 2022;
  const double lats[2] = {50.0, 48.0}, lons[3] = {2.0, 0.0, 4.0};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      m.cells.push_back({lats[y], lons[x], x - 1, 0.02 + 0.01 * x, 280.0 + y + x, 5.0 + x});
  for (ModelCell& c : m.cells) {  // with the temporal prior, a calibration: noise over days, chunked too
    if (prior != PriorKind::temporal) break;
    Calibration& k = c.calibration;
    k.noise_phi = 0.98, k.noise_stages = 2, k.noise_short_share = 0.3, k.noise_short_phi = 0.8;
    k.anomaly_scale = 0.8;
    k.noise_diurnal_share = 0.2, k.noise_diurnal_phi = 0.9;  // the diurnal mode is in local hours: chunked too
    for (int h = 0; h < 24; ++h) k.diurnal_shape.push_back(static_cast<float>(std::sqrt(2.0) * std::cos(h * 0.2618)));
    for (int i = 0; i < 12 * 24; ++i) k.generated_climatology.push_back(0.002f * i - 0.3f);
    k.mean_correction.assign(12, 0.1f);
    k.noise_sd.assign(12, 0.3f);
    if (&c - &m.cells[0] == 2)  // the skew by local hour, chunked too (cell 0: none)
      for (int h = 0; h < 24; ++h) k.smooth_skew.push_back(static_cast<float>(0.3 * std::cos(h * 0.2618)));
  }
  return m;
}

TraceRequest request(int cell, int64_t hours, int members) {
  TraceRequest r;
  r.cell = cell;
  r.start_hour = hours_from_civil({2030, 3, 1, 7});  // off midnight
  r.hours = hours;
  r.members = members;
  r.seed = 2024;
  return r;
}

// tas of a climvae file as written (every rank reads all of it on its own).
std::vector<float> read_tas(const std::string& path) {
  int ncid = -1, varid = -1, ndims = 0, dims[4];
  EXPECT_EQ(ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid), NC_NOERR) << path;
  ncmpi_inq_varid(ncid, "tas", &varid);
  ncmpi_inq_varndims(ncid, varid, &ndims);
  ncmpi_inq_vardimid(ncid, varid, dims);
  MPI_Offset size = 1;
  for (int d = 0; d < ndims; ++d) {
    MPI_Offset n = 0;
    ncmpi_inq_dimlen(ncid, dims[d], &n);
    size *= n;
  }
  std::vector<float> values(static_cast<size_t>(size));
  EXPECT_EQ(ncmpi_get_var_float_all(ncid, varid, values.data()), NC_NOERR);
  ncmpi_close(ncid);
  return values;
}

std::string text_attribute(const std::string& path, const char* var, const char* name) {
  int ncid = -1, varid = NC_GLOBAL;
  if (ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid) != NC_NOERR) return "<no file>";
  if (var) ncmpi_inq_varid(ncid, var, &varid);
  MPI_Offset length = 0;
  std::string value = "<missing>";
  if (ncmpi_inq_attlen(ncid, varid, name, &length) == NC_NOERR) {
    value.assign(static_cast<size_t>(length), '\0');
    ncmpi_get_att_text(ncid, varid, name, value.data());
  }
  ncmpi_close(ncid);
  return value;
}

std::vector<double> double_variable(const std::string& path, const char* name) {
  int ncid = -1, varid = -1, ndims = 0, dim = 0;
  ncmpi_open(MPI_COMM_SELF, path.c_str(), NC_NOWRITE, MPI_INFO_NULL, &ncid);
  ncmpi_inq_varid(ncid, name, &varid);
  ncmpi_inq_varndims(ncid, varid, &ndims);
  MPI_Offset n = 1;
  if (ndims == 1) {
    ncmpi_inq_vardimid(ncid, varid, &dim);
    ncmpi_inq_dimlen(ncid, dim, &n);
  }
  std::vector<double> values(static_cast<size_t>(n));
  ncmpi_get_var_double_all(ncid, varid, values.data());
  ncmpi_close(ncid);
  return values;
}

EnsembleJob job_for(const std::string& output, std::vector<int> cells, int64_t hours, int members) {
  EnsembleJob job;
  const TraceRequest r = request(0, hours, members);
  job.cells = std::move(cells);
  job.start_hour = r.start_hour;
  job.hours = hours;
  job.members = members;
  job.seed = r.seed;
  job.output = output;
  job.model_path = "grid.model";
  job.history = "test_generate";
  return job;
}

}  // namespace

class Chunks : public ::testing::TestWithParam<PriorKind> {};

// The temporal prior's chains run from the trace's first step, so every chunk replays them.
TEST_P(Chunks, AreBitIdenticalToOneDecode) {
  const ModelFile m = grid_model(GetParam());
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  for (int cell : {0, 2}) {  // local time UTC-1 and UTC+1
    TraceRequest r = request(cell, 3000, 5);
    const std::vector<float> whole = generate_traces(vae, m, r);
    // Chunks at awkward places (1 hour, block boundaries, anywhere), members as a slice 1..3.
    r.first_member = 1;
    r.members = 3;
    for (int64_t chunk : {1, 95, 96, 500, 1234}) {
      for (int64_t t0 = 0; t0 < r.hours; t0 += chunk) {
        const int64_t nt = std::min(chunk, r.hours - t0);
        const std::vector<float> part = generate_trace_chunk(vae, m, r, t0, nt);
        for (int64_t t = 0; t < nt; ++t)
          for (int b = 0; b < 3; ++b)
            ASSERT_EQ(part[t * 3 + b], whole[(t0 + t) * 5 + 1 + b]) << "cell " << cell << " chunk " << chunk << " hour " << t0 + t;
        if (chunk == 1 && t0 >= 200 && t0 < r.hours - 200) t0 = r.hours - 200;  // one-hour chunks: both ends suffice
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Priors, Chunks, ::testing::Values(PriorKind::seasonal, PriorKind::temporal),
                         [](const auto& info) { return prior_name(info.param); });

// With the skew, the lasting part's warm excursions are the large ones: the generated anomalies
// are skewed to the warm side, and the warm tenth of the days persists more than the cold tenth
// (one hour's value, the same hour a day later); without, both alike.
TEST(Calibration, SkewMakesTheWarmTailTheLastingOne) {
  ModelFile m = grid_model(PriorKind::temporal);
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  Calibration& k = m.cells[1].calibration;  // local time = UTC
  k.noise_sd.assign(12, 5.0f);  // the noise dominates the decoded weather
  k.noise_short_share = 0.4, k.noise_diurnal_share = 0, k.diurnal_shape.clear();
  const auto tails = [&](double& skewness) {  // P(warm tenth again a day later) - P(cold tenth ...)
    TraceRequest r = request(1, 24 * 240, 64);
    r.start_hour = hours_from_civil({2030, 3, 1, 0});
    r.calibrated = true;
    const std::vector<float> v = generate_traces(vae, m, r);
    std::vector<double> noon;  // member-major noons, anomalies from the ensemble mean of the hour
    for (int b = 0; b < r.members; ++b)
      for (int64_t t = 12; t < r.hours; t += 24) {
        double mean = 0;
        for (int j = 0; j < r.members; ++j) mean += v[t * r.members + j] / r.members;
        noon.push_back(v[t * r.members + b] - mean);
      }
    std::vector<double> sorted(noon);
    std::sort(sorted.begin(), sorted.end());
    const double cold = sorted[sorted.size() / 10], warm = sorted[sorted.size() * 9 / 10];
    double m2 = 0, m3 = 0, warm_today = 0, warm_both = 0, cold_today = 0, cold_both = 0;
    for (double x : noon) m2 += x * x, m3 += x * x * x;
    skewness = (m3 / noon.size()) / std::pow(m2 / noon.size(), 1.5);
    const size_t days = noon.size() / r.members;
    for (size_t i = 0; i + 1 < noon.size(); ++i) {
      if ((i + 1) % days == 0) continue;  // no pair across members
      if (noon[i] > warm) warm_today += 1, warm_both += noon[i + 1] > warm;
      if (noon[i] < cold) cold_today += 1, cold_both += noon[i + 1] < cold;
    }
    return warm_both / warm_today - cold_both / cold_today;
  };
  double skewness = 0;
  EXPECT_NEAR(tails(skewness), 0.0, 0.05) << "no skew";
  EXPECT_NEAR(skewness, 0.0, 0.1);
  k.smooth_skew.assign(24, 0.4f);
  EXPECT_GT(tails(skewness), 0.1);
  EXPECT_GT(skewness, 0.3);
  k.smooth_skew.assign(24, -0.4f);  // and the other way round
  EXPECT_LT(tails(skewness), -0.1);
  EXPECT_LT(skewness, -0.3);
}

TEST(Continuity, NoSeamAtChunkBoundariesInTheFile) {
  // Chunks written separately: the hour-to-hour changes across chunk boundaries are those of one
  // decode (bit-identical), so their distribution is the interior's.
  const SharedDirectory dir;
  const ModelFile m = grid_model();
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  EnsembleJob job = job_for(dir / "chunked.nc", {4}, 2000, 3);
  job.chunk_hours = 333;
  run_ensemble(vae, m, job);
  const std::vector<float> file = read_tas(job.output);
  const std::vector<float> whole = generate_traces(vae, m, request(4, 2000, 3));
  ASSERT_EQ(file, whole);
}

TEST(Ensemble, GridFileIsTheSameForAnyRanksChunksAndOrder) {
  const SharedDirectory dir;
  const ModelFile m = grid_model();
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  const int members = 5;
  const int64_t hours = 700;
  EnsembleJob job = job_for(dir / "grid.nc", {5, 0, 3, 1, 4, 2}, hours, members);
  job.chunk_hours = 250;
  const EnsembleTiming t = run_ensemble(vae, m, job);
  EXPECT_EQ(t.layout, OutputLayout::grid);
  // The same request on rank 0 alone, in one chunk.
  if (world_rank() == 0) {
    EnsembleJob alone = job;
    alone.output = dir / "alone.nc";
    alone.chunk_hours = 0;
    alone.cells = {0, 1, 2, 3, 4, 5};
    run_ensemble(vae, m, alone, MPI_COMM_SELF);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const std::vector<float> values = read_tas(job.output);
  EXPECT_EQ(values, read_tas(dir / "alone.nc"));
  // Fewer members than ranks: the ranks split the cells instead; member 1 is the same.
  EnsembleJob one = job;
  one.output = dir / "one.nc";
  one.members = 1;
  run_ensemble(vae, m, one);
  const std::vector<float> first = read_tas(one.output);
  for (int64_t h = 0; h < hours; ++h)
    for (int c = 0; c < 6; ++c) ASSERT_EQ(first[h * 6 + c], values[h * members * 6 + c]) << "hour " << h << " cell " << c;
  // Against traces requested member by member, last member first: (time, realization, lat, lon).
  EXPECT_EQ(double_variable(job.output, "lat"), (std::vector<double>{48.0, 50.0}));
  EXPECT_EQ(double_variable(job.output, "lon"), (std::vector<double>{0.0, 2.0, 4.0}));
  for (int cell = 0; cell < 6; ++cell) {
    const int y = cell < 3 ? 1 : 0;  // lat 50 then 48 in the model, ascending in the file
    const int x = (cell % 3) == 0 ? 1 : (cell % 3) == 1 ? 0 : 2;
    for (int member = members - 1; member >= 0; --member) {
      TraceRequest r = request(cell, hours, 1);
      r.first_member = member;
      const std::vector<float> one = generate_traces(vae, m, r);
      for (int64_t h = 0; h < hours; ++h)
        ASSERT_EQ(values[((h * members + member) * 2 + y) * 3 + x], one[h]) << "cell " << cell << " member " << member;
    }
  }
}

// With spatial factors the shared weather's normals are the same for every cell of a member: a
// thread draws them once and keeps them (generator.cpp), and run_ensemble takes the cells of a
// few members at a time. The file equals each (cell, member) asked alone, last member first, and
// asked in a thread of its own (an empty cache).
TEST(Ensemble, SharedWeatherIsTheSameForAnyOrderAndThread) {
  const SharedDirectory dir;
  ModelFile m = grid_model(PriorKind::temporal);
  constexpr int factors = 16;
  std::vector<float> loadings(m.cells.size() * m.config.latent * factors);
  for (size_t i = 0; i < loadings.size(); ++i) loadings[i] = static_cast<float>(0.2 * std::sin(0.7 * double(i)));
  m.set_loadings(factors, loadings);
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  const int members = 20;
  const int64_t hours = 4800;
  EnsembleJob job = job_for(dir / "shared.nc", {0, 1}, hours, members);
  ASSERT_LT(shared_weather_members_at_once(m, true, hours), members) << "the run should take the members in slices";
  run_ensemble(vae, m, job);
  const std::vector<float> values = read_tas(job.output);  // (time, member, 1, 2): cell 1 at x = 0 (lon 0)
  const auto check = [&](int cell, int member, const std::vector<float>& one) {
    const int x = cell == 1 ? 0 : 1;
    for (int64_t h = 0; h < hours; ++h)
      ASSERT_EQ(values[(h * members + member) * 2 + x], one[h]) << "cell " << cell << " member " << member << " hour " << h;
  };
  for (int member = members - 1; member >= 0; member -= 3)
    for (int cell : {1, 0}) {
      TraceRequest r = request(cell, hours, 1);
      r.first_member = member;
      check(cell, member, generate_traces(vae, m, r));
    }
  std::vector<float> fresh;
  TraceRequest r = request(1, hours, 1);
  r.first_member = 7;
  std::thread([&] {
    Vae own(m.config);
    load_parameters(own, m.parameters);
    fresh = generate_traces(own, m, r);
  }).join();
  check(1, 7, fresh);
}

TEST(Ensemble, ScatteredCellsGoToOneCfFilePerMember) {
  const SharedDirectory dir;
  ModelFile m = grid_model();
  m.cells[4].latitude = 49.1;  // no longer a grid
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  EnsembleJob job = job_for(dir / "tas_1hr_test.nc", {4, 1, 0}, 300, 3);
  job.scenario.offset_k = 2;
  job.attributes["climvae_warming_offset_K"] = "2";
  job.layout = OutputLayout::grid;
  EXPECT_THROW(run_ensemble(vae, m, job), Error);  // not a regular grid
  job.layout = OutputLayout::automatic;
  const EnsembleTiming t = run_ensemble(vae, m, job);
  ASSERT_EQ(t.layout, OutputLayout::member_files);
  ASSERT_EQ(t.files.size(), 3u);
  EXPECT_EQ(t.files[1], dir / "tas_1hr_test_r2i1p1f1_2030030107-2030031318.nc");
  EXPECT_EQ(dir.entries().size(), 3u);
  for (int member = 0; member < 3; ++member) {
    const std::string& f = t.files[member];
    EXPECT_EQ(double_variable(f, "lat"), (std::vector<double>{50.0, 50.0, 49.1}));  // cells 0, 1, 4
    EXPECT_EQ(double_variable(f, "realization"), std::vector<double>{double(member + 1)});
    EXPECT_EQ(text_attribute(f, "tas", "units"), "K");
    EXPECT_EQ(text_attribute(f, "tas", "standard_name"), "air_temperature");
    EXPECT_EQ(text_attribute(f, "tas", "coordinates"), "height lat lon");
    EXPECT_EQ(text_attribute(f, nullptr, "coordinates"), "realization");
    EXPECT_EQ(text_attribute(f, "time", "units"), "hours since 1970-01-01 00:00:00");
    EXPECT_EQ(text_attribute(f, "time", "calendar"), "proleptic_gregorian");
    EXPECT_EQ(text_attribute(f, "height", "standard_name"), "height");
    EXPECT_EQ(text_attribute(f, nullptr, "featureType"), "timeSeries");
    EXPECT_EQ(text_attribute(f, nullptr, "Conventions"), "CF-1.8");
    EXPECT_EQ(text_attribute(f, nullptr, "climvae_model"), "grid.model");
    EXPECT_EQ(text_attribute(f, nullptr, "climvae_seed"), "2024");
    EXPECT_EQ(text_attribute(f, nullptr, "climvae_version"), CLIMVAE_VERSION_STRING);
    EXPECT_EQ(text_attribute(f, nullptr, "climvae_warming_offset_K"), "2");
    EXPECT_NE(text_attribute(f, nullptr, "climvae_scenario").find("plus 2 K"), std::string::npos);
    // +2 K minus the base is 2 K for every value of every member (to float rounding).
    const std::vector<float> values = read_tas(f);
    const int cells[3] = {0, 1, 4};
    for (int c = 0; c < 3; ++c) {
      TraceRequest r = request(cells[c], 300, 1);
      r.first_member = member;
      const std::vector<float> base = generate_traces(vae, m, r);
      double mean = 0;
      for (int64_t h = 0; h < 300; ++h) {
        ASSERT_NEAR(values[h * 3 + c] - base[h], 2.0, 3e-5);
        mean += (values[h * 3 + c] - double(base[h])) / 300;
      }
      EXPECT_NEAR(mean, 2.0, 1e-5) << "member " << member << " cell " << cells[c];
    }
  }
}

TEST(Ensemble, RefusesBadRequestsAndLeavesNothing) {
  const SharedDirectory dir;
  const ModelFile m = grid_model();
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  EnsembleJob job = job_for(dir / "out.nc", {0, 1}, 100, 2);
  job.hours = -5;
  EXPECT_THROW(run_ensemble(vae, m, job), Error);
  job.hours = 100;
  job.start_hour = hours_from_civil({9999, 12, 31, 0});  // runs past the calendar
  EXPECT_THROW(run_ensemble(vae, m, job), Error);
  job.start_hour = request(0, 1, 1).start_hour;
  job.cells = {0, 0};
  EXPECT_THROW(run_ensemble(vae, m, job), Error);
  job.cells = {0, 1};
  job.scenario.path = Scenario::Path::table;  // a table that does not reach 2030
  job.scenario.table_k = {{2020, 0.1}, {2025, 0.4}};
  job.scenario.transient = true;
  EXPECT_THROW(run_ensemble(vae, m, job), Error);
  job.scenario = Scenario();
  job.output = dir / "no/such/dir.nc";
  EXPECT_THROW(run_ensemble(vae, m, job), Error);
  EXPECT_TRUE(dir.entries().empty());

  job.output = dir / "out.nc";
  run_ensemble(vae, m, job);
  const std::vector<float> first = read_tas(job.output);
  job.seed = 5;
  EXPECT_THROW(run_ensemble(vae, m, job), Error);  // exists, no overwrite
  EXPECT_EQ(read_tas(job.output), first);
  job.overwrite = true;
  run_ensemble(vae, m, job);
  EXPECT_NE(read_tas(job.output), first);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.nc"});
}

TEST(Scenario, PathsSlicesAndTables) {
  ModelFile m = grid_model();
  Scenario s;
  EXPECT_EQ(scenario_warming_k(s, m, 0, 2050.5), 0.0);
  s.offset_k = 2;
  EXPECT_EQ(scenario_warming_k(s, m, 0, 2050.5), 2.0);
  s.offset_k = 0;
  s.path = Scenario::Path::rate;
  s.rate_k_per_year = 0.03;
  EXPECT_NEAR(scenario_warming_k(s, m, 0, 2032.5), 0.3, 1e-12);  // ten years after 2022
  s.path = Scenario::Path::learned_trend;
  EXPECT_NEAR(scenario_warming_k(s, m, 2, 2032.5), 10 * m.cells[2].trend_k_per_year, 1e-12);
  s.path = Scenario::Path::table;
  s.table_k = {{2030, 1.0}, {2040, 2.0}};
  EXPECT_NEAR(scenario_warming_k(s, m, 0, 2030.5), 1.0, 1e-12);
  EXPECT_NEAR(scenario_warming_k(s, m, 0, 2035.5), 1.5, 1e-12);
  EXPECT_THROW(scenario_warming_k(s, m, 0, 2050.5), Error);
  s.table_pattern_rate_k_per_year = 0.02;  // cell 1 warms 0.03 K/year: 1.5 times the pattern
  EXPECT_NEAR(scenario_warming_k(s, m, 1, 2035.5), 2.25, 1e-12);

  // Transient traces warm along the path; a time slice is one offset.
  std::vector<float> tas(2 * 24 * 366 * 10, 0.0f);
  const int64_t start = hours_from_civil({2030, 7, 1, 0}), hours = 24 * 366 * 5;
  s.transient = true;
  apply_scenario(s, m, 0, start, hours, 2, tas.data());
  EXPECT_NEAR(tas[0], 1.0, 1e-6);
  EXPECT_NEAR(tas[2 * (hours - 1) + 1], 1.5, 2e-3);
  EXPECT_EQ(tas[0], tas[1]);
  EXPECT_LT(tas[2 * 24 * 365], tas[2 * 24 * 365 * 3]);
}

TEST(Scenario, OneValidationOfPhysicalBoundsAndOfTheOutput) {
  const auto refused = [](const Scenario& s, const std::string& needle) {
    EXPECT_NE(error_message([&] { validate_scenario(s); }).find(needle), std::string::npos) << needle;
  };
  Scenario s;
  validate_scenario(s);  // the reference year's climate
  s.path = Scenario::Path::table;
  s.table_k = {{2030, 1.0}, {2040, 45.0}};
  refused(s, "warming table offset of 2040 45 K is outside -30..30 K");
  s.table_k = {{0, 1.0}};
  refused(s, "warming table year 0 is outside 1..9999");
  s.table_k = {{2030, 1.0}};
  s.table_pattern_rate_k_per_year = 1e-9;
  refused(s, "pattern rate 1e-09 K/year is outside 0.001..1 K/year");
  s.table_pattern_rate_k_per_year = 0.02;
  validate_scenario(s);

  const std::vector<float> fine = {150, 288.5f, 350}, cold = {280, 100}, missing = {280, NAN};
  check_generated_values(fine.data(), fine.size(), "cell 3");
  EXPECT_NE(error_message([&] { check_generated_values(cold.data(), cold.size(), "cell 3"); })
                .find("cell 3: generated value 1 is 100 K, outside 150..350 K"),
            std::string::npos);
  EXPECT_NE(error_message([&] { check_generated_values(missing.data(), missing.size(), "cell 3"); })
                .find("generated value 1 is nan K"),
            std::string::npos);
}

TEST(Scenario, ReadsWarmingTables) {
  if (world_rank() != 0) return;
  const std::string path = "/tmp/climvae_test_table_" + std::to_string(::getpid()) + ".csv";
  auto table = [&](const std::string& text) {
    std::ofstream(path) << text;
    return read_warming_table(path);
  };
  const auto t = table("year,offset_K\n# SSP2-4.5, global mean\n2030,1.2\r\n2050,1.9\n");
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at(2050), 1.9);
  EXPECT_THROW(table("2030,1.2\n2020,1.0\n"), Error);  // years must increase
  EXPECT_THROW(table("2030,1.2\n2040,warm\n"), Error);
  EXPECT_THROW(table("year,offset\n"), Error);          // no rows
  std::remove(path.c_str());
  EXPECT_THROW(read_warming_table(path), Error);
}

// The decode window starts at the local midnight at or before the first hour, before 1970 too.
TEST(TraceWindow, DecodesWholeStepsFromTheLocalMidnightBefore) {
  ModelCell west;
  west.utc_offset_hours = -5;
  const int64_t day = hours_from_civil({2030, 3, 1, 0});
  const DecodeWindow w = decode_window(west, day + 3, 100);  // 22:00 local on the day before
  EXPECT_EQ(w.local_start, day - 2);
  EXPECT_EQ(w.origin, day - 24);
  EXPECT_EQ(w.skip, 22);
  EXPECT_EQ(w.steps, 2);  // 122 hours
  EXPECT_EQ(w.hours(), 192);
  const DecodeWindow early = decode_window(ModelCell(), -1, 1);  // 1969-12-31T23
  EXPECT_EQ(early.origin, -24);
  EXPECT_EQ(early.skip, 23);
  EXPECT_EQ(early.steps, 1);
}

// Conditioning's loss-free pass decodes the same posterior draw as training's forward pass.
TEST(Vae, EncodeSampleDecodeIsTheReconstructionOfForwardBackward) {
  VaeConfig config;
  config.cells = 3;
  config.embedding = 2;  // the decoder also takes each window's cell
  Vae vae(config);
  vae.initialize(5);
  const int batch = 3, steps = 2, hours = steps * Vae::kHoursPerStep;
  View2 x("x", batch, hours);
  View3 season("season", batch, steps, 6), eps("eps", batch, steps, config.latent), out("out", batch, hours, 1);
  CellIndices cells("cells", batch);
  auto xh = Kokkos::create_mirror_view(x);
  auto sh = Kokkos::create_mirror_view(season);
  auto eh = Kokkos::create_mirror_view(eps);
  auto ch = Kokkos::create_mirror_view(cells);
  for (int b = 0; b < batch; ++b) {
    ch(b) = 2 - b;
    for (int h = 0; h < hours; ++h) xh(b, h) = std::sin(0.26f * h + b);
    for (int s = 0; s < steps; ++s) {
      for (int f = 0; f < 6; ++f) sh(b, s, f) = std::cos(0.5f * f + s);
      for (int f = 0; f < config.latent; ++f) eh(b, s, f) = std::sin(1.7f * f + 3.1f * s + b);
    }
  }
  Kokkos::deep_copy(x, xh);
  Kokkos::deep_copy(season, sh);
  Kokkos::deep_copy(eps, eh);
  Kokkos::deep_copy(cells, ch);
  vae.forward_backward(x, season, cells, eps, false);
  const auto expected = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.reconstruction());
  vae.encode_sample_decode(x, cells, eps, out);
  const auto got = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  for (int b = 0; b < batch; ++b)
    for (int h = 0; h < hours; ++h) ASSERT_EQ(got(b, h, 0), expected(b, h, 0)) << "window " << b << ", hour " << h;
  View3 short_out("short", batch, hours - 1, 1);
  EXPECT_THROW(vae.encode_sample_decode(x, cells, eps, short_out), Error);
}
