#include "train/calibration_fit.hpp"

#include <algorithm>
#include <cmath>

#include "common/calendar.hpp"
#include "generate/generator.hpp"

namespace climvae {

namespace {

constexpr uint64_t kCalibrationSeed = 0xCA11B8A7EULL;
constexpr int kLag = 24;  // the persistence matched: one day

// Running moments per calendar month and per (month, hour of day).
struct Moments {
  double n = 0, sum = 0, sq = 0;
  void add(double v) { n += 1, sum += v, sq += v * v; }
  double mean() const { return n > 0 ? sum / n : 0; }
  double variance() const { return n > 1 ? std::max(0.0, sq / n - mean() * mean()) : 0; }
};

// Anomaly variance and lag-24 h autocovariance of series (anomalies from `clim`, NaN skipped).
struct Persistence {
  double variance = 0, lag_covariance = 0;
  double correlation() const { return variance > 0 ? lag_covariance / variance : 0; }
};

Persistence persistence(const std::vector<double>& anomalies) {
  Persistence p;
  double n = 0, pairs = 0;
  for (size_t i = 0; i < anomalies.size(); ++i) {
    if (!std::isfinite(anomalies[i])) continue;
    p.variance += anomalies[i] * anomalies[i], n += 1;
    if (i >= kLag && std::isfinite(anomalies[i - kLag])) p.lag_covariance += anomalies[i] * anomalies[i - kLag], pairs += 1;
  }
  p.variance /= std::max(n, 1.0);
  p.lag_covariance /= std::max(pairs, 1.0);
  return p;
}

Calibration fit_cell(Vae& vae, const ModelFile& model, const Store& store, int c, int members) {
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
    observed[i] = (store.detrended_k(c, i) - cell.offset_k) / cell.scale_k;
    if (!std::isfinite(observed[i])) continue;
    obs_month[month[i]].add(observed[i]);
    obs_slot[slot[i]].add(observed[i]);
    for (int m = 0; m < members; ++m) {
      const double g = (generated[size_t(i) * members + m] - cell.offset_k) / cell.scale_k;
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
                         ? (generated[size_t(i) * members + m] - cell.offset_k) / cell.scale_k - gen_slot[slot[i]].mean()
                         : NAN;
    const Persistence p = persistence(anomalies);
    gen.variance += p.variance / members;
    gen.lag_covariance += p.lag_covariance / members;
  }
  // (gen covariance + missing * phi^24) / (gen variance + missing) = observed correlation.
  if (missing > 1e-6) {
    const double phi_day = (obs.correlation() * (gen.variance + missing) - gen.lag_covariance) / missing;
    cal.noise_phi = std::pow(std::clamp(phi_day, 0.05, 0.95), 1.0 / kLag);
  }
  return cal;
}

}  // namespace

std::vector<Calibration> fit_calibration(Vae& vae, const ModelFile& model, const Store& store, int members) {
  std::vector<Calibration> out;
  for (int c = 0; c < static_cast<int>(store.cells.size()); ++c) out.push_back(fit_cell(vae, model, store, c, members));
  return out;
}

}  // namespace climvae
