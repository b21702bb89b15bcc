// Proleptic Gregorian calendar arithmetic on whole hours since 1970-01-01T00:00 UTC.
// Every time axis in climvae (stores, model files, generated output) uses this count.
#pragma once
#include <cstdint>
#include <string>

namespace climvae {

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
  int hour;   // 0..23
};

int64_t days_from_civil(int year, int month, int day);
CivilDate civil_from_hours(int64_t hours_since_epoch);
int64_t hours_from_civil(const CivilDate& date);
// The hours the calendar covers, the years 1..9999: [calendar_first_hour(), calendar_end_hour()).
int64_t calendar_first_hour();
int64_t calendar_end_hour();

bool is_leap_year(int year);
int days_in_year(int year);
int days_in_month(int year, int month);

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH[:MM[:SS]]" or "YYYY-MM-DD HH:MM[:SS]" (UTC unless a
// caller says otherwise); minutes and seconds must be zero. Throws climvae::Error naming the text.
int64_t parse_iso_hour(const std::string& text);
// "YYYY-MM-DDTHH:00"
std::string format_iso_hour(int64_t hours_since_epoch);

// The midnight at or before `hours_since_epoch` (also before 1970, where % rounds towards zero).
int64_t floor_to_day(int64_t hours_since_epoch);
// The hour of the day, 0..23, of an hour count (before the epoch too).
int hour_of_day(int64_t hours_since_epoch);

// 0-based day of the year with the hour as a fraction (1 Jan 06:00 -> 0.25).
double day_of_year(int64_t hours_since_epoch);
// Year plus the elapsed fraction of it (used for linear trends).
double fractional_year(int64_t hours_since_epoch);

// The current wall-clock time as "YYYY-MM-DDTHH:MM:SSZ" (provenance of written files).
std::string utc_now_text();

}  // namespace climvae
