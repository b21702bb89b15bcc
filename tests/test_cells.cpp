// Many cells, one model: half-hourly station input in local standard time, several sites on one
// UTC axis, the southern season shift, the model file's embedding (and version 1 files), and
// generation picking a cell's embedding. Gradients of the embedding: test_vae_gradients.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "data/preprocess.hpp"
#include "data/station_series.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"

using namespace climvae;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/climvae_test_cells_" + std::to_string(::getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Two days of half-hours from Excel day 40603 (2011-03-01) with Temp = period / 10.
std::string station_csv(int periods_on_day_two = 48) {
  std::ostringstream csv;
  csv << "\"Date\",\"Period\",\"Temp\"\r\n";
  for (int p = 1; p <= 48; ++p) csv << "40603," << p << "," << p / 10.0 << "\r\n";
  for (int p = 1; p <= periods_on_day_two; ++p) csv << "40604," << p << "," << p / 10.0 << "\r\n";
  return csv.str();
}

ModelFile two_cell_model(uint64_t seed) {
  VaeConfig config;
  config.cells = 2;
  config.embedding = 4;
  Vae vae(config);
  vae.initialize(seed);
  ModelFile m;
  m.config = config;
  m.parameters = parameters_of(vae);
  m.reference_year = 2019;
  m.cells.push_back({48.82, 2.29, 0, 0.0, 285.0, 7.0, 0.0});
  m.cells.push_back({-33.86, 151.21, 10, 0.0, 293.0, 4.7, season_phase_days(-33.86)});
  return m;
}

// CRC-32 (IEEE, bitwise): to re-seal a hand-edited model file.
uint32_t crc32_of(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

}  // namespace

TEST(StationSeries, HalfHourlyLocalStandardTimeBecomesHourlyUtc) {
  const std::string path = temp_path("station.csv");
  write_file(path, station_csv());
  ASSERT_TRUE(is_halfhourly_station_csv(path));
  const HourlySeries s = read_halfhourly_station_csv(path, 10);
  // First on-the-hour reading: period 2 ends at 01:00 AEST on 2011-03-01 = 2011-02-28T15:00 UTC.
  EXPECT_EQ(format_iso_hour(s.start_hour), "2011-02-28T15:00");
  ASSERT_EQ(s.values_k.size(), 48u);  // 96 half-hours -> 48 on-the-hour readings
  EXPECT_NEAR(s.values_k[0], 273.15 + 0.2, 1e-9);
  EXPECT_NEAR(s.values_k[23], 273.15 + 4.8, 1e-9);  // period 48: midnight ending the first day
  EXPECT_NEAR(s.values_k[24], 273.15 + 0.2, 1e-9);
  std::remove(path.c_str());
}

TEST(StationSeries, DaylightSavingDaysAndBadRowsAreRefused) {
  const std::string path = temp_path("station_bad.csv");
  write_file(path, station_csv(46));  // a spring-forward day: 46 half-hours
  EXPECT_THROW(read_halfhourly_station_csv(path, 10), Error);
  std::string swapped = station_csv();
  swapped.replace(swapped.find("40603,3,"), 8, "40603,4,");
  write_file(path, swapped);
  try {
    read_halfhourly_station_csv(path, 10);
    ADD_FAILURE() << "no error for a skipped period";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":4:"), std::string::npos) << e.what();
  }
  write_file(path, "time,value\n2011-01-01T00:00,1\n");
  EXPECT_FALSE(is_halfhourly_station_csv(path));
  std::remove(path.c_str());
}

TEST(StationSeries, BeijingHourlyLocalTimeBecomesUtc) {
  const std::string path = temp_path("prsa.csv");
  // The UCI layout: columns found by name, the others ignored; NA missing; a skipped hour is NaN.
  write_file(path,
             "\"No\",\"year\",\"month\",\"day\",\"hour\",\"PM2.5\",\"TEMP\",\"station\"\r\n"
             "1,2013,3,1,0,4,-0.7,\"Dongsi\"\r\n"
             "2,2013,3,1,1,8,NA,\"Dongsi\"\r\n"
             "3,2013,3,1,2,7,-1.2,\"Dongsi\"\r\n"
             "4,2013,3,1,4,6,2.5,\"Dongsi\"\r\n");
  ASSERT_TRUE(is_prsa_station_csv(path));
  EXPECT_FALSE(is_halfhourly_station_csv(path));
  const HourlySeries s = read_prsa_station_csv(path, 8);
  EXPECT_EQ(format_iso_hour(s.start_hour), "2013-02-28T16:00");  // 00:00 Beijing time = 16:00 UTC the day before
  ASSERT_EQ(s.values_k.size(), 5u);
  EXPECT_NEAR(s.values_k[0], 273.15 - 0.7, 1e-9);
  EXPECT_TRUE(std::isnan(s.values_k[1]));
  EXPECT_TRUE(std::isnan(s.values_k[3]));  // hour 3 has no row
  EXPECT_NEAR(s.values_k[4], 273.15 + 2.5, 1e-9);

  // The test copy of a real station: every hour of 2013-03 .. 2017-02.
  const HourlySeries dongsi =
      read_prsa_station_csv(std::string(CLIMVAE_TEST_DATA) + "/beijing/PRSA_TEMP_Dongsi_20130301-20170228.csv", 8);
  EXPECT_EQ(format_iso_hour(dongsi.start_hour), "2013-02-28T16:00");
  EXPECT_EQ(dongsi.values_k.size(), 35064u);
  std::remove(path.c_str());
}

TEST(StationSeries, BeijingBadRowsNameFileAndLine) {
  const std::string path = temp_path("prsa_bad.csv");
  const std::string header = "\"year\",\"month\",\"day\",\"hour\",\"TEMP\"\n";
  const std::pair<std::string, std::string> cases[] = {
      {header + "2013,3,1,0,1\n2013,3,1,0,2\n", ":3: 2013-3-1 hour 0 does not come after"},
      {header + "2013,3,1,5,1\n2013,3,1,4,2\n", ":3: 2013-3-1 hour 4 does not come after"},
      {header + "2013,2,29,0,1\n", ":2: day '29' is not 1..28"},
      {header + "2013,3,1,24,1\n", ":2: hour '24' is not 0..23"},
      {header + "2013,3,1,0,warm\n", ":2: non-numeric TEMP 'warm'"},
      {header + "2013,3,1\n", ":2: expected at least 5 fields"},
      {header, "no data rows"},
  };
  for (const auto& [text, message] : cases) {
    write_file(path, text);
    try {
      read_prsa_station_csv(path, 8);
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  write_file(path, "\"year\",\"month\",\"day\",\"hour\",\"PM2.5\"\n2013,3,1,0,1\n");
  EXPECT_FALSE(is_prsa_station_csv(path));  // no TEMP column
  EXPECT_THROW(read_prsa_station_csv(path, 8), Error);
  std::remove(path.c_str());
}

TEST(MergeCellStores, AlignsSitesOnTheUnionOfTheirUtcAxes) {
  HourlySeries a, b;
  a.start_hour = parse_iso_hour("2011-01-01T00:00");
  b.start_hour = parse_iso_hour("2011-02-01T00:00");
  for (int i = 0; i < 24 * 80; ++i) a.values_k.push_back(280 + std::sin(i * 0.26));
  for (int i = 0; i < 24 * 90; ++i) b.values_k.push_back(290 + 2 * std::cos(i * 0.26));
  PreprocessOptions options;
  options.trend_k_per_year = 0.0;
  options.reference_year = 2011;
  const Store sa = make_cell_store(a, {48.8, 2.3}, options), sb = make_cell_store(b, {-33.9, 151.2}, options);
  const Store merged = merge_cell_stores({sa, sb});
  EXPECT_EQ(merged.start_hour, a.start_hour);
  EXPECT_EQ(merged.num_hours, b.start_hour + 24 * 90 - a.start_hour);
  ASSERT_EQ(merged.cells.size(), 2u);
  EXPECT_EQ(merged.total_cells, 2);
  const int64_t shift = b.start_hour - a.start_hour;
  EXPECT_TRUE(std::isnan(merged.cells[1].tas_k[shift - 1]));
  EXPECT_EQ(merged.cells[1].tas_k[shift], sb.cells[0].tas_k[0]);
  EXPECT_TRUE(std::isnan(merged.cells[0].tas_k[24 * 80]));
  EXPECT_EQ(merged.cells[1].offset_k, sb.cells[0].offset_k);
  EXPECT_EQ(merged.cells[1].utc_offset_hours, 10);
  Store other_year = sb;
  other_year.reference_year = 2012;
  EXPECT_THROW(merge_cell_stores({sa, other_year}), Error);
}

TEST(SeasonShift, SouthernCellsSeeTheSeasonHalfAYearOn) {
  EXPECT_EQ(season_phase_days(48.8), 0.0);
  EXPECT_EQ(season_phase_days(-33.9), 365.0 / 2);
  float south[6], north[6];
  const int64_t january = parse_iso_hour("2019-01-15T00:00");
  seasonal_features(january, 1, south, season_phase_days(-33.9));
  seasonal_features(january + int64_t(24 * 182.5), 1, north);  // mid-July
  for (int f = 0; f < 6; ++f) EXPECT_NEAR(south[f], north[f], 1e-5) << f;
}

TEST(ModelFileCells, EmbeddingAndSeasonShiftRoundTrip) {
  const ModelFile m = two_cell_model(3);
  const std::string path = temp_path("two.model");
  save_model(m, path, true);
  const ModelFile back = load_model(path);
  EXPECT_EQ(back.config.embedding, 4);
  EXPECT_EQ(back.config.cells, 2);
  EXPECT_EQ(back.parameters, m.parameters);
  EXPECT_EQ(back.cells[1].season_shift_days, 182.5);
  EXPECT_TRUE(back.config.condition_decoder);
  EXPECT_TRUE(back.config.prior_bias);
  EXPECT_EQ(back.config.prior_inputs(), 6 * 5 + 4);
  EXPECT_EQ(back.config.decoder_inputs(), back.config.latent + 4);
  std::remove(path.c_str());
}

// Rewrites a saved model file as an older format version: drops the header lines that version
// did not have (and the season shift for version 1), then re-seals it with its checksum.
void rewrite_as_version(const std::string& path, int version) {
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t body = bytes.find("end-header\n") + std::string("end-header\n").size();
  std::istringstream lines(bytes.substr(0, body));
  std::string header, line;
  while (std::getline(lines, line)) {
    if (line.rfind("climvae-model", 0) == 0) line = "climvae-model " + std::to_string(version);
    if (line.rfind("crc32", 0) == 0 || line == "end-header") continue;
    if (version < 5 && line.rfind("prior ", 0) == 0) continue;
    if (version < 4 && line.rfind("prior_bias", 0) == 0) continue;
    if (version < 3 && line.rfind("condition_decoder", 0) == 0) continue;
    if (version < 2 && line.rfind("embedding", 0) == 0) continue;
    if (version < 2 && line.rfind("cell ", 0) == 0) line = line.substr(0, line.rfind(' '));
    header += line + "\n";
  }
  const std::string params = bytes.substr(body);
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", crc32_of(header + params));
  write_file(path, header + "crc32 " + crc + "\nend-header\n" + params);
}

TEST(ModelFileCells, Version2FilesLoadWithPriorOnlyConditioning) {
  ModelFile m = two_cell_model(3);
  m.config.condition_decoder = false;  // what version 2 trained
  m.config.prior_bias = false;
  Vae vae(m.config);
  vae.initialize(3);
  m.parameters = parameters_of(vae);
  const std::string path = temp_path("v2.model");
  save_model(m, path, true);
  rewrite_as_version(path, 2);
  const ModelFile v2 = load_model(path);
  EXPECT_EQ(v2.config.embedding, 4);
  EXPECT_FALSE(v2.config.condition_decoder);
  EXPECT_FALSE(v2.config.prior_bias);
  EXPECT_EQ(v2.parameters, m.parameters);
  EXPECT_EQ(Vae(v2.config).params().layout.find("decoder.0.kernel").shape, (std::vector<int>{3, 40, 10}));
  std::remove(path.c_str());
}

TEST(ModelFileCells, Version1FilesLoadAsSeedModels) {
  // A seed model's file rewritten as version 1 wrote it: no embedding line, six numbers per
  // cell, then re-sealed with its checksum.
  ModelFile m;
  Vae vae;
  vae.initialize(9);
  m.parameters = parameters_of(vae);
  m.reference_year = 2022;
  m.cells.push_back({48.82, 2.29, 0, 0.05, 285.0, 6.5, 0.0});
  const std::string path = temp_path("v1.model");
  save_model(m, path, true);
  rewrite_as_version(path, 1);
  const ModelFile v1 = load_model(path);
  EXPECT_EQ(v1.config.embedding, 0);
  EXPECT_EQ(v1.parameters, m.parameters);
  EXPECT_EQ(v1.cells[0].season_shift_days, 0.0);
  EXPECT_EQ(v1.cells[0].scale_k, 6.5);
  std::remove(path.c_str());
}

// Hand-edited header lines, re-sealed with their checksum, are refused, not half read: a value
// with trailing text ('reference_year 1e9' was read as year 1), a line with more values than
// its key has, and a quantile map whose first knots descend (a later ascending pair hid it).
TEST(ModelFileCells, HandEditedHeaderLinesAreRefusedEvenResealed) {
  ModelFile m = two_cell_model(4);
  Calibration& k = m.cells[1].calibration;
  k.noise_phi = 0.9;
  k.mean_correction.assign(12, 0.0f);
  k.noise_sd.assign(12, 0.2f);
  for (int i = 0; i < 12 * kQuantiles; ++i)
    k.quantiles_generated.push_back(0.1f * (i % kQuantiles)), k.quantiles_observed.push_back(0.1f * (i % kQuantiles));
  const std::string path = temp_path("edited.model");
  save_model(m, path, true);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto refused = [&](const std::string& from, const std::string& to, const std::string& needle) {
    const size_t body = bytes.find("crc32 ");
    std::string header = bytes.substr(0, body);
    ASSERT_NE(header.find(from), std::string::npos) << from;
    header.replace(header.find(from), from.size(), to);
    const std::string params = bytes.substr(bytes.find("end-header\n") + std::string("end-header\n").size());
    char crc[16];
    std::snprintf(crc, sizeof crc, "%08x", crc32_of(header + params));
    write_file(path, header + "crc32 " + crc + "\nend-header\n" + params);
    try {
      load_model(path);
      ADD_FAILURE() << "no error for '" << to << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused("reference_year 2019\n", "reference_year 1e9\n", "unreadable header line 11: 'reference_year 1e9'");
  refused("filters 40\n", "filters 40x\n", "'filters 40x'");
  refused("\nquantiles 1", " 0.5\nquantiles 1", "unreadable header line");  // calibration line one value long
  std::remove(path.c_str());
  m.cells[1].calibration.quantiles_generated[1] = -1;  // below knot 0, then ascending again
  save_model(m, path, true);
  EXPECT_THROW(load_model(path), Error);
  std::remove(path.c_str());
}

TEST(GenerateCells, EachCellSamplesItsOwnEmbeddingRow) {
  ModelFile m = two_cell_model(4);
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  TraceRequest r;
  r.start_hour = parse_iso_hour("2019-01-01T00:00");
  r.hours = 24 * 8;
  r.seed = 5;
  r.members = 3;
  auto traces = [&](int cell) {
    r.cell = cell;
    return generate_traces(vae, m, r);
  };
  const std::vector<float> cell0 = traces(0), cell1 = traces(1);
  // Change cell 1's embedding row only: cell 1's traces change, cell 0's do not.
  const ParamSlice& e = vae.params().layout.find("cell_embedding.embeddings");
  for (int j = 0; j < m.config.embedding; ++j) m.parameters[e.offset + m.config.embedding + j] += 0.5f;
  load_parameters(vae, m.parameters);
  EXPECT_EQ(traces(0), cell0);
  const std::vector<float> moved = traces(1);
  double largest = 0;
  for (size_t i = 0; i < moved.size(); ++i) largest = std::max(largest, double(std::abs(moved[i] - cell1[i])));
  EXPECT_GT(largest, 1e-3);
}
