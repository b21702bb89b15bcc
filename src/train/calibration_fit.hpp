// Fitting each cell's Calibration (model/calibration.hpp) on its training series, after training.
#pragma once
#include <vector>

#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

// For each cell of this rank's store share (global index store.first_cell + c): the model, with
// its cells' constants in `model`, generates `members` traces over the store's period (the
// reference-year climate, with the model's spatial factors if it has any, uncalibrated). Then the weather partition: the scale
// of the generated anomalies (from the generated month x hour climatology) and the noise's time
// structure, chosen so that the anomaly autocorrelation at 1 hour to 10 days (month x hour
// climatology removed) comes closest to the observed; per calendar month (local time) the mean
// correction is observed minus scaled-generated mean and the noise sd the variance the scaled
// traces lack. A share of the noise may be the observed diurnal mode (the anomalies' leading
// pattern within a day). All in standardised units. Missing hours are skipped. 48 members: the monthly means
// of fewer traces scatter by as much as the bias they correct.
// Then, per month, a quantile map from the traces generated with that calibration to the observed
// values. `model`'s calibrations are used while fitting and left empty.
std::vector<Calibration> fit_calibration(Vae& vae, ModelFile& model, const Store& store, int members = 48);

// A calibration as a fixed number of floats (to gather them over ranks), and back.
constexpr int kPackedCalibration = 30 + 2 * 12 * kQuantiles + 12 * 24 + 2 + 24 + 1 + 24;
std::vector<float> packed(const Calibration& calibration);
Calibration unpacked(const float* values);

}  // namespace climvae
