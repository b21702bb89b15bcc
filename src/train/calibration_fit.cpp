#include "train/calibration_fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/calendar.hpp"
#include "common/moments.hpp"
#include "generate/generator.hpp"
#include "model/standardise.hpp"

namespace climvae {

namespace {

constexpr uint64_t kCalibrationSeed = 0xCA11B8A7EULL;

// Anomaly variance and autocovariances at the lags whose persistence the weather partition
// reproduces (an hour to ten days: the hourly roughness, the day-to-day weather, spells), NaN
// skipped.
constexpr int kLags[] = {1, 3, 6, 12, 24, 36, 48, 72, 96, 120, 168, 240};
constexpr int kLagCount = sizeof(kLags) / sizeof(kLags[0]);
// Weights of the lags' squared errors in the fit. The hour-to-hour autocorrelation is near 1 and
// its errors small (0.002 of 0.99 is already rougher than the observed hours), so the first lag
// counts 25 times: the fit must not buy the longer lags with roughness.
constexpr double kLagWeights[kLagCount] = {25, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
struct Persistence {
  double variance = 0, lag_covariance[kLagCount] = {};
  void add(const Persistence& p, double weight) {
    variance += weight * p.variance;
    for (int l = 0; l < kLagCount; ++l) lag_covariance[l] += weight * p.lag_covariance[l];
  }
};

Persistence persistence(const std::vector<double>& anomalies) {
  Persistence p;
  double n = 0, pairs[kLagCount] = {};
  for (size_t i = 0; i < anomalies.size(); ++i) {
    if (!std::isfinite(anomalies[i])) continue;
    p.variance += anomalies[i] * anomalies[i], n += 1;
    for (int l = 0; l < kLagCount; ++l)
      if (i >= size_t(kLags[l]) && std::isfinite(anomalies[i - kLags[l]]))
        p.lag_covariance[l] += anomalies[i] * anomalies[i - kLags[l]], pairs[l] += 1;
  }
  p.variance /= std::max(n, 1.0);
  for (int l = 0; l < kLagCount; ++l) p.lag_covariance[l] /= std::max(pairs[l], 1.0);
  return p;
}

// The weather partition (model/calibration.hpp): the scale a of the generated anomalies and the
// noise (two AR(1) stages of phi, a share w of one-stage AR(1) of phi_short, a share w_d of the
// diurnal mode of amplitude persistence phi_d) that fill the observed anomaly variance, chosen so
// that the autocorrelation of a * generated + noise at the lags comes closest to the observed
// (least squares: a grid over a, phi, phi_short, w and phi_d, w_d in closed form; a <= 1 and the
// noise variance >= 0). An empty shape: no diurnal mode.
void fit_weather_partition(const Persistence& obs, const Persistence& gen, const std::vector<float>& shape,
                           Calibration& cal) {
  const double vo = std::max(obs.variance, 1e-12), vg = gen.variance;
  double target[kLagCount];
  for (int l = 0; l < kLagCount; ++l) target[l] = obs.lag_covariance[l] / vo;
  constexpr double kShortPhis[] = {0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97};
  constexpr int kShorts = sizeof(kShortPhis) / sizeof(kShortPhis[0]);
  constexpr double kDiurnalPhis[] = {0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98};
  constexpr int kDiurnals = sizeof(kDiurnalPhis) / sizeof(kDiurnalPhis[0]);
  constexpr double kMaxDiurnalShare = 0.5;
  const int diurnals = shape.empty() ? 0 : kDiurnals;
  double short_rho[kShorts][kLagCount], diurnal_rho[kDiurnals][kLagCount] = {};  // once
  for (int s = 0; s < kShorts; ++s)
    for (int l = 0; l < kLagCount; ++l) short_rho[s][l] = staged_noise_autocorrelation(kShortPhis[s], 1, kLags[l]);
  for (int d = 0; d < diurnals; ++d)
    for (int l = 0; l < kLagCount; ++l) diurnal_rho[d][l] = diurnal_mode_autocorrelation(kDiurnalPhis[d], shape, kLags[l]);
  double best = 1e300;
  for (int ia = 0; ia <= 30; ++ia) {
    const double a = std::min(1.0, 0.4 + 0.02 * ia);  // never above 1: the model file refuses it
    const double noise = vo - a * a * vg;
    if (noise < 0) break;
    for (int ig = 0; ig <= 49; ++ig) {
      const double phi = 0.90 + 0.002 * ig;
      double smooth[kLagCount];
      for (int l = 0; l < kLagCount; ++l) smooth[l] = staged_noise_autocorrelation(phi, 2, kLags[l]);
      for (int s = 0; s < kShorts; ++s)
        for (int iw = 0; iw <= 10; ++iw) {
          const double w = 0.05 * iw;
          // The residual at each lag without the diurnal mode, and what a share w_d of it adds.
          double residual[kLagCount], err = 0;
          for (int l = 0; l < kLagCount; ++l) {
            const double rho = (1 - w) * smooth[l] + w * short_rho[s][l];
            residual[l] = (a * a * gen.lag_covariance[l] + noise * rho) / vo - target[l];
            err += kLagWeights[l] * residual[l] * residual[l];
          }
          auto keep = [&](double e, double wd, double phi_d) {
            if (e >= best) return;
            best = e;
            cal.anomaly_scale = a, cal.noise_phi = phi, cal.noise_stages = 2;
            cal.noise_short_share = w, cal.noise_short_phi = kShortPhis[s];
            cal.noise_diurnal_share = wd, cal.noise_diurnal_phi = phi_d;
          };
          keep(err, 0, 0);
          for (int d = 0; d < diurnals; ++d) {
            double rv = 0, vv = 0, per[kLagCount];
            for (int l = 0; l < kLagCount; ++l) {
              per[l] = noise * (diurnal_rho[d][l] - smooth[l]) / vo;  // the diurnal mode in place of smooth noise
              rv += kLagWeights[l] * residual[l] * per[l], vv += kLagWeights[l] * per[l] * per[l];
            }
            const double wd = std::clamp(vv > 0 ? -rv / vv : 0.0, 0.0, std::min(kMaxDiurnalShare, 1 - w));
            double e = 0;
            for (int l = 0; l < kLagCount; ++l) e += kLagWeights[l] * (residual[l] + wd * per[l]) * (residual[l] + wd * per[l]);
            if (wd > 0) keep(e, wd, kDiurnalPhis[d]);
          }
        }
    }
  }
  if (cal.noise_diurnal_share > 0) cal.diurnal_shape = shape;
}

// The leading pattern of the observed anomalies within a local day (each day's mean removed; days
// with every hour observed) as two daily harmonics, scaled to mean square 1. Empty with fewer than 60 such days.
std::vector<float> observed_diurnal_shape(const std::vector<double>& anomalies, const std::vector<int>& local_hour) {
  double cov[24][24] = {};
  int days = 0;
  for (size_t i = 0; i + 24 <= anomalies.size(); ++i) {
    if (local_hour[i] != 0) continue;
    const double* day = anomalies.data() + i;
    if (!std::all_of(day, day + 24, [](double x) { return std::isfinite(x); })) continue;
    double mean = 0;
    for (int h = 0; h < 24; ++h) mean += day[h] / 24;
    for (int h = 0; h < 24; ++h)
      for (int k = 0; k < 24; ++k) cov[h][k] += (day[h] - mean) * (day[k] - mean);
    ++days;
  }
  if (days < 60) return {};
  std::vector<double> v(24);
  constexpr double kPi = 3.14159265358979323846;
  for (int h = 0; h < 24; ++h) v[h] = std::cos(2 * kPi * h / 24) + 0.5 * std::sin(2 * kPi * h / 24);
  for (int iteration = 0; iteration < 200; ++iteration) {  // power iteration: the leading eigenvector
    std::vector<double> next(24, 0.0);
    double norm = 0;
    for (int h = 0; h < 24; ++h) {
      for (int k = 0; k < 24; ++k) next[h] += cov[h][k] * v[k];
      norm += next[h] * next[h];
    }
    if (!(norm > 0)) return {};
    for (int h = 0; h < 24; ++h) v[h] = next[h] / std::sqrt(norm);
  }
  // Its first two daily harmonics only: a day's pattern also holds the day's trend (a front
  // passing), a ramp from midnight to midnight that would jump back at every midnight as a
  // repeated shape (the smooth noise carries that weather); the harmonics join up (mean 0).
  std::vector<double> periodic(24, 0.0);
  for (int k = 1; k <= 2; ++k) {
    double c = 0, s = 0;
    for (int h = 0; h < 24; ++h) c += v[h] * std::cos(2 * kPi * k * h / 24), s += v[h] * std::sin(2 * kPi * k * h / 24);
    for (int h = 0; h < 24; ++h) periodic[h] += (c * std::cos(2 * kPi * k * h / 24) + s * std::sin(2 * kPi * k * h / 24)) / 12;
  }
  // One sign for every cell (an eigenvector's is arbitrary): warm at 15 h local time. Cells share
  // the amplitude's normals through the spatial factors, and opposite signs would make their
  // afternoons anti-correlated.
  double square = 0, afternoon = 0;
  for (int h = 0; h < 24; ++h) square += periodic[h] * periodic[h] / 24, afternoon += periodic[h] * std::cos(2 * kPi * (h - 15) / 24);
  if (!(square > 0)) return {};
  if (afternoon < 0)
    for (double& x : periodic) x = -x;
  std::vector<float> shape(24);
  for (int h = 0; h < 24; ++h) shape[h] = static_cast<float>(periodic[h] / std::sqrt(square));
  return shape;
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

// How often a day in one tail of its month's daily values is followed by another, for the four
// tails: daily maxima above P90 and below P10, daily minima below P10 and above P90, of whole local
// days. Each source against its own monthly quantiles, so that the monotone map fitted later
// leaves it as it is. Counts are added over members (value(i, m): hour i of member m, NaN: missing).
struct TailPersistence {
  double today[4] = {}, both[4] = {};
  double probability(int tail) const { return today[tail] > 0 ? both[tail] / today[tail] : 0; }
  bool enough() const { return *std::min_element(today, today + 4) >= 30; }
  template <class Value>
  void add(int64_t n, int members, const std::vector<int>& hour, const std::vector<int>& month, Value value) {
    std::vector<double> high[12], low[12];
    std::vector<std::array<double, 3>> days;  // (max, min, month) of each local day, NaN if incomplete
    for (int m = 0; m < members; ++m) {
      double hi = -INFINITY, lo = INFINITY;
      bool complete = false;
      for (int64_t i = 0; i < n; ++i) {
        if (hour[i] == 0) hi = -INFINITY, lo = INFINITY, complete = true;
        const double v = value(i, m);
        complete = complete && std::isfinite(v);
        hi = std::max(hi, v), lo = std::min(lo, v);
        if (hour[i] != 23) continue;
        days.push_back({complete ? hi : NAN, complete ? lo : NAN, double(month[i])});
        if (complete) high[month[i]].push_back(hi), low[month[i]].push_back(lo);
      }
      days.push_back({NAN, NAN, 0});  // no pair across members
    }
    double threshold[4][12];
    for (int mo = 0; mo < 12; ++mo) {
      std::sort(high[mo].begin(), high[mo].end());
      std::sort(low[mo].begin(), low[mo].end());
      const auto at = [](const std::vector<double>& x, double q) { return x.empty() ? NAN : x[size_t(q * (x.size() - 1))]; };
      threshold[0][mo] = at(high[mo], 0.9), threshold[1][mo] = at(high[mo], 0.1);
      threshold[2][mo] = at(low[mo], 0.1), threshold[3][mo] = at(low[mo], 0.9);
    }
    const auto beyond = [&](const std::array<double, 3>& d, int tail) {
      const double v = tail < 2 ? d[0] : d[1], t = threshold[tail][int(d[2])];
      return std::isfinite(v) && (tail == 0 || tail == 3 ? v > t : v < t);
    };
    for (size_t d = 0; d + 1 < days.size(); ++d)
      for (int tail = 0; tail < 4; ++tail)
        if (beyond(days[d], tail) && std::isfinite(days[d + 1][0])) today[tail] += 1, both[tail] += beyond(days[d + 1], tail);
  }
};

// The smooth noise's skew by local hour (model/calibration.hpp): g(h) = g0 + g1 x(h), x the
// observed mean diurnal cycle scaled to [-1, 1] (1 at the warmest hour), with (g0, g1) the point
// of a grid of 0.1 (g0 -0.2..0.3, g1 -0.2..0.4, |g0| + |g1| <= 0.5: 38 points) whose generated
// traces (16 members, common random numbers) come closest to the observed persistence of the
// four tails; none where no point beats g = 0 or the record has too few days in a tail. Called with the noise sds set and no quantile map yet (the map keeps each month's
// order of values, and so the tails' persistence).
void fit_smooth_skew(Vae& vae, ModelFile& model, const Store& store, int c, const TraceRequest& request,
                     const std::vector<double>& observed, const std::vector<int>& hour, const std::vector<int>& month,
                     Calibration& cal) {
  const int64_t n = static_cast<int64_t>(observed.size());
  TailPersistence obs;
  obs.add(n, 1, hour, month, [&](int64_t i, int) { return observed[i]; });
  if (!obs.enough()) return;
  double cycle[24] = {}, count[24] = {}, mean = 0, largest = 0;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(observed[i])) cycle[hour[i]] += observed[i], count[hour[i]] += 1;
  for (int h = 0; h < 24; ++h) mean += (cycle[h] /= std::max(count[h], 1.0)) / 24;
  for (int h = 0; h < 24; ++h) largest = std::max(largest, std::fabs(cycle[h] - mean));
  if (!(largest > 1e-6)) return;
  const int global = store.first_cell + c;
  const ModelCell& cell = model.cells[global];
  TraceRequest r = request;
  r.members = 16;
  r.calibrated = true;
  double best = INFINITY;
  std::vector<float> chosen;
  for (int i0 = -2; i0 <= 3; ++i0)
    for (int i1 = -2; i1 <= 4; ++i1) {
      if (std::abs(i0) + std::abs(i1) > 5) continue;  // |g| <= 0.5
      const double g0 = 0.1 * i0, g1 = 0.1 * i1;
      Calibration k = cal;
      k.smooth_skew.clear();
      if (g0 != 0 || g1 != 0)
        for (int h = 0; h < 24; ++h) k.smooth_skew.push_back(static_cast<float>(g0 + g1 * (cycle[h] - mean) / largest));
      model.cells[global].calibration = k;
      const std::vector<float> generated = generate_traces(vae, model, r);
      TailPersistence gen;
      gen.add(n, r.members, hour, month, [&](int64_t i, int m) {
        return std::isfinite(observed[i]) ? standardise(cell, generated[size_t(i) * r.members + m]) : NAN;
      });
      double error = 0;
      for (int tail = 0; tail < 4; ++tail) error += std::pow(gen.probability(tail) - obs.probability(tail), 2);
      if (error < best) best = error, chosen = k.smooth_skew;
    }
  model.cells[global].calibration = Calibration();
  cal.smooth_skew = chosen;
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
  TraceRequest r = store_period_request(store, c, members, kCalibrationSeed);
  r.calibrated = false;  // with the model's spatial factors, if any: the traces users get
  const std::vector<float> generated = generate_traces(vae, model, r);
  const int64_t n = store.num_hours;
  std::vector<int> month(n), slot(n), hour(n);  // calendar month, (month, hour), hour of each hour, local time
  for (int64_t i = 0; i < n; ++i) {
    const CivilDate d = civil_from_hours(store.start_hour + i + cell.utc_offset_hours);
    month[i] = d.month - 1;
    hour[i] = d.hour;
    slot[i] = month[i] * 24 + d.hour;
  }
  auto gen = [&](int64_t i, int m) { return standardise(cell, generated[size_t(i) * members + m]); };
  // The generated climatology over every hour; the observed over the hours it has.
  std::vector<double> observed(n);
  Moments obs_slot[288], gen_slot[288];
  for (int64_t i = 0; i < n; ++i) {
    observed[i] = standardise(cell, store.detrended_k(c, i));
    if (std::isfinite(observed[i])) obs_slot[slot[i]].add(observed[i]);
    for (int m = 0; m < members; ++m) gen_slot[slot[i]].add(gen(i, m));
  }
  Calibration cal;
  // Persistence: anomalies from each source's own month x hour climatology, on the observed hours.
  std::vector<double> anomalies(n);
  for (int64_t i = 0; i < n; ++i) anomalies[i] = observed[i] - obs_slot[slot[i]].mean();
  const Persistence obs = persistence(anomalies);
  const std::vector<float> shape = observed_diurnal_shape(anomalies, hour);
  Persistence generated_persistence;
  for (int m = 0; m < members; ++m) {
    for (int64_t i = 0; i < n; ++i) anomalies[i] = std::isfinite(observed[i]) ? gen(i, m) - gen_slot[slot[i]].mean() : NAN;
    generated_persistence.add(persistence(anomalies), 1.0 / members);
  }
  if (obs.variance > 1e-12 && generated_persistence.variance > 1e-12) fit_weather_partition(obs, generated_persistence, shape, cal);
  if (cal.anomaly_scale != 1)
    for (int s = 0; s < 288; ++s) cal.generated_climatology.push_back(static_cast<float>(gen_slot[s].mean()));
  // Per month: what the scaled generated values lack in mean and variance.
  Moments obs_month[12], gen_month[12];
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(observed[i])) continue;
    obs_month[month[i]].add(observed[i]);
    const double centre = gen_slot[slot[i]].mean();
    for (int m = 0; m < members; ++m) gen_month[month[i]].add(centre + cal.anomaly_scale * (gen(i, m) - centre));
  }
  for (int m = 0; m < 12; ++m) {
    const bool seen = obs_month[m].n > 24 * 7;  // at least a week of data in this month
    cal.mean_correction.push_back(seen ? static_cast<float>(obs_month[m].mean() - gen_month[m].mean()) : 0.0f);
    const double lacking = seen ? std::max(0.0, obs_month[m].variance() - gen_month[m].variance()) : 0.0;
    cal.noise_sd.push_back(static_cast<float>(std::sqrt(lacking)));
  }
  fit_smooth_skew(vae, model, store, c, r, observed, hour, month, cal);
  fit_quantile_map(vae, model, store, c, r, month, observed, cal);
  return cal;
}

}  // namespace

// Layout: phi, a, stages, short share, short phi, climatology present (0/1), 12 mean corrections,
// 12 noise sds, the quantiles (generated, observed), the climatology (12 x 24), the diurnal share
// and phi, its shape (24; zeros: none), the skew present (0/1) and its 24 values.
constexpr int kPackedSkew = kPackedCalibration - 1 - 24;
constexpr int kPackedDiurnal = kPackedSkew - 2 - 24;
std::vector<float> packed(const Calibration& k) {
  std::vector<float> out{static_cast<float>(k.noise_phi),         static_cast<float>(k.anomaly_scale),
                         static_cast<float>(k.noise_stages),      static_cast<float>(k.noise_short_share),
                         static_cast<float>(k.noise_short_phi),   k.generated_climatology.empty() ? 0.0f : 1.0f};
  for (const auto* part : {&k.mean_correction, &k.noise_sd, &k.quantiles_generated, &k.quantiles_observed})
    out.insert(out.end(), part->begin(), part->end());
  out.resize(kPackedDiurnal - 12 * 24, 0.0f);
  out.insert(out.end(), k.generated_climatology.begin(), k.generated_climatology.end());
  out.resize(kPackedDiurnal, 0.0f);
  out.push_back(static_cast<float>(k.noise_diurnal_share));
  out.push_back(static_cast<float>(k.noise_diurnal_phi));
  out.insert(out.end(), k.diurnal_shape.begin(), k.diurnal_shape.end());
  out.resize(kPackedSkew, 0.0f);
  out.push_back(k.smooth_skew.empty() ? 0.0f : 1.0f);
  out.insert(out.end(), k.smooth_skew.begin(), k.smooth_skew.end());
  out.resize(kPackedCalibration, 0.0f);
  return out;
}

Calibration unpacked(const float* v) {
  Calibration k;
  k.noise_phi = v[0], k.anomaly_scale = v[1], k.noise_stages = static_cast<int>(v[2]);
  k.noise_short_share = v[3], k.noise_short_phi = v[4];
  const float* q = v + 6 + 24;
  k.mean_correction.assign(v + 6, v + 18);
  k.noise_sd.assign(v + 18, v + 30);
  k.quantiles_generated.assign(q, q + 12 * kQuantiles);
  k.quantiles_observed.assign(q + 12 * kQuantiles, q + 24 * kQuantiles);
  if (v[5] != 0) k.generated_climatology.assign(q + 24 * kQuantiles, q + 24 * kQuantiles + 12 * 24);
  const float* d = v + kPackedDiurnal;
  k.noise_diurnal_share = d[0], k.noise_diurnal_phi = d[1];
  if (k.noise_diurnal_share > 0) k.diurnal_shape.assign(d + 2, d + 26);
  const float* skew = v + kPackedSkew;
  if (skew[0] != 0) k.smooth_skew.assign(skew + 1, skew + 25);
  return k;
}

std::vector<Calibration> fit_calibration(Vae& vae, ModelFile& model, const Store& store, int members) {
  std::vector<Calibration> out;
  for (int c = 0; c < static_cast<int>(store.cells.size()); ++c) out.push_back(fit_cell(vae, model, store, c, members));
  return out;
}

}  // namespace climvae
