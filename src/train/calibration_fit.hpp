// Fitting each cell's Calibration (model/calibration.hpp) on its training series, after training.
#pragma once
#include <vector>

#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

// For each cell of this rank's store share (global index store.first_cell + c): the model, with
// its cells' constants in `model`, generates `members` traces over the store's period (the
// reference-year climate, independent cells, uncalibrated); then per calendar month (local time)
// the mean correction is observed minus generated mean and the noise sd the variance the
// generated traces lack, and the noise's hourly persistence is chosen so that the anomaly
// autocorrelation at 24 hours (month x hour climatology removed) matches the observed.
// All in standardised units. Missing hours are skipped.
std::vector<Calibration> fit_calibration(Vae& vae, const ModelFile& model, const Store& store, int members = 12);

}  // namespace climvae
