// After training (`climvae train`) or on its own (`climvae calibrate`): what the model's weather
// needs besides the network, fitted on a store of the model's cells.
#pragma once
#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae::cli {

// Each cell's calibration (with `calibrate`), then the spatial factors (`factors` of them; -1:
// min(16, cells x latent) for several cells; 0: none), then, with factors, the calibration once
// more on the traces users get: shared weather correlates a cell's own latent features through its
// loadings, which changes its weather (four-site Paris: 21 -> 24 of 27 skill rows). Replaces what
// `model` held of both. Collective over MPI_COMM_WORLD; `store` is this rank's share of the cells.
void fit_weather(ModelFile& model, Vae& vae, const Store& store, int factors, bool calibrate);

}  // namespace climvae::cli
