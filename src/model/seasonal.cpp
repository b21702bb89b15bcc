#include "model/seasonal.hpp"

#include <cmath>

#include "common/calendar.hpp"

namespace climvae {

int64_t calendar_block(int64_t origin_local_hour, int64_t step) {
  const int64_t day = floor_to_day(origin_local_hour) / 24 + 4 * step;
  const int64_t shifted = day + 2;  // nearest block: floor((day + 2) / 4)
  return (shifted - ((shifted % 4) + 4) % 4) / 4;
}

double season_phase_days(double latitude) { return latitude < 0 ? 365.0 / 2 : 0.0; }

void seasonal_features(int64_t local_start_hour, int steps, float* out, double phase_days) {
  const double d0 = day_of_year(local_start_hour) + phase_days;
  constexpr double kTwoPi = 6.283185307179586;
  for (int j = 0; j < steps; ++j) {
    const double theta = kTwoPi * std::fmod(d0 + kDaysPerStep * j, 365.0) / 365.0;
    float* f = out + j * kSeasonalFeatures;
    f[0] = static_cast<float>(std::sin(theta));
    f[1] = static_cast<float>(std::sin(2 * theta));
    f[2] = static_cast<float>(std::sin(3 * theta));
    f[3] = static_cast<float>(std::cos(theta));
    f[4] = static_cast<float>(std::cos(2 * theta));
    f[5] = static_cast<float>(std::cos(3 * theta));
  }
}

}  // namespace climvae
