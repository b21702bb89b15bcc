// After training (`climvae train`) or on its own (`climvae calibrate`): what the model's weather
// needs besides the network, fitted on a store of the model's cells.
#pragma once
#include <string>

#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae::cli {

// Each cell's calibration (with `calibrate`), then the spatial factors: `factors` of them (0: none;
// kAutoFactors: as many, of 1, 2, 4, ... up to min(16, cells x latent), as the data support, by the
// Bayesian information criterion). Replaces what `model` held of both. Collective over
// MPI_COMM_WORLD; `store` is this rank's share of the cells.
constexpr int kAutoFactors = -1;
void fit_weather(ModelFile& model, Vae& vae, const Store& store, int factors, bool calibrate);

// The value of a --spatial-factors option: "auto" (kAutoFactors) or a count 0..32; anything else
// is an error naming the option.
int spatial_factors_option(const std::string& value);

}  // namespace climvae::cli
