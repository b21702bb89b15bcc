// What the decoded mean misses, restored at generation (docs/model.md, "Calibration"): the model
// decodes the mean of each latent path, so generated traces lack the weather within a 96-hour
// block that the latent code does not carry (the monthly sd came out 4-15 % low and spells too
// short). Each cell keeps, in standardised units, a per-month mean correction and the sd of the
// missing weather, which generation adds back as noise whose hourly persistence phi is fitted so
// that the anomaly autocorrelation at 1-7 days of the training period is reproduced. Fitted on the
// training data by `climvae train` (train/calibration.hpp) and stored in the model file.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace climvae {

// Probabilities of the quantile mapping's knots: the tails matter (extremes, spells).
constexpr double kQuantileProbabilities[] = {0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                             0.6,   0.7,  0.8,  0.9, 0.95, 0.99, 0.999};
constexpr int kQuantiles = 15;

struct Calibration {
  std::vector<float> mean_correction;  // 12 calendar months (local time), standardised units
  std::vector<float> noise_sd;         // 12 calendar months, standardised units
  double noise_phi = 0;                // lag-1 hour autocorrelation of one stage of the noise, [0, 0.999]
  // The weather partition (version 6 on; older files: a = 1, one stage, no short part). The
  // decoded weather persists too long (4-10 days) and is too smooth within a day: its anomalies
  // from the generated (month x hour) climatology are scaled by `anomaly_scale` a and the noise
  // brings back the variance, with the observed time structure: `noise_stages` (1 or 2) AR(1)
  // stages of noise_phi (two: an autocorrelation that stays high over a day or two and then falls
  // away, which one AR(1) cannot) plus a share `noise_short_share` of AR(1) noise of persistence
  // `noise_short_phi` (the hour-to-hour roughness).
  double anomaly_scale = 1;
  int noise_stages = 1;
  double noise_short_share = 0, noise_short_phi = 0;
  std::vector<float> generated_climatology;  // (12, 24): month x local hour, standardised; empty when a = 1
  // The diurnal mode (version 7 on; older files: none). Observed anomalies repeat at the same hour
  // of the next day (cloudy days: a cool afternoon and a mild night, for a day or two), which
  // smooth noise cannot give: its autocorrelation at 12 h is above that at 24 h, the observed one
  // is not (Paris: 0.725 at 12 h, 0.690 at 24 h). A share `noise_diurnal_share` of the noise is
  // `diurnal_shape` (24 local hours, mean 0, mean square 1: the observed leading pattern of the
  // anomalies within a day) times an amplitude of two AR(1) stages of `noise_diurnal_phi`.
  double noise_diurnal_share = 0, noise_diurnal_phi = 0;
  std::vector<float> diurnal_shape;  // 24 local hours; empty when the share is 0
  // The smooth noise's skew by local hour (version 9 on; empty: none). Observed hot afternoons
  // persist more than cold ones (Paris: a day above the month's P90 of daily maxima is followed
  // by another with probability 0.54, one below P10 0.49) and warm nights least (0.45):
  // anticyclones bring lasting heat, fronts and cloudy nights come and go. Symmetric noise does
  // the opposite (a day's maximum picks up its upward spikes: 0.47 against 0.51). At local hour h
  // the two-stage noise s is replaced by the standardised lognormal
  //   sign(g) (exp(g s) - exp(g^2 / 2)) / sqrt(exp(2 g^2) - exp(g^2)),  g = `smooth_skew`[h]
  // (increasing in s, mean 0, variance 1: the same persistence in the bulk; g < 0 its mirror
  // image, skewed to the cold side): with g > 0 the warm excursions of the
  // lasting part are the large ones, so the warmest days are made of it and persist, the coldest
  // are more of the short noise. The monthly quantile map fitted after it restores the marginal.
  std::vector<float> smooth_skew;  // g, 24 local hours, |g| <= 0.5
  // Quantile mapping of the result, per month: the generated (with the noise) and the observed
  // values at kQuantileProbabilities, (12, kQuantiles) each; empty: none. It gives the traces the
  // observed skewness and tails, which Gaussian noise cannot (Paris: hot summer tails).
  std::vector<float> quantiles_generated, quantiles_observed;
  bool empty() const { return mean_correction.empty(); }
};

// The standardised lognormal of the smooth noise s with skew g (Calibration::smooth_skew):
// increasing in s, mean 0 and variance 1 for a standard normal s; s itself for g = 0. Its
// constants are found once per skew, not per hour of noise.
struct SkewedNormal {
  explicit SkewedNormal(double g);
  double operator()(double s) const { return identity ? s : sign * (std::exp(g * s) - centre) / spread; }
  double g = 0, sign = 1, centre = 0, spread = 1;
  bool identity = true;
};

// Value v (standardised) of local hour `local_hour` mapped from the generated to the observed
// distribution: piecewise linear between the knots, shifted beyond the outer ones, the two
// neighbouring months' maps blended like monthly_interpolated.
double quantile_mapped(const Calibration& calibration, double v, int64_t local_hour);

// Monthly values interpolated linearly between mid-months at local hour `local_hour`, so that
// nothing jumps at a month's end.
double monthly_interpolated(const std::vector<float>& monthly, int64_t local_hour);

// What calibrated_value needs of an hour that is the same for every member: the two months
// blended and the second's weight, the blended climatology centre, mean correction and noise sd.
// Computed once per hour of a chunk instead of once per member and hour (they were a fifth of a
// calibrated generation's time, measured); the same arithmetic, so the same bits.
struct CalibratedHour {
  int first_month = 0, second_month = 0;
  double weight = 0, centre = 0, mean_correction = 0, noise_sd = 0;
};
CalibratedHour calibrated_hour(const Calibration& calibration, int64_t local_hour);

// The calibrated value of one hour: the decoded anomaly scaled (c + a (decoded - c), c the
// generated climatology), + (mean correction + noise sd * noise), then the quantile map.
double calibrated_value(const Calibration& calibration, const CalibratedHour& hour, double decoded, float noise);

// Hours [first, first + count) of the unit-variance noise of one trace: a moving average
// n_t = c sum_{j<J} phi^j e_{t-j} of the normals e(t) (t: hours from the trace's start, which may
// be negative for the hours before it), evaluated from fixed 64-hour block starts so that every
// hour meets the same arithmetic whatever the chunk. `normal(t)` gives e(t).
template <class Normal>
void calibration_noise(double phi, int64_t first, int64_t count, const Normal& normal, float* out);

// The same through `stages` (1 or 2) such moving averages in a row, rescaled to unit variance:
// two stages have the autocorrelation phi^L (1 + L (1 - phi^2) / (1 + phi^2)) at lag L.
template <class Normal>
void staged_noise(double phi, int stages, int64_t first, int64_t count, const Normal& normal, float* out);

// Autocorrelation at lag L hours of staged_noise (without the truncation of the moving average).
double staged_noise_autocorrelation(double phi, int stages, double lag);

// Autocorrelation at lag L hours of the diurnal mode, averaged over the hours of the day: the
// amplitude's (two stages of phi) times the shape's with itself L hours on.
double diurnal_mode_autocorrelation(double phi, const std::vector<float>& shape, int lag);

}  // namespace climvae

#include "model/calibration_impl.hpp"
