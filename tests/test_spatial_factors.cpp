// Spatial factors (src/train/spatial_factors.*): loadings fitted to rows with a known factor
// structure reproduce the rows' correlations, unknown values are skipped, and the fit does not
// depend on how the rows are split over ranks (bit for bit). Generation: two cells of one member
// share their innovations through the factors, and a cell generated alone equals the same cell
// of a many-cell request.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/calendar.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "test_support.hpp"
#include "train/spatial_factors.hpp"

using namespace climvae;
using namespace climvae::testing;

namespace {

constexpr int kRows = 6, kBlocks = 600;

// Rows 0-2 load on factor A (0.9, 0.8, 0.7), rows 3-4 on factor B (0.8, 0.6), row 5 on nothing;
// about 10 % of the values unknown.
LatentRows synthetic_rows() {
  const double load[kRows][2] = {{0.9, 0}, {0.8, 0}, {0.7, 0}, {0, 0.8}, {0, 0.6}, {0, 0}};
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  LatentRows rows;
  rows.blocks = kBlocks;
  rows.values.resize(size_t(kRows) * kBlocks);
  for (int t = 0; t < kBlocks; ++t) {
    const double a = normal(rng), b = normal(rng);
    for (int r = 0; r < kRows; ++r) {
      const double l2 = load[r][0] * load[r][0] + load[r][1] * load[r][1];
      const double v = 3.0 + 2.0 * (load[r][0] * a + load[r][1] * b + std::sqrt(1 - l2) * normal(rng));
      rows.values[size_t(r) * kBlocks + t] = uniform(rng) < 0.1 ? NAN : static_cast<float>(v);
    }
  }
  return rows;
}

double modelled(const std::vector<float>& l, int k, int r, int s) {
  double sum = 0;
  for (int i = 0; i < k; ++i) sum += double(l[r * k + i]) * l[s * k + i];
  return sum;
}

// This rank's share of kRows rows, and those rows of `all`.
CellRange my_rows() {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  return cell_share(kRows, rank, ranks);
}

LatentRows rows_of(const LatentRows& all, CellRange mine) {
  LatentRows share;
  share.blocks = kBlocks;
  share.values.assign(all.values.begin() + size_t(mine.first) * kBlocks,
                      all.values.begin() + size_t(mine.first + mine.count) * kBlocks);
  return share;
}

}  // namespace

TEST(SpatialFactors, LoadingsReproduceTheCorrelationsOfTheRows) {
  const LatentRows rows = synthetic_rows();
  const std::vector<float> l = fit_factor_loadings(rows, 2, MPI_COMM_SELF);
  ASSERT_EQ(l.size(), size_t(kRows) * 2);
  EXPECT_NEAR(modelled(l, 2, 0, 1), 0.72, 0.08);
  EXPECT_NEAR(modelled(l, 2, 1, 2), 0.56, 0.08);
  EXPECT_NEAR(modelled(l, 2, 3, 4), 0.48, 0.08);
  EXPECT_NEAR(modelled(l, 2, 0, 3), 0.0, 0.08);
  EXPECT_NEAR(modelled(l, 2, 5, 5), 0.0, 0.05);  // no shared weather
  for (int r = 0; r < kRows; ++r) EXPECT_LE(modelled(l, 2, r, r), 0.99 + 1e-6);
}

// Six rows of nearly the same weather (Beijing's stations: 0.97-0.99), fitted with more factors
// than they need: the shared part must still be found (EM converges slowly near communality 1).
TEST(SpatialFactors, NearlyIdenticalRowsGetCommunalityNearOne) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  LatentRows rows;
  rows.blocks = 1400;
  rows.values.resize(size_t(6) * rows.blocks);
  for (int t = 0; t < rows.blocks; ++t) {
    const double a = normal(rng);
    for (int r = 0; r < 6; ++r) rows.values[size_t(r) * rows.blocks + t] = static_cast<float>(0.985 * a + 0.17 * normal(rng));
  }
  const std::vector<float> l = fit_factor_loadings(rows, 3, MPI_COMM_SELF);
  for (int r = 0; r < 6; ++r)
    for (int s = r + 1; s < 6; ++s) EXPECT_NEAR(modelled(l, 3, r, s), 0.97, 0.02) << r << "," << s;
}

// Three cells of four features: within a cell the features share two strong factors of their
// own (0.8 each), across cells only feature 0 shares weather (0.5, so 0.25 between cells). With
// the cells' rows decorrelated first, K = 2 factors find the cross-cell part; without, they go to
// one cell's own structure and the cells come out nearly unrelated.
TEST(SpatialFactors, CellsOwnStructureDoesNotTakeTheFactors) {
  constexpr int kCells = 3, kFeatures = 4, blocks = 1500;
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  LatentRows rows;
  rows.blocks = blocks;
  rows.values.resize(size_t(kCells) * kFeatures * blocks);
  const double own[kFeatures][2] = {{0.6, 0.0}, {0.8, 0.3}, {0.3, 0.8}, {0.0, 0.8}};
  for (int t = 0; t < blocks; ++t) {
    const double shared = normal(rng);
    for (int c = 0; c < kCells; ++c) {
      const double a = normal(rng), b = normal(rng);
      for (int i = 0; i < kFeatures; ++i) {
        const double cross = i == 0 ? 0.5 : 0.0;
        const double rest = 1 - cross * cross - own[i][0] * own[i][0] - own[i][1] * own[i][1];
        const double v = cross * shared + own[i][0] * a + own[i][1] * b + std::sqrt(rest) * normal(rng);
        rows.values[(size_t(c) * kFeatures + i) * blocks + t] = static_cast<float>(v);
      }
    }
  }
  const std::vector<float> whitened = fit_factor_loadings(rows, 2, MPI_COMM_SELF, kFeatures, 300);
  const std::vector<float> plain = fit_factor_loadings(rows, 2, MPI_COMM_SELF, 1, 300);
  double worst_whitened = 0, worst_plain = 0;
  for (int c = 0; c < kCells; ++c)
    for (int d = c + 1; d < kCells; ++d) {
      worst_whitened = std::max(worst_whitened, std::fabs(modelled(whitened, 2, c * kFeatures, d * kFeatures) - 0.25));
      worst_plain = std::max(worst_plain, std::fabs(modelled(plain, 2, c * kFeatures, d * kFeatures) - 0.25));
      for (int i = 1; i < kFeatures; ++i)  // nothing else is shared between cells
        EXPECT_NEAR(modelled(whitened, 2, c * kFeatures + i, d * kFeatures + i), 0.0, 0.06) << c << "," << d << "," << i;
    }
  EXPECT_LT(worst_whitened, 0.05);
  EXPECT_GT(worst_plain, 0.15);  // the failure this guards against
  for (int r = 0; r < kCells * kFeatures; ++r) EXPECT_LE(modelled(whitened, 2, r, r), 0.99 + 1e-6);
}

TEST(SpatialFactors, FitIsTheSameForAnySplitOverRanks) {
  const LatentRows all = synthetic_rows();
  const std::vector<float> alone = fit_factor_loadings(all, 3, MPI_COMM_SELF);
  const CellRange mine = my_rows();
  const LatentRows share = rows_of(all, mine);
  const std::vector<float> split = gather_rows(fit_factor_loadings(share, 3, MPI_COMM_WORLD), MPI_COMM_WORLD);
  ASSERT_EQ(split.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) ASSERT_EQ(split[i], alone[i]) << "loading " << i;
}

// The factor count the data support: the two factors synthetic_rows has, and one (the least on
// offer) for two cells of ten independent features that share only 100 of 1,000 blocks (as Paris
// and Melbourne share about 100 four-day blocks), where more factors only fit chance. The
// criterion is the same for any split over ranks, bit for bit, and the chosen fit is returned
// as it would be fitted again.
TEST(SpatialFactors, FactorCountByBicIsWhatTheDataSupportForAnySplit) {
  const LatentRows all = synthetic_rows();
  std::vector<double> alone_bic, split_bic;
  EXPECT_EQ(factor_count_by_bic(all, 4, MPI_COMM_SELF, 1, 2000, &alone_bic), 2);
  ASSERT_EQ(alone_bic.size(), 5u);
  for (int k : {1, 2, 4}) EXPECT_TRUE(std::isfinite(alone_bic[k])) << k;
  EXPECT_TRUE(std::isnan(alone_bic[3]));  // not on offer
  const int split = factor_count_by_bic(rows_of(all, my_rows()), 4, MPI_COMM_WORLD, 1, 2000, &split_bic);
  EXPECT_EQ(split, 2);
  for (int k : {1, 2, 4}) EXPECT_EQ(split_bic[k], alone_bic[k]) << k;

  constexpr int kFeatures = 10, blocks = 1000;
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  LatentRows cells;
  cells.blocks = blocks;
  cells.values.resize(size_t(2) * kFeatures * blocks);
  for (int r = 0; r < 2 * kFeatures; ++r)
    for (int t = 0; t < blocks; ++t)
      cells.values[size_t(r) * blocks + t] = r >= kFeatures && t < 900 ? NAN : static_cast<float>(normal(rng));
  std::vector<float> chosen;  // the chosen fit itself, as fit_factor_loadings gives it
  const int k = factor_count_by_bic(cells, 8, MPI_COMM_SELF, kFeatures, 300, nullptr, &chosen);
  EXPECT_EQ(k, 1);
  EXPECT_EQ(chosen, fit_factor_loadings(cells, k, MPI_COMM_SELF, kFeatures, 300, true));
}

// The weighted cross-correlation of each row equals sum_{d != c} (l_c . l_d) corr(c, d) computed
// pair by pair (unknown values as no anomaly), and is the same for any split over ranks.
TEST(SpatialFactors, WeightedCrossCorrelationIsThePairSumForAnySplit) {
  const LatentRows all = synthetic_rows();
  const int k = 2;
  std::vector<float> weights(size_t(kRows) * k);
  for (int r = 0; r < kRows; ++r) weights[r * k] = 0.3f + 0.1f * r, weights[r * k + 1] = r % 2 ? 0.5f : -0.2f;
  std::vector<std::vector<double>> z(kRows, std::vector<double>(kBlocks, 0.0));
  std::vector<double> known(kRows, 0.0);
  for (int r = 0; r < kRows; ++r) {
    double n = 0, sum = 0, sq = 0;
    for (int t = 0; t < kBlocks; ++t)
      if (std::isfinite(all.values[r * kBlocks + t])) n += 1, sum += all.values[r * kBlocks + t];
    for (int t = 0; t < kBlocks; ++t)
      if (std::isfinite(all.values[r * kBlocks + t])) sq += std::pow(all.values[r * kBlocks + t] - sum / n, 2);
    for (int t = 0; t < kBlocks; ++t)
      if (std::isfinite(all.values[r * kBlocks + t])) z[r][t] = (all.values[r * kBlocks + t] - sum / n) / std::sqrt(sq / n);
    known[r] = n;
  }
  const std::vector<double> alone = weighted_cross_correlation(all, weights, k, MPI_COMM_SELF);
  ASSERT_EQ(alone.size(), size_t(kRows));
  for (int c = 0; c < kRows; ++c) {
    double expected = 0;
    for (int d = 0; d < kRows; ++d) {
      if (d == c) continue;
      double cross = 0;
      for (int t = 0; t < kBlocks; ++t) cross += z[c][t] * z[d][t];
      expected += modelled(weights, k, c, d) * cross / known[c];
    }
    EXPECT_NEAR(alone[c], expected, 1e-4) << "row " << c;
  }
  const CellRange mine = my_rows();
  const LatentRows share = rows_of(all, mine);
  const std::vector<float> my_weights(weights.begin() + mine.first * k, weights.begin() + (mine.first + mine.count) * k);
  const std::vector<double> split = weighted_cross_correlation(share, my_weights, k, MPI_COMM_WORLD);
  for (int i = 0; i < mine.count; ++i) ASSERT_EQ(split[i], alone[mine.first + i]) << "row " << mine.first + i;
}

// A cell whose loadings share some directions more than 0.998 (L L^T's eigenvalues 1.3 and 0.4):
// the cap brings the first down to 0.998 and leaves the second as it is.
TEST(SpatialFactors, SharedDirectionsAreCappedAndTheRestKept) {
  const int latent = 2, k = 3;
  // Orthogonal rows: (1, 0.5, sqrt 0.05) of squared norm 1.3, and (0.5, -1, 0) scaled to 0.4.
  const float s = std::sqrt(0.4f / 1.25f);
  std::vector<float> l = {1.0f, 0.5f, std::sqrt(0.05f), 0.5f * s, -1.0f * s, 0.0f};
  const std::vector<float> before = l;
  cap_shared_directions(l, latent, k);
  EXPECT_NEAR(modelled(l, k, 0, 0), 0.998, 1e-4);
  EXPECT_NEAR(modelled(l, k, 1, 1), modelled(before, k, 1, 1), 1e-4);
  EXPECT_NEAR(modelled(l, k, 0, 1), 0.0, 1e-4);
  for (int q = 0; q < k; ++q) EXPECT_NEAR(l[k + q], before[k + q], 1e-4);  // the weaker direction untouched
  std::vector<float> small = {0.3f, 0.1f, 0.0f, 0.1f, 0.2f, 0.4f};  // below the cap: unchanged
  const std::vector<float> kept = small;
  cap_shared_directions(small, latent, k);
  EXPECT_EQ(small, kept);
}

TEST(SpatialFactors, CalendarBlocksAdvanceOnePerStepAndAlignNearby) {
  // Blocks are local days 4j .. 4j+3 since 1970; a step starting on day d belongs to block round(d / 4).
  EXPECT_EQ(calendar_block(0, 0), 0);
  EXPECT_EQ(calendar_block(24 * 1 + 5, 0), 0);   // day 1 (any hour of it): block 0
  EXPECT_EQ(calendar_block(24 * 2, 0), 1);       // day 2: block 1
  EXPECT_EQ(calendar_block(24 * 4, 3), 4);       // day 4 + 12
  EXPECT_EQ(calendar_block(-24 * 3, 0), -1);     // before 1970: day -3 -> block -1
  const int64_t midnight = hours_from_civil({2020, 1, 1, 0});
  EXPECT_EQ(calendar_block(midnight, 5), calendar_block(midnight, 0) + 5);
}

// A two-cell model whose cells load fully on one factor (0.99): the same member of both cells
// is strongly correlated, `spatial = false` makes them independent, and each cell alone equals
// itself in any request.
TEST(SpatialFactors, GeneratedCellsShareTheirWeather) {
  VaeConfig config;
  config.prior = PriorKind::temporal;
  Vae vae(config);
  vae.initialize(3);
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  m.reference_year = 2020;
  for (double lon : {10.0, 11.0}) m.cells.push_back({50.0, lon, 1, 0.0, 283.0, 6.0});
  m.spatial_factors = 1;
  m.loadings.assign(2 * config.latent, std::sqrt(0.99f));
  TraceRequest r;
  r.start_hour = hours_from_civil({2020, 1, 1, 0});
  r.hours = 24 * 365;
  r.members = 8;
  r.seed = 4;
  // Correlation of the two cells' deviations from their ensemble means (the shared seasonal and
  // diurnal cycle removed), member m against member m.
  auto correlation = [&](bool spatial) {
    r.spatial = spatial;
    std::vector<double> dev[2];
    for (int c = 0; c < 2; ++c) {
      r.cell = c;
      const std::vector<float> v = generate_traces(vae, m, r);
      for (int64_t t = 0; t < r.hours; ++t) {
        double mean = 0;
        for (int k = 0; k < r.members; ++k) mean += v[t * r.members + k] / r.members;
        for (int k = 0; k < r.members; ++k) dev[c].push_back(v[t * r.members + k] - mean);
      }
    }
    double aa = 0, bb = 0, ab = 0;
    for (size_t i = 0; i < dev[0].size(); ++i) aa += dev[0][i] * dev[0][i], bb += dev[1][i] * dev[1][i], ab += dev[0][i] * dev[1][i];
    return ab / std::sqrt(aa * bb);
  };
  EXPECT_GT(correlation(true), 0.9);
  EXPECT_LT(std::abs(correlation(false)), 0.3);
  // Member 5 of cell 1 alone equals member 5 of the eight.
  r.spatial = true;
  r.cell = 1;
  const std::vector<float> eight = generate_traces(vae, m, r);
  r.first_member = 5;
  r.members = 1;
  const std::vector<float> one = generate_traces(vae, m, r);
  for (int64_t t = 0; t < r.hours; ++t) ASSERT_EQ(one[t], eight[t * 8 + 5]);
}
