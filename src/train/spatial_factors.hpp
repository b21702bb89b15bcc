// Weather that covers a region: the latent innovations of all cells share K factors
// (docs/model.md, "Cells that share their weather"). Generation draws each cell's innovation as
//   eta_{c,t} = L_c xi_t + (I - L_c L_c^T)^1/2 zeta_{c,t}      (whitened mixing; older models
//   eta_{c,i,t} = sum_k L_{c,i,k} xi_{k,t} + sqrt(1 - sum_k L_{c,i,k}^2) zeta_{c,i,t}, diagonal)
// with xi keyed by (seed, member, calendar block) only and zeta by the cell, so that any cell can
// be generated alone while two cells of one member are correlated as in the data. This file fits
// the loadings L from the training data, collectively over the ranks that hold the cells.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

// Rows of latent values on a common axis of calendar blocks [first_block, first_block + blocks):
// row r (this rank's) is values[r * blocks + t], NaN where unknown. Rows are standardised to unit
// variance over their known values before fitting.
struct LatentRows {
  int64_t first_block = 0;
  int blocks = 0;
  std::vector<float> values;
  int rows() const { return blocks > 0 ? static_cast<int>(values.size() / blocks) : 0; }
};

// Loadings (rows x K, row-major) of a K-factor model fitted by EM over the
// known values; factors whitened, so that loadings_r . loadings_s is the modelled correlation of
// rows r and s, and each row's sum of squares kept below 1. Collective over comm (every rank passes
// its own rows on the same block axis); the result does not depend on how rows are split over ranks
// (the cross-rank sums are exact, in fixed point).
// With rows_per_cell > 1 (a cell's latent features), each cell's rows are first decorrelated
// among themselves, so that the factors carry what cells share with each other, and a block a
// cell does not know counts as zero for it (cells never observed together get no common factor);
// the loadings are mapped back to the cell's own rows, or, `on_decorrelated_rows`, kept on the
// decorrelated rows (the whitened mixing's: a cell's innovations are uncorrelated features).
std::vector<float> fit_factor_loadings(const LatentRows& rows, int factors, MPI_Comm comm, int rows_per_cell = 1,
                                       int iterations = 2000, bool on_decorrelated_rows = false);

// The latent weather of this rank's cells: every cell's series encoded in 64-day windows on the
// calendar block axis (model/seasonal.hpp: calendar_block), the posterior means standardised by
// the prior's marginal (u = (mu - m) / s). Their cross-cell correlation is that of the
// innovations when the cells share the autoregression (docs/model.md). Rows are cell-major:
// row c * latent + i. Collective (the common axis is agreed over comm).
LatentRows latent_levels(Vae& vae, const Store& store, MPI_Comm comm);

// Daily-mean anomalies (local days, the seasonal cycle removed: common/seasonal_cycle.hpp) of this rank's cells on
// a common axis of local days since 1970: one row per cell. Collective.
LatentRows daily_anomaly_rows(const Store& store, MPI_Comm comm);

// Fits and sets model's spatial loadings (cells x latent x K) for the store's cells: the factor
// model of the latent levels says which cells share what; each cell's loadings are then scaled
// over a few rounds of generation until its generated daily weather has the observed
// cross-correlations with the cells it shares weather with (weighted_cross_correlation). Returns
// false (loadings untouched) when the store's 4-day blocks (returned in `blocks`) are too few for
// K factors. The model must hold every cell (and its calibration, if any). Collective.
// With `choose_count`, `factors` is the most: the count is chosen by factor_count_by_bic on the
// latent levels (model.spatial_factors says which).
bool fit_spatial_loadings(Vae& vae, ModelFile& model, const Store& store, int factors, MPI_Comm comm, int& blocks,
                          bool choose_count = false);

// The number of factors, of 1, 2, 4, ... and `most` (each with at least 4 blocks per factor), whose
// fit of `rows` (as fit_factor_loadings) has the lowest Bayesian information criterion
// -2 log L + parameters x log(blocks): factors that only fit chance correlations do not pay for
// themselves. `bic_of_count` (optional) gets the criterion by count (NaN: not fitted), and
// `decorrelated_loadings` (optional) the chosen fit, as fit_factor_loadings with
// on_decorrelated_rows gives it. Collective; the same for any split of the rows over ranks.
int factor_count_by_bic(const LatentRows& rows, int most, MPI_Comm comm, int rows_per_cell = 1, int iterations = 2000,
                        std::vector<double>* bic_of_count = nullptr,
                        std::vector<float>* decorrelated_loadings = nullptr);

// Each cell's loadings (latent x k blocks of `loadings`) with the singular values above
// sqrt(0.998) brought down to it and the others kept: L_c L_c^T <= 0.998 I, so that the whitened
// mixing's own part (I - L_c L_c^T)^1/2 exists and each cell's innovations keep exactly the
// identity covariance (a cap on each row's sum of squares leaves eigenvalues above 1).
void cap_shared_directions(std::vector<float>& loadings, int latent, int k);

// For each of this rank's rows c, the sum over the other rows d (all ranks) of w_cd corr(c, d),
// with w_cd = l_c . l_d from `weights` (this rank's rows x k, a factor model of the observed
// rows): the cross-correlations weighted by how much the observed weather says they matter, in
// one pass over the factor sums F_t = sum_d l_d z_dt (no rows x rows matrix; the cross-rank sums
// exact, so the result does not depend on the split). A value a row does not know counts as no
// anomaly, as in the factor fit. Collective.
std::vector<double> weighted_cross_correlation(const LatentRows& rows, const std::vector<float>& weights, int k,
                                               MPI_Comm comm);

// Every rank's rows, concatenated in rank order, on every rank. Collective.
std::vector<float> gather_rows(const std::vector<float>& mine, MPI_Comm comm);

}  // namespace climvae
