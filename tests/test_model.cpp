// The Kokkos VAE's shapes, padding, model file and generation (gradients are checked against
// LibTorch in test_vae_gradients).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "engine/random.hpp"
#include "engine/strided_conv.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "model/vae.hpp"

using namespace climvae;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/climvae_test_model_" + std::to_string(::getpid()) + "_" + name;
}

ModelFile small_model(uint64_t seed) {
  Vae vae;
  vae.initialize(seed);
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  m.reference_year = 2022;
  m.cells.push_back({48.82, 2.29, 0, 0.05, 285.0, 6.5});
  m.provenance["store"] = "paris.nc";
  return m;
}

}  // namespace

TEST(Padding, MatchesKerasSame) {
  // kernel 3 stride 2: pad 1 in total, 0 left (transposed: crop 0 left, 1 right).
  const StridedGeometry a = same_padding(64, 3, 2);
  EXPECT_EQ(a.short_len, 32);
  EXPECT_EQ(a.pad_left, 0);
  // kernel 5 stride 3: pad 2 in total, 1 left (transposed: crop 1 left, 1 right).
  const StridedGeometry b = same_padding(96, 5, 3);
  EXPECT_EQ(b.short_len, 32);
  EXPECT_EQ(b.pad_left, 1);
  // Lengths that do not divide: ceil(n/s) outputs.
  EXPECT_EQ(same_padding(7, 3, 2).short_len, 4);
  EXPECT_EQ(same_padding(7, 3, 2).pad_left, 1);
}

// The default network runs compile-time kernels in every layer; a cell embedding widens
// decoder.0's input and takes the generic path, which bench_engine and bench_generate report.
TEST(StridedKernels, ReportWhichLayersAreSpecialised) {
  const Vae seed;
  for (const auto* layers : {&seed.encoder(), &seed.decoder()})
    for (const StridedLayer& l : *layers)
      EXPECT_TRUE(strided_kernel_specialised(l.long_channels, l.short_channels)) << l.name;
  VaeConfig config;
  config.cells = 3;
  config.embedding = 4;
  const Vae conditioned(config);
  const StridedLayer& widened = conditioned.decoder().front();
  EXPECT_EQ(widened.short_channels, config.latent + 4);
  EXPECT_FALSE(strided_kernel_specialised(widened.long_channels, widened.short_channels));
  EXPECT_TRUE(strided_kernel_specialised(conditioned.encoder().back().long_channels,
                                         conditioned.encoder().back().short_channels));
}

TEST(StridedKernels, RefuseChannelCountsOutOfRangeNamingThem) {
  const StridedGeometry g = same_padding(8, 3, 2);
  std::string message;
  try {
    strided_down(g, 1, 65, 40, nullptr, nullptr, nullptr, nullptr, false);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_EQ(message, "strided convolution: channel counts must be 1..64, got 65 and 40");
}

TEST(Vae, HasTheSeedsParameterCountAndAnyLength) {
  Vae vae;
  EXPECT_EQ(vae.params().layout.total(), 42942u);  // "about 43 000"
  vae.initialize(1);
  for (int k : {1, 2, 3, 7}) {
    View2 x("x", 2, 96 * k);
    View3 season("s", 2, k, 6), eps("e", 2, k, 10);
    const LossParts l = vae.forward_backward(x, season, eps, true);
    EXPECT_TRUE(std::isfinite(l.total())) << k;
    EXPECT_EQ(vae.encoder_output().extent(1), static_cast<size_t>(k));
    EXPECT_EQ(vae.reconstruction().extent(1), static_cast<size_t>(96 * k));
  }
  View2 bad("x", 2, 100);
  View3 season("s", 2, 1, 6), eps("e", 2, 1, 10);
  EXPECT_THROW(vae.forward_backward(bad, season, eps), Error);
  // A latent count whose double overflows int (a hand-edited model file) is refused, not allocated.
  VaeConfig huge;
  huge.latent = 2000000000;
  EXPECT_THROW(Vae{huge}, Error);
}

TEST(Seasonal, FeaturesFollowTheDayOfYear) {
  float f[2 * 6];
  seasonal_features(parse_iso_hour("2021-01-01"), 2, f);
  EXPECT_NEAR(f[0], 0.0f, 1e-6);  // sin θ at day 0
  EXPECT_NEAR(f[3], 1.0f, 1e-6);  // cos θ
  const double theta = 2 * M_PI * 4.0 / 365.0;  // next step is 4 days later
  EXPECT_NEAR(f[6 + 1], std::sin(2 * theta), 1e-6);
  EXPECT_NEAR(f[6 + 5], std::cos(3 * theta), 1e-6);
}

TEST(Random, CounterBasedNormalsHaveUnitMomentsAndDifferByKey) {
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = standard_normal(stream_key(7, 3), i);
    sum += v;
    sum2 += v * v;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.02);
  EXPECT_NE(standard_normal(stream_key(7, 3), 0), standard_normal(stream_key(7, 4), 0));
}

TEST(ModelFile, RoundTripsExactly) {
  const ModelFile m = small_model(3);
  const std::string path = temp_path("roundtrip.model");
  save_model(m, path, true);
  const ModelFile back = load_model(path);
  EXPECT_EQ(back.parameters, m.parameters);
  EXPECT_EQ(back.reference_year, 2022);
  ASSERT_EQ(back.cells.size(), 1u);
  EXPECT_EQ(back.cells[0].offset_k, 285.0);
  EXPECT_EQ(back.cells[0].latitude, 48.82);
  EXPECT_EQ(back.provenance.at("store"), "paris.nc");
  std::remove(path.c_str());
}

// Version 5: the temporal prior, two cells' spatial loadings and a calibration round-trip too.
TEST(ModelFile, RoundTripsPriorLoadingsAndCalibration) {
  VaeConfig config;
  config.prior = PriorKind::temporal;
  Vae vae(config);
  vae.initialize(8);
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  m.reference_year = 2020;
  m.cells.push_back({48.8, 2.3, 0, 0.0, 285.0, 6.5});
  m.cells.push_back({52.5, 13.4, 1, 0.0, 283.0, 7.0});
  std::vector<float> loadings(2 * config.latent * 2, 0.1f);
  loadings[2 * 3] = 0.9f;  // cell 0, feature 3 shares the most
  m.set_loadings(2, loadings);
  Calibration& k = m.cells[1].calibration;
  k.noise_phi = 0.97;
  for (int i = 0; i < 12; ++i) k.mean_correction.push_back(0.01f * i), k.noise_sd.push_back(0.2f + 0.001f * i);
  for (int i = 0; i < 12 * kQuantiles; ++i)
    k.quantiles_generated.push_back(0.1f * (i % kQuantiles) - 0.7f), k.quantiles_observed.push_back(0.12f * (i % kQuantiles) - 0.8f);
  const std::string path = temp_path("v5.model");
  save_model(m, path, false);
  const ModelFile back = load_model(path);
  EXPECT_EQ(back.config.prior, PriorKind::temporal);
  EXPECT_EQ(back.parameters, m.parameters);
  EXPECT_EQ(back.spatial_factors, 2);
  EXPECT_EQ(back.loadings, m.loadings);
  EXPECT_EQ(back.noise_feature, 3);
  EXPECT_TRUE(back.cells[0].calibration.empty());
  EXPECT_EQ(back.cells[1].calibration.mean_correction, k.mean_correction);
  EXPECT_EQ(back.cells[1].calibration.noise_sd, k.noise_sd);
  EXPECT_EQ(back.cells[1].calibration.noise_phi, 0.97);
  EXPECT_EQ(back.cells[1].calibration.quantiles_observed, k.quantiles_observed);
  // The map: a knot goes to its observed knot, between knots linearly, beyond them shifted.
  const int64_t mid_july = hours_from_civil({2021, 7, 16, 12});
  EXPECT_NEAR(quantile_mapped(k, 0.1 * 3 - 0.7, mid_july), 0.12 * 3 - 0.8, 1e-3);
  EXPECT_NEAR(quantile_mapped(k, 0.1 * 3.5 - 0.7, mid_july), 0.12 * 3.5 - 0.8, 1e-3);
  EXPECT_NEAR(quantile_mapped(k, 5.0, mid_july), 5.0 + (0.12 * 14 - 0.8) - (0.1 * 14 - 0.7), 1e-3);
  EXPECT_EQ(back.cells[1].calibration.anomaly_scale, 1.0);  // no weather line: the older calibration
  EXPECT_EQ(back.cells[1].calibration.noise_stages, 1);
  EXPECT_TRUE(back.cells[1].calibration.generated_climatology.empty());
  // Version 6: the weather partition round-trips, and scales the decoded anomaly about the
  // generated climatology (mid-July, 16 July 12:00: July's value alone).
  k.anomaly_scale = 0.7, k.noise_stages = 2, k.noise_short_share = 0.25, k.noise_short_phi = 0.85;
  for (int i = 0; i < 12 * 24; ++i) k.generated_climatology.push_back(0.01f * i - 1);
  save_model(m, path, true);
  const Calibration w = load_model(path).cells[1].calibration;
  EXPECT_EQ(w.anomaly_scale, 0.7);
  EXPECT_EQ(w.noise_stages, 2);
  EXPECT_EQ(w.noise_short_share, 0.25);
  EXPECT_EQ(w.noise_short_phi, 0.85);
  EXPECT_EQ(w.generated_climatology, k.generated_climatology);
  const int64_t mid_july_noon = hours_from_civil({2021, 7, 16, 12});
  const double centre = k.generated_climatology[6 * 24 + 12];
  Calibration plain = k;
  plain.anomaly_scale = 1;
  EXPECT_NEAR(calibrated_value(k, calibrated_hour(k, mid_july_noon), centre + 1.0, 0.0f),
              calibrated_value(plain, calibrated_hour(plain, mid_july_noon), centre + 0.7, 0.0f), 1e-5);
  EXPECT_EQ(w.noise_diurnal_share, 0.0);  // no diurnal line: no diurnal mode
  EXPECT_TRUE(w.diurnal_shape.empty());
  // Version 7: the diurnal mode round-trips; a share that leaves the smooth noise negative is refused.
  k.noise_diurnal_share = 0.3, k.noise_diurnal_phi = 0.9;
  for (int h = 0; h < 24; ++h) k.diurnal_shape.push_back(0.1f * h - 1.15f);
  save_model(m, path, true);
  const Calibration d = load_model(path).cells[1].calibration;
  EXPECT_EQ(d.noise_diurnal_share, 0.3);
  EXPECT_EQ(d.noise_diurnal_phi, 0.9);
  EXPECT_EQ(d.diurnal_shape, k.diurnal_shape);
  k.noise_diurnal_share = 0.8;
  save_model(m, path, true);
  EXPECT_THROW(load_model(path), Error);
  k.noise_diurnal_share = 0, k.diurnal_shape.clear();
  // Version 9: the skew round-trips; one beyond 0.5 is refused.
  for (int h = 0; h < 24; ++h) k.smooth_skew.push_back(0.02f * h - 0.2f);
  save_model(m, path, true);
  EXPECT_EQ(load_model(path).cells[1].calibration.smooth_skew, k.smooth_skew);
  k.smooth_skew[5] = 0.6f;
  save_model(m, path, true);
  EXPECT_THROW(load_model(path), Error);
  k.smooth_skew.clear();
  // The skewed noise has mean 0 and variance 1 (sums on a fine grid of s, weighted by the normal density).
  for (double g : {-0.5, 0.1, 0.3}) {
    double mean = 0, square = 0, weights = 0;
    for (int i = -800; i <= 800; ++i) {
      const double s = i * 0.01, w = std::exp(-s * s / 2), v = SkewedNormal(g)(s);
      mean += w * v, square += w * v * v, weights += w;
    }
    EXPECT_NEAR(mean / weights, 0.0, 1e-6) << g;
    EXPECT_NEAR(square / weights, 1.0, 1e-6) << g;
  }
  EXPECT_EQ(SkewedNormal(0.0)(1.25), 1.25);
  EXPECT_LT(SkewedNormal(-0.3)(0.5), SkewedNormal(-0.3)(0.6));  // increasing for either sign
  EXPECT_NEAR(SkewedNormal(-0.3)(0.5), -SkewedNormal(0.3)(-0.5), 1e-12);
  // Loadings that would give a cell more than unit variance are refused.
  m.loadings[0] = 1.5f;
  save_model(m, path, true);
  EXPECT_THROW(load_model(path), Error);
  std::remove(path.c_str());
}

// Calibration noise: unit variance, hour-to-hour correlation phi, any chunk equal to the same hours
// of the whole (bit for bit); monthly values interpolated without a jump at a month's end.
TEST(Calibration, NoiseHasUnitVarianceAndPersistenceAndChunksMatch) {
  const double phi = 0.95;
  const auto normal = [](int64_t t) { return standard_normal(stream_key(9, 1), static_cast<uint64_t>(t)); };
  std::vector<float> whole(200000);
  calibration_noise(phi, 0, static_cast<int64_t>(whole.size()), normal, whole.data());
  double sq = 0, lag = 0;
  for (size_t t = 1; t < whole.size(); ++t) sq += whole[t] * whole[t], lag += whole[t] * whole[t - 1];
  EXPECT_NEAR(sq / whole.size(), 1.0, 0.05);
  EXPECT_NEAR(lag / sq, phi, 0.01);
  for (int64_t first : {0, 1, 63, 64, 1000, 4321}) {
    std::vector<float> part(777);
    calibration_noise(phi, first, 777, normal, part.data());
    for (int64_t t = 0; t < 777; ++t) ASSERT_EQ(part[t], whole[first + t]) << "chunk from " << first;
  }
  // Two stages: unit variance, the autocorrelation of two AR(1) stages, chunks equal to the whole.
  std::vector<float> staged(whole.size());
  staged_noise(phi, 2, 0, static_cast<int64_t>(staged.size()), normal, staged.data());
  double s2 = 0, at24 = 0, at1 = 0;
  for (size_t t = 24; t < staged.size(); ++t)
    s2 += staged[t] * staged[t], at24 += staged[t] * staged[t - 24], at1 += staged[t] * staged[t - 1];
  EXPECT_NEAR(s2 / (staged.size() - 24), 1.0, 0.08);
  EXPECT_NEAR(at24 / s2, staged_noise_autocorrelation(phi, 2, 24), 0.04);
  EXPECT_NEAR(at1 / s2, staged_noise_autocorrelation(phi, 2, 1), 0.01);
  EXPECT_GT(staged_noise_autocorrelation(phi, 2, 24), staged_noise_autocorrelation(phi, 1, 24) + 0.2);
  for (int64_t first : {0, 1, 63, 64, 1000, 4321}) {
    std::vector<float> part(777);
    staged_noise(phi, 2, first, 777, normal, part.data());
    for (int64_t t = 0; t < 777; ++t) ASSERT_EQ(part[t], staged[first + t]) << "two stages, chunk from " << first;
  }
  std::vector<float> monthly(12);
  for (int i = 0; i < 12; ++i) monthly[i] = float(i);
  EXPECT_NEAR(monthly_interpolated(monthly, hours_from_civil({2021, 1, 16, 12})), 0.0, 0.02);  // mid-January
  const double before = monthly_interpolated(monthly, hours_from_civil({2021, 3, 31, 23}));
  const double after = monthly_interpolated(monthly, hours_from_civil({2021, 4, 1, 0}));
  EXPECT_NEAR(before, 2.5, 0.02);
  EXPECT_NEAR(after - before, 0.0, 0.01);
}

// The diurnal mode (a 24-hour shape times a slowly varying amplitude) has the autocorrelation that
// the calibration fit assumes: negative half a day on, high again a day on.
TEST(Calibration, DiurnalModeRepeatsAtTheSameHourTheNextDay) {
  const double phi = 0.93;
  std::vector<float> shape(24);
  for (int h = 0; h < 24; ++h) shape[h] = static_cast<float>(std::sqrt(2.0) * std::cos(2 * 3.14159265358979 * h / 24));
  const auto normal = [](int64_t t) { return standard_normal(stream_key(5, 3), static_cast<uint64_t>(t)); };
  std::vector<float> mode(400000);
  staged_noise(phi, 2, 0, static_cast<int64_t>(mode.size()), normal, mode.data());
  for (size_t t = 0; t < mode.size(); ++t) mode[t] *= shape[t % 24];
  const auto acf = [&](int lag) {
    double sq = 0, cross = 0;
    for (size_t t = size_t(lag); t < mode.size(); ++t) sq += mode[t] * mode[t], cross += mode[t] * mode[t - lag];
    return cross / sq;
  };
  for (int lag : {1, 6, 12, 24, 48})
    EXPECT_NEAR(acf(lag), diurnal_mode_autocorrelation(phi, shape, lag), 0.03) << "lag " << lag << " h";
  EXPECT_LT(diurnal_mode_autocorrelation(phi, shape, 12), -0.3);
  EXPECT_GT(diurnal_mode_autocorrelation(phi, shape, 24), 0.3);
}

TEST(ModelFile, RefusesMeaninglessValuesNamingTheField) {
  const std::string path = temp_path("meaningless.model");
  const auto refused = [&](const std::function<void(ModelFile&)>& damage, const std::string& needle) {
    ModelFile m = small_model(6);
    damage(m);
    save_model(m, path, true);  // the checksum is valid: only the values are wrong
    try {
      load_model(path);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused([](ModelFile& m) { m.parameters[7] = NAN; }, "weight 7 nan is outside");
  refused([](ModelFile& m) { m.parameters[2] = 1e30f; }, "weight 2 1.0000000150474662e+30");
  refused([](ModelFile& m) { m.cells[0].scale_k = 0; }, "cell 0 scale_k 0 is outside 0.01..50");
  refused([](ModelFile& m) { m.cells[0].scale_k = -7; }, "cell 0 scale_k -7");
  refused([](ModelFile& m) { m.cells[0].scale_k = 1e308; }, "cell 0 scale_k 1e+308");
  refused([](ModelFile& m) { m.reference_year = -5; }, "reference_year -5 is outside 1..9999");
  refused([](ModelFile& m) { m.reference_year = 2147483647; }, "reference_year 2147483647");
  refused([](ModelFile& m) { m.cells[0].utc_offset_hours = 2000000000; }, "cell 0 utc_offset_hours 2000000000");
  refused([](ModelFile& m) { m.cells[0].latitude = 1000; }, "cell 0 latitude 1000 is outside -90..90");
  refused([](ModelFile& m) { m.cells[0].longitude = -400; }, "cell 0 longitude -400");
  refused([](ModelFile& m) { m.cells[0].offset_k = 0; }, "cell 0 offset_k 0 is outside 170..340");
  refused([](ModelFile& m) { m.cells[0].trend_k_per_year = -13; }, "cell 0 trend_k_per_year -13");
  std::remove(path.c_str());
}

TEST(ModelFile, RejectsCorruptTruncatedAndForeignFiles) {
  const ModelFile m = small_model(4);
  const std::string path = temp_path("bad.model");
  save_model(m, path, true);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << content;
    }
    try {
      load_model(path);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  std::string flipped = bytes;
  flipped[flipped.size() - 100] ^= 0x40;
  expect_error(flipped, "checksum");
  expect_error(bytes.substr(0, bytes.size() - 1000), "truncated");
  expect_error(bytes.substr(0, 200), "truncated");
  expect_error("CDF\x02 this is a netcdf file", "not a climvae model");
  std::string newer = bytes;
  const std::string next = std::to_string(kModelFormatVersion + 1);  // a version this build does not know
  newer.replace(0, std::string("climvae-model 1").size(), "climvae-model " + next);
  expect_error(newer, "format version " + next);
  EXPECT_THROW(load_model(temp_path("does-not-exist")), Error);
  std::remove(path.c_str());
}

TEST(Generate, MemberDependsOnlyOnSeedMemberCellAndStart) {
  const ModelFile m = small_model(5);
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  TraceRequest r;
  r.start_hour = parse_iso_hour("2022-03-01T05:00");
  r.hours = 500;  // not a multiple of 96, and starts off midnight
  r.seed = 99;
  r.members = 5;
  const std::vector<float> five = generate_traces(vae, m, r);
  r.members = 2;
  const std::vector<float> two = generate_traces(vae, m, r);
  for (int64_t t = 0; t < r.hours; ++t)
    for (int mem = 0; mem < 2; ++mem) ASSERT_EQ(two[t * 2 + mem], five[t * 5 + mem]);
  // Members differ from each other; other seeds differ.
  EXPECT_NE(five[0], five[1]);
  r.seed = 100;
  EXPECT_NE(generate_traces(vae, m, r)[0], two[0]);
  // A trend re-applied 10 years later shifts every value by 10 * trend exactly (to float precision).
  r.seed = 99;
  r.scenario.path = Scenario::Path::learned_trend;
  r.scenario.slice_year = 2032;
  const std::vector<float> warm = generate_traces(vae, m, r);
  for (size_t i = 0; i < warm.size(); ++i) EXPECT_NEAR(warm[i] - two[i], 0.5, 1e-4);
}

// The temporal prior's samples: every step keeps the seasonal marginal N(m, s²), and consecutive
// standardised steps correlate by ρ (here tanh(0.7) = 0.604 on every feature), so blocks persist.
TEST(TemporalPrior, SamplesKeepTheMarginalAndCorrelateByRho) {
  VaeConfig config;
  config.prior = PriorKind::temporal;
  Vae vae(config);
  vae.initialize(3);
  const ParamSlice& ar = vae.params().layout.find("prior_ar.kernel");
  Kokkos::deep_copy(Kokkos::subview(vae.params().values, Kokkos::make_pair(ar.offset, ar.offset + config.latent)), 0.7f);
  const int batch = 64, steps = 200, nz = config.latent;
  View3 season("season", batch, steps, kSeasonalFeatures), eps("eps", batch, steps, nz), z("z", batch, steps, nz);
  View3 marginal("marginal", batch, steps, 2 * nz);
  {
    auto s = Kokkos::create_mirror_view(season);
    auto e = Kokkos::create_mirror_view(eps);
    for (int b = 0; b < batch; ++b) seasonal_features(24 * (17 * b), steps, &s(b, 0, 0));
    for (int b = 0; b < batch; ++b)
      for (int t = 0; t < steps; ++t)
        for (int f = 0; f < nz; ++f) e(b, t, f) = standard_normal(stream_key(5, b), uint64_t(t * nz + f));
    Kokkos::deep_copy(season, s);
    Kokkos::deep_copy(eps, e);
  }
  vae.sample_prior(season, CellIndices(), eps, z);
  vae.prior(season, marginal);
  auto zh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), z);
  auto ph = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), marginal);
  double sum = 0, sq = 0, lag = 0;
  size_t n = 0, pairs = 0;
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < steps; ++t)
      for (int f = 0; f < nz; ++f) {
        const double u = (zh(b, t, f) - ph(b, t, f)) / std::exp(0.5 * ph(b, t, nz + f));
        sum += u;
        sq += u * u;
        ++n;
        if (t > 0) {
          lag += u * (zh(b, t - 1, f) - ph(b, t - 1, f)) / std::exp(0.5 * ph(b, t - 1, nz + f));
          ++pairs;
        }
      }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sq / n, 1.0, 0.03);
  EXPECT_NEAR(lag / pairs, std::tanh(0.7), 0.02);
}

TEST(Generate, RefusesNonsenseRequests) {
  const ModelFile m = small_model(6);
  Vae vae(m.config);
  load_parameters(vae, m.parameters);
  TraceRequest r;
  r.hours = 0;
  EXPECT_THROW(generate_traces(vae, m, r), Error);
  r.hours = 10;
  r.members = 0;
  EXPECT_THROW(generate_traces(vae, m, r), Error);
  r.members = 1;
  r.cell = 3;
  EXPECT_THROW(generate_traces(vae, m, r), Error);
}
