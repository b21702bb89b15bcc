// Seasonal features of the prior: latent step j of a window starting on (fractional, 0-based)
// day of year d0 sits on day d = (d0 + 4j) mod 365, θ = 2π d / 365, and gets
// (sin θ, sin 2θ, sin 3θ, cos θ, cos 2θ, cos 3θ).
#pragma once
#include <cstdint>

namespace climvae {

constexpr int kSeasonalFeatures = 6;
constexpr double kDaysPerStep = 4.0;  // 96 hours

// Writes steps * 6 features for a window whose first hour is local time `local_start_hour`
// (hours since 1970-01-01T00 in the series' local solar time), its day of year moved on by
// `phase_days` (see season_phase_days).
void seasonal_features(int64_t local_start_hour, int steps, float* out, double phase_days = 0);

// Calendar block of latent step `step` of a trace decoded from local midnight `origin_local_hour`
// (hours since 1970 in local solar time): blocks are local days 4j .. 4j+3 since 1970, and a step
// belongs to the block nearest to its days. Cells of one region share their weather by block.
int64_t calendar_block(int64_t origin_local_hour, int64_t step);

// Day-of-year shift of a cell's seasonal features: half a year south of the equator, so that
// one prior sees both hemispheres' seasons in phase (Sydney's January is Paris' July); 0 in
// the north, where the features are the seed's.
double season_phase_days(double latitude);

}  // namespace climvae
