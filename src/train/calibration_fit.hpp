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
// autocorrelation at 1, 2, 3 and 7 days (month x hour climatology removed) comes closest to the
// observed. All in standardised units. Missing hours are skipped. 48 members: the monthly means of
// fewer traces scatter by as much as the bias they correct.
// Then, per month, a quantile map from the traces generated with that calibration to the observed
// values. `model`'s calibrations are used while fitting and left empty.
std::vector<Calibration> fit_calibration(Vae& vae, ModelFile& model, const Store& store, int members = 48);

// A calibration as a fixed number of floats (to gather them over ranks), and back.
constexpr int kPackedCalibration = 25 + 2 * 12 * kQuantiles;
std::vector<float> packed(const Calibration& calibration);
Calibration unpacked(const float* values);

}  // namespace climvae
