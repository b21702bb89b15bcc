#include "model/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/calendar.hpp"

namespace climvae {

namespace {

// The two calendar months around local hour `local_hour` and the weight of the second: linear
// between mid-months.
struct MonthBlend {
  int first, second;
  double weight;
};

// civil_from_hours once per day per thread: month_blend runs for every hour of every member, and
// the calendar's divisions were a tenth of a calibrated generation's time (measured).
CivilDate civil_date_of(int64_t local_hour) {
  thread_local int64_t cached_midnight = std::numeric_limits<int64_t>::min();
  thread_local CivilDate cached{};
  const int64_t midnight = floor_to_day(local_hour);
  if (midnight != cached_midnight) {
    cached = civil_from_hours(midnight);
    cached_midnight = midnight;
  }
  CivilDate d = cached;
  d.hour = static_cast<int>(local_hour - midnight);
  return d;
}

MonthBlend month_blend(int64_t local_hour) {
  const CivilDate d = civil_date_of(local_hour);
  const double month_days = days_in_month(d.year, d.month);
  const double pos = (d.month - 1) + (d.day - 1 + d.hour / 24.0) / month_days - 0.5;  // from mid-January
  const int lo = static_cast<int>(std::floor(pos));
  return {(lo + 12) % 12, (lo + 13) % 12, pos - lo};
}

double mapped_in_month(const Calibration& c, int month, double v) {
  const float* g = c.quantiles_generated.data() + month * kQuantiles;
  const float* o = c.quantiles_observed.data() + month * kQuantiles;
  if (v <= g[0]) return v + (o[0] - g[0]);
  if (v >= g[kQuantiles - 1]) return v + (o[kQuantiles - 1] - g[kQuantiles - 1]);
  // The knot below v: the count of knots <= v, as std::upper_bound finds it in ascending knots (the
  // model file refuses others), without its unpredictable branches (a tenth of generation, measured).
  const float vf = static_cast<float>(v);
  int at_or_below = 0;
  for (int q = 0; q < kQuantiles; ++q) at_or_below += g[q] <= vf;
  const int i = at_or_below - 1;
  const double span = g[i + 1] - g[i];
  const double w = span > 0 ? (v - g[i]) / span : 0.5;
  return o[i] + w * (o[i + 1] - o[i]);
}

}  // namespace

double monthly_interpolated(const std::vector<float>& monthly, int64_t local_hour) {
  const MonthBlend b = month_blend(local_hour);
  return (1 - b.weight) * monthly[b.first] + b.weight * monthly[b.second];
}

CalibratedHour calibrated_hour(const Calibration& c, int64_t local_hour) {
  const MonthBlend b = month_blend(local_hour);
  const auto blend = [&](const std::vector<float>& m) { return (1 - b.weight) * m[b.first] + b.weight * m[b.second]; };
  CalibratedHour h;
  h.first_month = b.first, h.second_month = b.second, h.weight = b.weight;
  if (!c.generated_climatology.empty()) {
    const int hour = hour_of_day(local_hour);
    h.centre = (1 - b.weight) * c.generated_climatology[b.first * 24 + hour] +
               b.weight * c.generated_climatology[b.second * 24 + hour];
  }
  h.mean_correction = blend(c.mean_correction);
  h.noise_sd = blend(c.noise_sd);
  return h;
}

double calibrated_value(const Calibration& c, const CalibratedHour& h, double decoded, float noise) {
  if (!c.generated_climatology.empty())  // the decoded anomaly scaled about the generated climatology
    decoded = h.centre + c.anomaly_scale * (decoded - h.centre);
  const float weather = static_cast<float>(h.mean_correction + h.noise_sd * noise);
  const double v = decoded + weather;
  if (c.quantiles_generated.empty()) return v;
  return (1 - h.weight) * mapped_in_month(c, h.first_month, v) + h.weight * mapped_in_month(c, h.second_month, v);
}

double staged_noise_autocorrelation(double phi, int stages, double lag) {
  phi = std::clamp(phi, 0.0, 0.999);
  const double one = std::pow(phi, lag);
  return stages <= 1 ? one : one * (1 + lag * (1 - phi * phi) / (1 + phi * phi));
}

double diurnal_mode_autocorrelation(double phi, const std::vector<float>& shape, int lag) {
  double same = 0;
  for (int h = 0; h < 24; ++h) same += double(shape[h]) * shape[(h + lag) % 24];
  return staged_noise_autocorrelation(phi, 2, lag) * same / 24;
}

SkewedNormal::SkewedNormal(double skew) : g(skew), identity(std::fabs(skew) < 1e-6) {
  if (identity) return;
  // Increasing in s for either sign of g (the shared factors' normals keep their sign); g < 0 the mirror image.
  const double g2 = g * g;
  sign = g > 0 ? 1 : -1;
  centre = std::exp(g2 / 2);
  spread = std::sqrt(std::exp(2 * g2) - std::exp(g2));
}

double quantile_mapped(const Calibration& c, double v, int64_t local_hour) {
  if (c.quantiles_generated.empty()) return v;
  const MonthBlend b = month_blend(local_hour);
  return (1 - b.weight) * mapped_in_month(c, b.first, v) + b.weight * mapped_in_month(c, b.second, v);
}

}  // namespace climvae
