#include "common/calendar.hpp"

#include <cstdio>
#include <ctime>

#include "common/error.hpp"

namespace climvae {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t days_from_civil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int& year, int& month, int& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(yoe + era * 400 + (month <= 2));
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

CivilDate civil_from_hours(int64_t hours) {
  const int64_t days = floor_div(hours, 24);
  CivilDate date{};
  civil_from_days(days, date.year, date.month, date.day);
  date.hour = static_cast<int>(hours - days * 24);
  return date;
}

int hour_of_day(int64_t hours) { return static_cast<int>(((hours % 24) + 24) % 24); }
int64_t floor_to_day(int64_t hours) { return hours - hour_of_day(hours); }

int64_t hours_from_civil(const CivilDate& d) { return days_from_civil(d.year, d.month, d.day) * 24 + d.hour; }
int64_t calendar_first_hour() { return days_from_civil(1, 1, 1) * 24; }
int64_t calendar_end_hour() { return days_from_civil(10000, 1, 1) * 24; }

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }
int days_in_year(int year) { return is_leap_year(year) ? 366 : 365; }
int days_in_month(int year, int month) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

int64_t parse_iso_hour(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 0;
  int consumed = 0;
  const char* c = text.c_str();
  const int fields = std::sscanf(c, "%4d-%2d-%2d%n", &y, &mo, &d, &consumed);
  require(fields == 3 && consumed == 10, "not a date 'YYYY-MM-DD[THH:MM]': '" + text + "'");
  if (text.size() > 10) {
    sep = text[10];
    int more = 0;
    const int n = std::sscanf(c + 11, "%2d%n:%2d%n:%2d%n", &h, &more, &mi, &more, &s, &more);
    require((sep == 'T' || sep == ' ') && n >= 1 && 11 + more == static_cast<int>(text.size()),
            "not a date-time 'YYYY-MM-DDTHH:MM': '" + text + "'");
  }
  require(mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h >= 0 && h <= 23,
          "date outside the calendar: '" + text + "'");
  require(mi == 0 && s == 0, "only whole hours are supported: '" + text + "'");
  return hours_from_civil({y, mo, d, h});
}

std::string format_iso_hour(int64_t hours) {
  const CivilDate d = civil_from_hours(hours);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:00", d.year, d.month, d.day, d.hour);
  return buf;
}

static double day_of_year(int64_t hours, int year) {
  const int64_t jan1 = days_from_civil(year, 1, 1) * 24;
  return static_cast<double>(hours - jan1) / 24.0;
}

double day_of_year(int64_t hours) { return day_of_year(hours, civil_from_hours(hours).year); }

double fractional_year(int64_t hours) {
  const int year = civil_from_hours(hours).year;
  return year + day_of_year(hours, year) / days_in_year(year);
}

std::string utc_now_text() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace climvae
