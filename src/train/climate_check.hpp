// Whether a trained model's own traces stay in the climate it was trained on, before anything is
// fitted on them (docs/model.md, "When the temporal prior leaves the climate"). The temporal
// prior's training pins its marginal N(m_t, s_t²) only at a window's first step; where a latent
// feature drifts slowly within the 64-day windows it learns ρ near 1, and the marginal's level and
// spread are then barely tied to the data. Lac-Saint-Jean (a boreal ERA5 point, three years): in
// July and August the posterior of one feature sat at 4.2 ± 0.5 while the prior's marginal was
// 0.8 ± 2.9, and the uncalibrated August traces had a mean of 1.7 °C and an sd of 15.6 K against
// 18.5 °C and 4.3 K observed. A calibration cannot repair such traces (their weather is not the
// climate's), so `climvae train` checks them.
#pragma once
#include <mpi.h>

#include <string>

#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

// A month is out of the climate when the generated sd is more than kMaxSdRatio times the
// observed or the generated mean more than kMaxMeanOffsetSd observed sds from the observed (the
// same boreal site's seasonal-prior model, uncalibrated: sd within 13 %, means within 0.3 sd).
constexpr double kMaxSdRatio = 1.5;
constexpr double kMaxMeanOffsetSd = 1.0;

// Each cell of this rank's store share, 16 uncalibrated members over the store's period (the
// model's cells' constants in `model`, no calibration or spatial factors) against the observed
// hours, per calendar month with at least a week of data. Returns "" when every month of every
// cell (all ranks) is within the bounds, else the worst month named, e.g. "cell 0 (50.25 N,
// -74.25 E) in August: generated mean 1.7 degC, sd 15.6 K against 18.5 degC, 4.3 K observed".
// Collective over comm; the same text on every rank.
std::string generated_climate_departure(Vae& vae, const ModelFile& model, const Store& store, MPI_Comm comm);

}  // namespace climvae
