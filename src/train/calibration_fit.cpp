#include "train/calibration_fit.hpp"

#include <algorithm>
#include <cmath>

#include "common/calendar.hpp"
#include "generate/generator.hpp"
#include "model/standardise.hpp"

namespace climvae {

namespace {

constexpr uint64_t kCalibrationSeed = 0xCA11B8A7EULL;

// Running moments per calendar month and per (month, hour of day).
struct Moments {
  double n = 0, sum = 0, sq = 0;
  void add(double v) { n += 1, sum += v, sq += v * v; }
  double mean() const { return n > 0 ? sum / n : 0; }
  double variance() const { return n > 1 ? std::max(0.0, sq / n - mean() * mean()) : 0; }
};

// Anomaly variance and autocovariances at the lags whose persistence the noise is fitted to
// (a day to a week: heat and cold spells), NaN skipped.
constexpr int kLags[] = {24, 48, 72, 168};
struct Persistence {
  double variance = 0, lag_covariance[4] = {0, 0, 0, 0};
};

Persistence persistence(const std::vector<double>& anomalies) {
  Persistence p;
  double n = 0, pairs[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < anomalies.size(); ++i) {
    if (!std::isfinite(anomalies[i])) continue;
    p.variance += anomalies[i] * anomalies[i], n += 1;
    for (int l = 0; l < 4; ++l)
      if (i >= size_t(kLags[l]) && std::isfinite(anomalies[i - kLags[l]]))
        p.lag_covariance[l] += anomalies[i] * anomalies[i - kLags[l]], pairs[l] += 1;
  }
  p.variance /= std::max(n, 1.0);
  for (int l = 0; l < 4; ++l) p.lag_covariance[l] /= std::max(pairs[l], 1.0);
  return p;
}

// The hourly persistence phi of noise of variance `missing` added to the generated anomalies that
// brings their autocorrelation at the lags closest to the observed (least squares over a grid).
double fitted_phi(const Persistence& obs, const Persistence& gen, double missing) {
  double best_phi = 0, best = 1e300;
  for (int g = 0; g <= 400; ++g) {
    const double phi = 0.9 + 0.0999 * g / 400;
    double err = 0;
    for (int l = 0; l < 4; ++l) {
      const double model = (gen.lag_covariance[l] + missing * std::pow(phi, kLags[l])) / (gen.variance + missing);
      const double target = obs.lag_covariance[l] / std::max(obs.variance, 1e-12);
      err += (model - target) * (model - target);
    }
    if (err < best) best = err, best_phi = phi;
  }
  return best_phi;
}

// Quantiles at kQuantileProbabilities of the values (sorted in place), type 7.
void quantiles_of(std::vector<float>& values, float* out) {
  std::sort(values.begin(), values.end());
  for (int q = 0; q < kQuantiles; ++q) {
    if (values.empty()) {
      out[q] = 0;
      continue;
    }
    const double pos = kQuantileProbabilities[q] * (values.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double w = pos - i;
    out[q] = static_cast<float>(values[i] + (i + 1 < values.size() ? w * (values[i + 1] - values[i]) : 0.0));
  }
}

// The quantile map: the cell's traces generated with `cal` (no map yet) against the observed, per month.
void fit_quantile_map(Vae& vae, ModelFile& model, const Store& store, int c, const TraceRequest& request,
                      const std::vector<int>& month, const std::vector<double>& observed, Calibration& cal) {
  const int global = store.first_cell + c;
  const ModelCell& cell = model.cells[global];
  model.cells[global].calibration = cal;
  TraceRequest r = request;
  r.calibrated = true;
  const std::vector<float> generated = generate_traces(vae, model, r);
  model.cells[global].calibration = Calibration();
  std::vector<float> gen[12], obs[12];
  for (size_t i = 0; i < observed.size(); ++i) {
    if (!std::isfinite(observed[i])) continue;
    obs[month[i]].push_back(static_cast<float>(observed[i]));
    for (int m = 0; m < r.members; ++m)
      gen[month[i]].push_back(static_cast<float>(standardise(cell, generated[i * r.members + m])));
  }
  cal.quantiles_generated.assign(12 * kQuantiles, 0.0f);
  cal.quantiles_observed.assign(12 * kQuantiles, 0.0f);
  for (int m = 0; m < 12; ++m) {
    if (obs[m].size() < 24 * 7) {  // too little data in this month: the identity map
      quantiles_of(gen[m], cal.quantiles_generated.data() + m * kQuantiles);
      std::copy_n(cal.quantiles_generated.data() + m * kQuantiles, kQuantiles, cal.quantiles_observed.data() + m * kQuantiles);
      continue;
    }
    quantiles_of(gen[m], cal.quantiles_generated.data() + m * kQuantiles);
    quantiles_of(obs[m], cal.quantiles_observed.data() + m * kQuantiles);
  }
}

Calibration fit_cell(Vae& vae, ModelFile& model, const Store& store, int c, int members) {
  const int global = store.first_cell + c;
  const ModelCell& cell = model.cells[global];
  TraceRequest r;
  r.cell = global;
  r.start_hour = store.start_hour;
  r.hours = store.num_hours;
  r.members = members;
  r.seed = kCalibrationSeed;
  r.spatial = false;
  r.calibrated = false;
  const std::vector<float> generated = generate_traces(vae, model, r);
  const int64_t n = store.num_hours;
  std::vector<int> month(n), slot(n);  // calendar month and (month, hour) of each hour, local time
  for (int64_t i = 0; i < n; ++i) {
    const CivilDate d = civil_from_hours(store.start_hour + i + cell.utc_offset_hours);
    month[i] = d.month - 1;
    slot[i] = month[i] * 24 + d.hour;
  }
  std::vector<double> observed(n);
  Moments obs_month[12], gen_month[12], obs_slot[288], gen_slot[288];
  for (int64_t i = 0; i < n; ++i) {
    observed[i] = standardise(cell, store.detrended_k(c, i));
    if (!std::isfinite(observed[i])) continue;
    obs_month[month[i]].add(observed[i]);
    obs_slot[slot[i]].add(observed[i]);
    for (int m = 0; m < members; ++m) {
      const double g = standardise(cell, generated[size_t(i) * members + m]);
      gen_month[month[i]].add(g);
      gen_slot[slot[i]].add(g);
    }
  }
  Calibration cal;
  double missing = 0, months = 0;
  for (int m = 0; m < 12; ++m) {
    const bool seen = obs_month[m].n > 24 * 7;  // at least a week of data in this month
    cal.mean_correction.push_back(seen ? static_cast<float>(obs_month[m].mean() - gen_month[m].mean()) : 0.0f);
    const double lacking = seen ? std::max(0.0, obs_month[m].variance() - gen_month[m].variance()) : 0.0;
    cal.noise_sd.push_back(static_cast<float>(std::sqrt(lacking)));
    if (seen) missing += lacking, months += 1;
  }
  missing /= std::max(months, 1.0);
  // Persistence: anomalies from each source's own month x hour climatology.
  std::vector<double> anomalies(n);
  for (int64_t i = 0; i < n; ++i) anomalies[i] = observed[i] - obs_slot[slot[i]].mean();
  const Persistence obs = persistence(anomalies);
  Persistence gen;
  for (int m = 0; m < members; ++m) {
    for (int64_t i = 0; i < n; ++i)
      anomalies[i] = std::isfinite(observed[i])
                         ? standardise(cell, generated[size_t(i) * members + m]) - gen_slot[slot[i]].mean()
                         : NAN;
    const Persistence p = persistence(anomalies);
    gen.variance += p.variance / members;
    for (int l = 0; l < 4; ++l) gen.lag_covariance[l] += p.lag_covariance[l] / members;
  }
  if (missing > 1e-6) cal.noise_phi = fitted_phi(obs, gen, missing);
  fit_quantile_map(vae, model, store, c, r, month, observed, cal);
  return cal;
}

}  // namespace

std::vector<float> packed(const Calibration& k) {
  std::vector<float> out{static_cast<float>(k.noise_phi)};
  for (const auto* part : {&k.mean_correction, &k.noise_sd, &k.quantiles_generated, &k.quantiles_observed})
    out.insert(out.end(), part->begin(), part->end());
  out.resize(kPackedCalibration, 0.0f);
  return out;
}

Calibration unpacked(const float* v) {
  Calibration k;
  k.noise_phi = v[0];
  k.mean_correction.assign(v + 1, v + 13);
  k.noise_sd.assign(v + 13, v + 25);
  k.quantiles_generated.assign(v + 25, v + 25 + 12 * kQuantiles);
  k.quantiles_observed.assign(v + 25 + 12 * kQuantiles, v + kPackedCalibration);
  return k;
}

std::vector<Calibration> fit_calibration(Vae& vae, ModelFile& model, const Store& store, int members) {
  std::vector<Calibration> out;
  for (int c = 0; c < static_cast<int>(store.cells.size()); ++c) out.push_back(fit_cell(vae, model, store, c, members));
  return out;
}

}  // namespace climvae
