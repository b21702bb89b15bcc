#include "train/spatial_factors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "common/linear_solve.hpp"
#include "common/seasonal_cycle.hpp"
#include "engine/random.hpp"
#include "generate/generator.hpp"
#include "model/seasonal.hpp"
#include "model/standardise.hpp"

namespace climvae {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kWindowBlocks = 16;  // encode 64 days at a time, as in training
constexpr double kRidge = 1e-3;    // keeps the small systems solvable with few known values
constexpr double kFixedPoint = 1048576.0;  // 2^20: cross-rank sums in int64 are exact, so order-free
constexpr double kCoarseFixedPoint = 1024.0;  // for the log-likelihood's large sums (enough for comparing fits)
constexpr double kMaxCommunality = 0.998;  // every cell keeps some weather of its own
constexpr double kMinOwnVariance = 0.005;  // of a standardised row: keeps the E step well posed

// Each row of `loadings` (rows x k) scaled down to a sum of squares of at most kMaxCommunality.
void cap_communality(std::vector<float>& loadings, int k) {
  for (size_t r = 0; r < loadings.size() / k; ++r) {
    double row = 0;
    for (int j = 0; j < k; ++j) row += double(loadings[r * k + j]) * loadings[r * k + j];
    const double cap = row > kMaxCommunality ? std::sqrt(kMaxCommunality / row) : 1.0;
    for (int j = 0; j < k; ++j) loadings[r * k + j] = static_cast<float>(loadings[r * k + j] * cap);
  }
}

// out = a^-1 for the symmetric positive definite k x k matrix a (Gauss-Jordan; a is overwritten).
void invert(std::vector<double>& a, int k, double* out) {
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) out[i * k + j] = i == j ? 1.0 : 0.0;
  for (int c = 0; c < k; ++c) {
    const double d = a[c * k + c];
    for (int j = 0; j < k; ++j) a[c * k + j] /= d, out[c * k + j] /= d;
    for (int r = 0; r < k; ++r) {
      if (r == c) continue;
      const double f = a[r * k + c];
      for (int j = 0; j < k; ++j) a[r * k + j] -= f * a[c * k + j], out[r * k + j] -= f * out[c * k + j];
    }
  }
}

// log det a for the symmetric positive definite k x k matrix a (Cholesky).
double log_determinant(const std::vector<double>& a, int k) {
  std::vector<double> c(a);
  double sum = 0;
  for (int j = 0; j < k; ++j) {
    double d = c[j * k + j];
    for (int q = 0; q < j; ++q) d -= c[j * k + q] * c[j * k + q];
    d = std::sqrt(std::max(d, 1e-300));
    c[j * k + j] = d;
    sum += 2 * std::log(d);
    for (int i = j + 1; i < k; ++i) {
      double v = c[i * k + j];
      for (int q = 0; q < j; ++q) v -= c[i * k + q] * c[j * k + q];
      c[i * k + j] = v / d;
    }
  }
  return sum;
}

// Rows standardised over their known values (NaN stays NaN); rows that barely vary become unknown.
std::vector<double> standardised(const LatentRows& rows) {
  std::vector<double> z(rows.values.begin(), rows.values.end());
  for (int r = 0; r < rows.rows(); ++r) {
    double* row = z.data() + size_t(r) * rows.blocks;
    double n = 0, sum = 0, sq = 0;
    for (int t = 0; t < rows.blocks; ++t)
      if (std::isfinite(row[t])) n += 1, sum += row[t];
    const double mean = n > 0 ? sum / n : 0;
    for (int t = 0; t < rows.blocks; ++t)
      if (std::isfinite(row[t])) sq += (row[t] - mean) * (row[t] - mean);
    const double sd = n > 1 ? std::sqrt(sq / n) : 0;
    for (int t = 0; t < rows.blocks; ++t) row[t] = sd > 1e-6 ? (row[t] - mean) / sd : kNaN;
  }
  return z;
}

// One cell's rows decorrelated among themselves: z_c <- S^-1/2 z_c, with S their correlation over
// the blocks where all are known (eigenvalues floored: a direction the rows barely span is not
// blown up). The factors then fit what cells share with each other, not the structure among one
// cell's own features (test: CellsOwnStructureDoesNotTakeTheFactors). Returns S^1/2 (rows x rows,
// row-major) to map the loadings back.
std::vector<double> whiten_cell(double* z, int rows, int blocks) {
  std::vector<int> live;  // rows that vary (standardised leaves the others NaN)
  for (int r = 0; r < rows; ++r)
    for (int t = 0; t < blocks; ++t)
      if (std::isfinite(z[size_t(r) * blocks + t])) {
        live.push_back(r);
        break;
      }
  const int n = static_cast<int>(live.size());
  std::vector<double> root(size_t(rows) * rows, 0.0);
  for (int r = 0; r < rows; ++r) root[r * rows + r] = 1.0;
  if (n < 2) return root;
  std::vector<bool> complete(blocks, true);
  for (int t = 0; t < blocks; ++t)
    for (int r : live) complete[t] = complete[t] && std::isfinite(z[size_t(r) * blocks + t]);
  std::vector<double> cov(size_t(n) * n, 0.0);
  double count = 0;
  for (int t = 0; t < blocks; ++t) {
    if (!complete[t]) continue;
    count += 1;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) cov[i * n + j] += z[size_t(live[i]) * blocks + t] * z[size_t(live[j]) * blocks + t];
  }
  if (count < 2 * n) return root;  // too few blocks to tell: left as it is
  for (double& c : cov) c /= count;
  std::vector<double> w, v;
  symmetric_eigen(cov, n, w, v);
  for (double& e : w) e = std::max(e, 0.05);
  std::vector<double> inverse_root(size_t(n) * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double inverse = 0, forward = 0;
      for (int e = 0; e < n; ++e) {
        const double vv = v[i * n + e] * v[j * n + e];
        inverse += vv / std::sqrt(w[e]), forward += vv * std::sqrt(w[e]);
      }
      inverse_root[i * n + j] = inverse;
      root[live[i] * rows + live[j]] = forward;
    }
  std::vector<double> y(n);
  for (int t = 0; t < blocks; ++t) {
    if (!complete[t]) {
      for (int r : live) z[size_t(r) * blocks + t] = kNaN;
      continue;
    }
    for (int i = 0; i < n; ++i) {
      y[i] = 0;
      for (int j = 0; j < n; ++j) y[i] += inverse_root[i * n + j] * z[size_t(live[j]) * blocks + t];
    }
    for (int i = 0; i < n; ++i) z[size_t(live[i]) * blocks + t] = y[i];
  }
  return root;
}

// Factor analysis by EM over the known values (Rubin & Thayer 1982, rows missing at a block drop
// out of that block's sums): z_rt = l_r . xi_t + e_rt, xi_t ~ N(0, I), e_rt ~ N(0, psi_r). Unlike
// plain PCA it leaves each row's own variance psi_r out of the shared part, so weakly related
// rows do not get correlated loadings.
struct FactorModel {
  int k = 0;
  std::vector<double> l, psi;  // (rows, k), (rows)
};

// E step, collective: each block's posterior mean m_t and covariance V_t of the factors, from
// sums over all rows of every rank in fixed point (exact, so independent of the ranks' split).
// With `log_likelihood`, also the data's log-likelihood under the model (Woodbury: with
// P_t = I + sum_r l_r l_r^T / psi_r and b_t = sum_r l_r z_rt / psi_r over the rows known at t,
// log det Sigma_t = log det P_t + sum log psi_r and z^T Sigma_t^-1 z = sum z^2 / psi_r - b_t . m_t).
void expect_factors(const std::vector<double>& z, int blocks, const FactorModel& f, std::vector<double>& mean,
                    std::vector<double>& cov, MPI_Comm comm, double* log_likelihood = nullptr) {
  const int k = f.k, rows = static_cast<int>(f.psi.size()), per_block = k * k + k;
  std::vector<long long> sums(size_t(blocks) * per_block + 1, 0);  // the last: the rows' own terms
  long long& own_terms = sums.back();
  constexpr double kLog2Pi = 1.8378770664093453;
  for (int r = 0; r < rows; ++r)
    for (int t = 0; t < blocks; ++t) {
      const double v = z[size_t(r) * blocks + t];
      if (!std::isfinite(v)) continue;
      long long* s = sums.data() + size_t(t) * per_block;
      const double* lr = f.l.data() + size_t(r) * k;
      for (int i = 0; i < k; ++i) {
        for (int j = 0; j < k; ++j) s[i * k + j] += std::llround(lr[i] * lr[j] / f.psi[r] * kFixedPoint);
        s[k * k + i] += std::llround(v * lr[i] / f.psi[r] * kFixedPoint);
      }
      if (log_likelihood) own_terms += std::llround((kLog2Pi + std::log(f.psi[r]) + v * v / f.psi[r]) * kCoarseFixedPoint);
    }
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_LONG_LONG, MPI_SUM, comm);
  double shared_terms = 0;
  for (int t = 0; t < blocks; ++t) {
    const long long* s = sums.data() + size_t(t) * per_block;
    std::vector<double> precision(size_t(k) * k), b(k);
    for (int i = 0; i < k * k; ++i) precision[i] = s[i] / kFixedPoint;
    for (int i = 0; i < k; ++i) precision[i * k + i] += 1.0, b[i] = s[k * k + i] / kFixedPoint;
    const std::vector<double> m = solve_linear(precision, b);
    std::copy(m.begin(), m.end(), mean.begin() + size_t(t) * k);
    if (log_likelihood) {
      shared_terms += log_determinant(precision, k);
      for (int i = 0; i < k; ++i) shared_terms -= b[i] * m[i];
    }
    invert(precision, k, cov.data() + size_t(t) * k * k);
  }
  if (log_likelihood) *log_likelihood = -0.5 * (own_terms / kCoarseFixedPoint + shared_terms);
}

// M step, local: each row's loadings and own variance from its known blocks.
void maximise_rows(const std::vector<double>& z, int blocks, const std::vector<double>& mean,
                   const std::vector<double>& cov, FactorModel& f) {
  const int k = f.k, rows = static_cast<int>(f.psi.size());
  for (int r = 0; r < rows; ++r) {
    std::vector<double> a(size_t(k) * k, 0.0), b(k, 0.0);
    double sq = 0;
    int known = 0;
    for (int t = 0; t < blocks; ++t) {
      const double v = z[size_t(r) * blocks + t];
      if (!std::isfinite(v)) continue;
      ++known;
      sq += v * v;
      const double* m = mean.data() + size_t(t) * k;
      const double* c = cov.data() + size_t(t) * k * k;
      for (int i = 0; i < k; ++i) {
        b[i] += v * m[i];
        for (int j = 0; j < k; ++j) a[i * k + j] += c[i * k + j] + m[i] * m[j];
      }
    }
    double* lr = f.l.data() + size_t(r) * k;
    if (known < 2 * k) {  // too little data: no shared weather, all its own
      std::fill(lr, lr + k, 0.0);
      f.psi[r] = 1.0;
      continue;
    }
    for (int i = 0; i < k; ++i) a[i * k + i] += kRidge;
    const std::vector<double> x = solve_linear(a, b);
    std::copy(x.begin(), x.end(), lr);
    double explained = 0;
    for (int i = 0; i < k; ++i) explained += lr[i] * b[i];
    f.psi[r] = std::max(kMinOwnVariance, (sq - explained) / known);
  }
}

// Fills `out` with the latent levels of this rank's cells (see latent_levels).
void encode_cells(Vae& vae, const Store& store, const std::vector<int64_t>& first, const std::vector<int64_t>& last,
                  LatentRows& out) {
  const int nz = vae.config().latent, nc = static_cast<int>(store.cells.size());
  const int64_t hours_per_block = Vae::kHoursPerStep;
  for (int c = 0; c < nc; ++c) {
    const CellSeries& cell = store.cells[c];
    const int64_t local0 = store.start_hour + cell.utc_offset_hours;
    std::vector<float> u(size_t(std::max<int64_t>(0, last[c] - first[c])) * nz, kNaN);
    for (int64_t j0 = first[c]; j0 < last[c]; j0 += kWindowBlocks) {
      const int k = static_cast<int>(std::min<int64_t>(kWindowBlocks, last[c] - j0));
      const int64_t i0 = j0 * hours_per_block - local0;  // store index of the window's first hour
      View2 x("climvae::spatial::x", 1, k * hours_per_block);
      View3 season("climvae::spatial::season", 1, k, kSeasonalFeatures), eps("climvae::spatial::eps", 1, k, nz);
      CellIndices cells("climvae::spatial::cells", 1);
      auto xh = Kokkos::create_mirror_view(x);
      bool complete = true;
      for (int64_t h = 0; h < k * hours_per_block && complete; ++h) {
        const double v = standardise(cell, store.detrended_k(c, i0 + h));
        complete = std::isfinite(v);
        xh(0, h) = static_cast<float>(v);
      }
      if (!complete) continue;
      auto sh = Kokkos::create_mirror_view(season);
      seasonal_features(j0 * hours_per_block, k, &sh(0, 0, 0), season_phase_days(cell.latitude));
      Kokkos::deep_copy(x, xh);
      Kokkos::deep_copy(season, sh);
      Kokkos::deep_copy(cells, store.first_cell + c);
      vae.forward_backward(x, season, cells, eps, false);  // eps = 0: z is the posterior mean
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.encoder_output());
      auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.prior_output());
      for (int t = 0; t < k; ++t)
        for (int i = 0; i < nz; ++i) {
          const size_t at = size_t(j0 - first[c] + t) * nz + i;
          u[at] = static_cast<float>((h(0, t, i) - p(0, t, i)) * std::exp(-0.5 * p(0, t, nz + i)));
        }
    }
    // The standardised levels u, not the autoregression's innovations: with the same rho in two
    // cells, levels and innovations correlate alike, but differencing amplifies what the encoder
    // adds to each cell on its own (Beijing: innovations 0.6-0.76, the weather 0.97).
    for (int64_t j = first[c]; j < last[c]; ++j)
      for (int i = 0; i < nz; ++i) {
        const float eta = u[size_t(j - first[c]) * nz + i];
        out.values[(size_t(c) * nz + i) * out.blocks + (j - out.first_block)] = eta;
      }
  }
}

}  // namespace

void cap_shared_directions(std::vector<float>& loadings, int latent, int k) {
  const size_t per_cell = size_t(latent) * k;
  for (size_t c = 0; c < loadings.size() / per_cell; ++c) {
    float* l = loadings.data() + c * per_cell;
    std::vector<double> gram(size_t(latent) * latent, 0.0), w, v;
    for (int i = 0; i < latent; ++i)
      for (int j = 0; j < latent; ++j)
        for (int q = 0; q < k; ++q) gram[i * latent + j] += double(l[i * k + q]) * l[j * k + q];
    symmetric_eigen(gram, latent, w, v);
    if (*std::max_element(w.begin(), w.end()) <= kMaxCommunality) continue;
    std::vector<double> shrink(size_t(latent) * latent, 0.0), out(per_cell, 0.0);  // U diag(s) U^T
    for (int i = 0; i < latent; ++i)
      for (int j = 0; j < latent; ++j)
        for (int e = 0; e < latent; ++e)
          shrink[i * latent + j] += v[i * latent + e] * std::min(1.0, std::sqrt(kMaxCommunality / w[e])) * v[j * latent + e];
    for (int i = 0; i < latent; ++i)
      for (int j = 0; j < latent; ++j)
        for (int q = 0; q < k; ++q) out[i * k + q] += shrink[i * latent + j] * l[j * k + q];
    for (size_t i = 0; i < per_cell; ++i) l[i] = static_cast<float>(out[i]);
  }
}

std::vector<double> weighted_cross_correlation(const LatentRows& rows, const std::vector<float>& weights, int k,
                                               MPI_Comm comm) {
  std::vector<double> z = standardised(rows);
  const int n = rows.rows(), blocks = rows.blocks;
  std::vector<double> known(n, 0.0);
  for (int r = 0; r < n; ++r)
    for (int t = 0; t < blocks; ++t) {
      double& v = z[size_t(r) * blocks + t];
      if (std::isfinite(v)) known[r] += 1;
      else v = 0;
    }
  std::vector<long long> sums(size_t(blocks) * k, 0);
  for (int r = 0; r < n; ++r)
    for (int t = 0; t < blocks; ++t)
      for (int q = 0; q < k; ++q) sums[size_t(t) * k + q] += std::llround(weights[size_t(r) * k + q] * z[size_t(r) * blocks + t] * kFixedPoint);
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_LONG_LONG, MPI_SUM, comm);
  std::vector<double> out(n, 0.0);
  for (int r = 0; r < n; ++r) {
    const float* l = weights.data() + size_t(r) * k;
    double self = 0, cross = 0;
    for (int q = 0; q < k; ++q) self += double(l[q]) * l[q];
    for (int t = 0; t < blocks; ++t) {
      const double v = z[size_t(r) * blocks + t];
      double projected = 0;
      for (int q = 0; q < k; ++q) projected += l[q] * (sums[size_t(t) * k + q] / kFixedPoint);
      cross += v * (projected - self * v);
    }
    out[r] = known[r] > 0 ? cross / known[r] : 0.0;
  }
  return out;
}

namespace {

// The rows as the EM sees them: standardised; with rows_per_cell > 1 each cell's rows decorrelated
// (`roots` gets each cell's S^1/2) and a block a cell has no data for counts as "no anomaly" for
// it: factors then cannot join cells that were never observed together (four sites: Berlin and
// Sydney share no day, yet the EM gave them common factors, which took shared variance from the
// pairs that do share weather).
std::vector<double> em_rows(const LatentRows& rows, int rows_per_cell, std::vector<std::vector<double>>& roots) {
  require(rows_per_cell >= 1 && rows.rows() % rows_per_cell == 0, "spatial factors: rows are not whole cells");
  std::vector<double> z = standardised(rows);
  if (rows_per_cell == 1) return z;
  for (int r0 = 0; r0 < rows.rows(); r0 += rows_per_cell)
    roots.push_back(whiten_cell(z.data() + size_t(r0) * rows.blocks, rows_per_cell, rows.blocks));
  for (double& v : z)
    if (!std::isfinite(v)) v = 0;
  return z;
}

// EM from a fixed start, the same for any split of the rows over ranks (keyed by global row).
// It converges slowly where rows share nearly everything (Beijing: 0.97): iterated until no
// loading moves by more than 1e-5 on any rank. With `log_likelihood`, that of the fitted model.
FactorModel fit_em(const std::vector<double>& z, int rows, int blocks, int k, int iterations, MPI_Comm comm,
                   double* log_likelihood = nullptr) {
  FactorModel f;
  f.k = k;
  f.psi.assign(rows, 0.5);
  f.l.resize(size_t(rows) * k);
  long long mine = rows, first_row = 0;  // the global index of this rank's first row
  MPI_Exscan(&mine, &first_row, 1, MPI_LONG_LONG, MPI_SUM, comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) first_row = 0;
  for (size_t i = 0; i < f.l.size(); ++i)
    f.l[i] = 0.5 * standard_normal(stream_key(0x5BA71A1ULL, uint64_t(first_row) + i / k), uint64_t(i % k));
  std::vector<double> mean(size_t(blocks) * k), cov(size_t(blocks) * k * k);
  for (int it = 0; it < iterations; ++it) {
    const std::vector<double> before = f.l;
    expect_factors(z, blocks, f, mean, cov, comm);
    maximise_rows(z, blocks, mean, cov, f);
    double moved = 0;
    for (size_t i = 0; i < f.l.size(); ++i) moved = std::max(moved, std::fabs(f.l[i] - before[i]));
    MPI_Allreduce(MPI_IN_PLACE, &moved, 1, MPI_DOUBLE, MPI_MAX, comm);
    if (moved < 1e-5) break;
  }
  if (log_likelihood) expect_factors(z, blocks, f, mean, cov, comm, log_likelihood);
  return f;
}

}  // namespace

std::vector<float> fit_factor_loadings(const LatentRows& rows, int factors, MPI_Comm comm, int rows_per_cell,
                                       int iterations, bool on_decorrelated_rows) {
  require(factors >= 1 && factors <= 32, "spatial factors must be 1..32, got " + std::to_string(factors));
  const int blocks = rows.blocks, k = factors;
  require(blocks >= 4 * k, "too few 4-day blocks (" + std::to_string(blocks) + ") to fit " + std::to_string(k) +
                              " spatial factors: use more data or fewer --spatial-factors");
  std::vector<std::vector<double>> roots;
  const std::vector<double> z = em_rows(rows, rows_per_cell, roots);
  FactorModel f = fit_em(z, rows.rows(), blocks, k, iterations, comm);
  // Back to the cells' own rows: L_c = S_c^1/2 L~_c, so that L_c L_d^T is the rows' cross-correlation.
  for (size_t c = 0; !on_decorrelated_rows && c < roots.size(); ++c) {
    const int g = rows_per_cell;
    double* l = f.l.data() + c * g * k;
    std::vector<double> mapped(size_t(g) * k, 0.0);
    for (int i = 0; i < g; ++i)
      for (int j = 0; j < g; ++j)
        for (int q = 0; q < k; ++q) mapped[i * k + q] += roots[c][i * g + j] * l[j * k + q];
    std::copy(mapped.begin(), mapped.end(), l);
  }
  std::vector<float> out(f.l.begin(), f.l.end());
  cap_communality(out, k);
  return out;
}

int factor_count_by_bic(const LatentRows& rows, int most, MPI_Comm comm, int rows_per_cell, int iterations,
                        std::vector<double>* bic_of_count, std::vector<float>* decorrelated_loadings) {
  require(most >= 1 && most <= 32, "spatial factors must be 1..32, got " + std::to_string(most));
  std::vector<std::vector<double>> roots;
  const std::vector<double> z = em_rows(rows, rows_per_cell, roots);
  long long total_rows = rows.rows();
  MPI_Allreduce(MPI_IN_PLACE, &total_rows, 1, MPI_LONG_LONG, MPI_SUM, comm);
  int best = 0;
  double best_bic = std::numeric_limits<double>::infinity();
  if (bic_of_count) bic_of_count->assign(most + 1, std::numeric_limits<double>::quiet_NaN());
  std::vector<int> counts;  // 1, 2, 4, ... and `most`
  for (int k = 1; k < most; k *= 2) counts.push_back(k);
  counts.push_back(most);
  for (int k : counts) {
    if (rows.blocks < 4 * k) break;
    double log_likelihood = 0;
    const FactorModel f = fit_em(z, rows.rows(), rows.blocks, k, iterations, comm, &log_likelihood);
    // Free parameters: loadings up to a rotation of the factors, and each row's own variance.
    const double parameters = double(total_rows) * (k + 1) - 0.5 * k * (k - 1);
    const double bic = -2 * log_likelihood + parameters * std::log(double(rows.blocks));
    if (bic_of_count) (*bic_of_count)[k] = bic;
    if (bic >= best_bic) continue;
    best = k, best_bic = bic;
    if (decorrelated_loadings) {  // as fit_factor_loadings(..., on_decorrelated_rows = true) gives them
      decorrelated_loadings->assign(f.l.begin(), f.l.end());
      cap_communality(*decorrelated_loadings, k);
    }
  }
  return best;
}

LatentRows latent_levels(Vae& vae, const Store& store, MPI_Comm comm) {
  const int nz = vae.config().latent, nc = static_cast<int>(store.cells.size());
  const int64_t hours_per_block = Vae::kHoursPerStep;
  auto floor_div = [](int64_t a, int64_t b) { return (a - ((a % b) + b) % b) / b; };
  // Each cell's whole blocks (local solar time), then the axis common to all ranks' cells.
  std::vector<int64_t> first(nc), last(nc);
  // A rank without cells (more ranks than cells) starts at -max, not min: -min overflows and
  // made the common axis ~2^63 blocks long ("cannot create std::vector larger than max_size()").
  long long range[2] = {std::numeric_limits<long long>::max(), -std::numeric_limits<long long>::max()};
  for (int c = 0; c < nc; ++c) {
    const int64_t local0 = store.start_hour + store.cells[c].utc_offset_hours;
    first[c] = floor_div(local0 + hours_per_block - 1, hours_per_block);
    last[c] = floor_div(local0 + store.num_hours, hours_per_block);  // exclusive
    range[0] = std::min<long long>(range[0], first[c]);
    range[1] = std::max<long long>(range[1], last[c]);
  }
  long long lo = range[0], hi = -range[1];
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_LONG_LONG, MPI_MIN, comm);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_LONG_LONG, MPI_MIN, comm);
  LatentRows out;
  out.first_block = lo;
  out.blocks = static_cast<int>(std::max<long long>(0, -hi - lo));
  out.values.assign(size_t(nc) * nz * out.blocks, kNaN);
  run_on_all_ranks(comm, [&] { encode_cells(vae, store, first, last, out); });
  return out;
}

LatentRows daily_anomaly_rows(const Store& store, MPI_Comm comm) {
  const int nc = static_cast<int>(store.cells.size());
  auto floor_div = [](int64_t a, int64_t b) { return (a - ((a % b) + b) % b) / b; };
  // -max, not min, for a rank without cells: bounds negate hi (see latent_levels).
  long long lo = std::numeric_limits<long long>::max(), hi = -std::numeric_limits<long long>::max();
  for (const CellSeries& cell : store.cells) {
    lo = std::min<long long>(lo, floor_div(store.start_hour + cell.utc_offset_hours, 24));
    hi = std::max<long long>(hi, floor_div(store.start_hour + cell.utc_offset_hours + store.num_hours, 24) + 1);
  }
  long long bounds[2] = {lo, -hi};
  MPI_Allreduce(MPI_IN_PLACE, bounds, 2, MPI_LONG_LONG, MPI_MIN, comm);
  LatentRows out;
  out.first_block = bounds[0];
  out.blocks = static_cast<int>(std::max<long long>(0, -bounds[1] - bounds[0]));
  out.values.assign(size_t(nc) * out.blocks, kNaN);
  for (int c = 0; c < nc; ++c) {
    const int64_t local0 = store.start_hour + store.cells[c].utc_offset_hours;
    std::vector<double> means(out.blocks, kNaN);
    for (int d = 0; d < out.blocks; ++d) {
      const int64_t i0 = (out.first_block + d) * 24 - local0;  // store index of the day's first hour
      if (i0 < 0 || i0 + 24 > store.num_hours) continue;
      double sum = 0;
      for (int h = 0; h < 24; ++h) sum += store.detrended_k(c, i0 + h);
      if (std::isfinite(sum)) means[d] = sum / 24;
    }
    remove_seasonal_cycle(means.data(), 1, out.blocks, out.first_block);
    std::copy(means.begin(), means.end(), out.values.begin() + size_t(c) * out.blocks);
  }
  return out;
}

namespace {

constexpr uint64_t kSharingSeed = 0x5BA7C0DEULL;
constexpr int kSharingMembers = 4, kSharingRounds = 3;

// Daily-mean anomalies of generated members of this rank's cells on the days the observed rows
// know (same axis as `observed`, block m * days + d for member m), their seasonal cycle removed.
LatentRows generated_daily_rows(Vae& vae, const ModelFile& model, const Store& store, const LatentRows& observed) {
  const int nc = static_cast<int>(store.cells.size()), days = observed.blocks;
  LatentRows out;
  out.first_block = observed.first_block;
  out.blocks = days * kSharingMembers;
  out.values.assign(size_t(nc) * out.blocks, kNaN);
  for (int c = 0; c < nc; ++c) {
    const std::vector<float> traces =
        generate_traces(vae, model, store_period_request(store, c, kSharingMembers, kSharingSeed));
    const int64_t local0 = store.start_hour + store.cells[c].utc_offset_hours;
    std::vector<double> means(size_t(kSharingMembers) * days, kNaN);  // member-major
    for (int d = 0; d < days; ++d) {
      const int64_t i0 = (observed.first_block + d) * 24 - local0;
      if (!std::isfinite(observed.values[size_t(c) * days + d]) || i0 < 0 || i0 + 24 > store.num_hours) continue;
      for (int m = 0; m < kSharingMembers; ++m) {
        double sum = 0;
        for (int h = 0; h < 24; ++h) sum += traces[size_t(i0 + h) * kSharingMembers + m];
        means[size_t(m) * days + d] = sum / 24;
      }
    }
    remove_seasonal_cycle(means.data(), kSharingMembers, days, observed.first_block);
    std::copy(means.begin(), means.end(), out.values.begin() + size_t(c) * out.blocks);
  }
  return out;
}

// The latent levels of two cells correlate less than their weather does (Beijing: 0.7 against
// 0.97): the encoder also codes what is each station's own. Each cell's latent loadings (rows of
// `latent` features x k) scaled so that their mean communality equals the cell's `target`,
// keeping which cells share what: the starting point of the generation rounds.
void match_weather_communality(std::vector<float>& latent_loadings, int latent, int k, const std::vector<double>& target) {
  for (size_t c = 0; c < target.size(); ++c) {
    double shared = 0;
    float* l = latent_loadings.data() + c * latent * k;
    for (int i = 0; i < latent * k; ++i) shared += double(l[i]) * l[i] / latent;
    if (shared < 1e-6) continue;
    const double scale = std::sqrt(std::min(target[c], kMaxCommunality) / shared);
    for (int i = 0; i < latent * k; ++i) l[i] = static_cast<float>(l[i] * scale);
  }
  cap_communality(latent_loadings, k);
}

std::vector<double> communalities(const std::vector<float>& loadings, int k) {
  std::vector<double> h(loadings.size() / k, 0.0);
  for (size_t r = 0; r < h.size(); ++r)
    for (int j = 0; j < k; ++j) h[r] += double(loadings[r * k + j]) * loadings[r * k + j];
  return h;
}

}  // namespace

bool fit_spatial_loadings(Vae& vae, ModelFile& model, const Store& store, int factors, MPI_Comm comm, int& blocks,
                          bool choose_count) {
  const LatentRows levels = latent_levels(vae, store, comm);  // the same axis on every rank
  blocks = levels.blocks;
  const int latent = vae.config().latent;
  // More factors than the data support fit chance: a fixed 16 gave the four sites' 40 latent rows
  // (two pairs of cells share weather) 640 loadings; the criterion picks 4 there, 16 for six
  // Beijing stations or six ERA5 cells that share nearly everything.
  std::vector<float> mine;
  // Whether the count was chosen, not mine.empty(): a rank without cells (more ranks than cells)
  // has no loadings either way, and fitting again there alone left the other ranks waiting.
  const bool chosen = choose_count && blocks >= 4;
  if (chosen) factors = factor_count_by_bic(levels, factors, comm, latent, 2000, nullptr, &mine);
  if (levels.blocks < 4 * factors) return false;
  // The innovations of a cell are independent features (the prior's), so the factors load the
  // cells' decorrelated latent rows and mix with the whitened own part (ModelFile::whitened_mixing).
  model.whitened_mixing = true;
  if (!chosen) mine = fit_factor_loadings(levels, factors, comm, latent, 2000, true);
  // Which cells share what comes from the latent levels; how much each cell shares is then set so
  // that its generated daily weather has the observed cross-correlations with the others (below).
  // The decoder turns latent loadings into daily correlation non-linearly: matched on the latent
  // side, Paris-Berlin came out 0.86 against 0.62 while Sydney-Melbourne came out 0.22 against 0.31.
  long long cells = static_cast<long long>(store.cells.size());
  MPI_Allreduce(MPI_IN_PLACE, &cells, 1, MPI_LONG_LONG, MPI_SUM, comm);
  const int kw = static_cast<int>(std::max(1LL, std::min(cells / 2, 8LL)));
  const LatentRows observed = daily_anomaly_rows(store, comm);
  const std::vector<float> weather = fit_factor_loadings(observed, kw, comm);
  match_weather_communality(mine, latent, factors, communalities(weather, kw));
  cap_shared_directions(mine, latent, factors);
  // The rounds match each cell's cross-correlations with the cells it shares weather with (weighted
  // by the observed factor model), not the factor model's communality: with few cells that is
  // nearly unconstrained (6 cells, 3 factors: the generated ERA5 grid reached the observed 0.998
  // while its pairs correlated 0.94-0.98 against 0.993-0.999).
  const std::vector<double> target = weighted_cross_correlation(observed, weather, kw, comm);
  for (int round = 0; round < kSharingRounds; ++round) {
    model.set_loadings(factors, gather_rows(mine, comm));
    LatentRows generated;
    run_on_all_ranks(comm, [&] { generated = generated_daily_rows(vae, model, store, observed); });
    const std::vector<double> reached = weighted_cross_correlation(generated, weather, kw, comm);
    for (size_t c = 0; c < target.size(); ++c) {
      const double ratio = std::clamp(std::sqrt(std::max(target[c], 0.0) / std::max(reached[c], 1e-3)), 0.5, 2.0);
      for (int i = 0; i < latent * factors; ++i) mine[c * latent * factors + i] *= static_cast<float>(ratio);
    }
    cap_shared_directions(mine, latent, factors);
  }
  model.set_loadings(factors, gather_rows(mine, comm));
  return true;
}

std::vector<float> gather_rows(const std::vector<float>& mine, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  int n = static_cast<int>(mine.size());
  std::vector<int> counts(ranks), displs(ranks, 0);
  MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (int r = 1; r < ranks; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<float> all(size_t(displs.back()) + counts.back());
  MPI_Allgatherv(mine.data(), n, MPI_FLOAT, all.data(), counts.data(), displs.data(), MPI_FLOAT, comm);
  return all;
}

}  // namespace climvae
