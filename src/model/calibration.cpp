#include "model/calibration.hpp"

#include "common/calendar.hpp"

namespace climvae {

double monthly_interpolated(const std::vector<float>& monthly, int64_t local_hour) {
  const CivilDate d = civil_from_hours(local_hour);
  const double month_days = days_in_month(d.year, d.month);
  // Position in months from the middle of January, then linear between neighbouring mid-months.
  const double pos = (d.month - 1) + (d.day - 1 + d.hour / 24.0) / month_days - 0.5;
  const int lo = static_cast<int>(std::floor(pos));
  const double w = pos - lo;
  return (1 - w) * monthly[(lo + 12) % 12] + w * monthly[(lo + 13) % 12];
}

}  // namespace climvae
