// Daily anomalies against a smooth seasonal cycle, the one definition used wherever the
// co-variability of cells is fitted (train/spatial_factors) or judged (eval/spatial).
#pragma once
#include <cstdint>

namespace climvae {

// Removes from `rows` series of daily values (row-major, `days` each, day d being day
// first_day + d since 1970-01-01, NaN where unknown and left NaN) their seasonal cycle: a mean and
// three annual harmonics fitted by least squares to the known values of all rows together.
// Calendar-month means would leave each month's seasonal slope in the anomalies (a spring month
// warms by several degrees from its first day to its last), which correlates cells of one
// hemisphere and anti-correlates opposite hemispheres whatever their weather. With too few known
// days to fit the harmonics (fewer than 60, or no spread over the year) only the mean is removed.
void remove_seasonal_cycle(double* values, int rows, int days, int64_t first_day);

}  // namespace climvae
