#include "data/station_series.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>
#include <fstream>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace climvae {

namespace {

constexpr int64_t kExcelDayOf1970 = 25569;  // Excel serial day of 1970-01-01
constexpr int kPeriodsPerDay = 48;

std::string without_quotes(std::string text) {
  std::string out;
  for (char c : text)
    if (c != '"' && c != '\r' && c != ' ') out += c;
  return out;
}

// The fields of one CSV line with quotes, spaces and a Windows line end removed.
std::vector<std::string> unquoted_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream stream(without_quotes(line));
  for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
  return fields;
}

// Column positions of a PRSA header; -1 where a column is missing.
struct PrsaColumns {
  int year = -1, month = -1, day = -1, hour = -1, temp = -1;
  bool complete() const { return year >= 0 && month >= 0 && day >= 0 && hour >= 0 && temp >= 0; }
  int needed() const { return std::max({year, month, day, hour, temp}) + 1; }
};

PrsaColumns prsa_columns(const std::string& header) {
  PrsaColumns c;
  const auto names = unquoted_fields(header);
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    if (names[i] == "year") c.year = i;
    if (names[i] == "month") c.month = i;
    if (names[i] == "day") c.day = i;
    if (names[i] == "hour") c.hour = i;
    if (names[i] == "TEMP") c.temp = i;
  }
  return c;
}

// A station file read line by line after its header: blank lines skipped, failures naming the
// file and line.
struct StationLines {
  std::string path;
  std::ifstream in;
  std::string header;
  int number = 1;

  StationLines(const std::string& file, int timestamps_utc_offset_hours) : path(file), in(file) {
    require(in.good(), "cannot open CSV file '" + path + "'");
    require(timestamps_utc_offset_hours >= -12 && timestamps_utc_offset_hours <= 14,
            path + ": timestamp UTC offset " + std::to_string(timestamps_utc_offset_hours) + " h is outside -12..14");
    std::getline(in, header);
  }
  bool next(std::string& line) {
    while (std::getline(in, line)) {
      ++number;
      if (!without_quotes(line).empty()) return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(path + ":" + std::to_string(number) + ": " + message);
  }
};

}  // namespace

bool is_prsa_station_csv(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  return std::getline(in, first) && prsa_columns(first).complete();
}

HourlySeries read_prsa_station_csv(const std::string& path, int timestamps_utc_offset_hours) {
  StationLines lines(path, timestamps_utc_offset_hours);
  const PrsaColumns columns = prsa_columns(lines.header);
  require(columns.complete(), path + ": expected a header naming \"year\",\"month\",\"day\",\"hour\" and \"TEMP\"");
  auto whole_number = [&](const std::string& text, const char* what, long low, long high) {
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || value < low || value > high)
      lines.fail(std::string(what) + " '" + text + "' is not " + std::to_string(low) + ".." + std::to_string(high));
    return static_cast<int>(value);
  };

  HourlySeries series;
  series.file_unit = TemperatureUnit::celsius;
  int64_t previous_local = 0;
  std::string line;
  while (lines.next(line)) {
    const auto fields = unquoted_fields(line);
    if (static_cast<int>(fields.size()) < columns.needed())
      lines.fail("expected at least " + std::to_string(columns.needed()) + " fields, got " + std::to_string(fields.size()));
    const int year = whole_number(fields[columns.year], "year", 1800, 2200);
    const int month = whole_number(fields[columns.month], "month", 1, 12);
    const int day = whole_number(fields[columns.day], "day", 1, days_in_month(year, month));
    const int hour = whole_number(fields[columns.hour], "hour", 0, 23);
    const int64_t local = days_from_civil(year, month, day) * 24 + hour;
    const std::string& temp_text = fields[columns.temp];
    char* end = nullptr;
    const double temp = temp_text.empty() || temp_text == "NA" ? std::nan("") : std::strtod(temp_text.c_str(), &end);
    if (!std::isnan(temp) && (end == temp_text.c_str() || *end || !std::isfinite(temp)))
      lines.fail("non-numeric TEMP '" + temp_text + "'");
    // As in the half-hourly reader: a -999 sentinel was stored as -725.85 K.
    if (!std::isnan(temp)) require_air_temperature(temp, series.file_unit, path + ":" + std::to_string(lines.number));
    if (series.values_k.empty()) {
      series.start_hour = local - timestamps_utc_offset_hours;
    } else {
      if (local <= previous_local)
        lines.fail(std::to_string(year) + "-" + std::to_string(month) + "-" + std::to_string(day) + " hour " +
                   std::to_string(hour) + " does not come after the previous row");
      series.values_k.resize(series.values_k.size() + static_cast<size_t>(local - previous_local - 1), std::nan(""));
    }
    series.values_k.push_back(to_kelvin(temp, series.file_unit));
    previous_local = local;
  }
  require(!series.values_k.empty(), path + ": no data rows");
  return series;
}

bool is_halfhourly_station_csv(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  return std::getline(in, first) && without_quotes(first) == "Date,Period,Temp";
}

HourlySeries read_halfhourly_station_csv(const std::string& path, int timestamps_utc_offset_hours) {
  StationLines lines(path, timestamps_utc_offset_hours);
  require(without_quotes(lines.header) == "Date,Period,Temp", path + ": expected the header \"Date\",\"Period\",\"Temp\"");

  int64_t first_day = 0, day = 0;
  int expected_period = 1;
  std::vector<double> readings_c;  // every half-hour from the first day's period 1
  std::string line;
  while (lines.next(line)) {
    std::istringstream fields(without_quotes(line));
    std::string date_text, period_text, temp_text;
    std::getline(fields, date_text, ',');
    std::getline(fields, period_text, ',');
    std::getline(fields, temp_text, ',');
    char* end = nullptr;
    const double date = std::strtod(date_text.c_str(), &end);
    // Serial days 2..2958465 are 1900-01-01..9999-12-31; 1e300 overflowed the day count.
    if (end == date_text.c_str() || *end || date != std::floor(date) || !(date >= 2 && date <= 2958465))
      lines.fail("Date '" + date_text + "' is not a serial day of 1900-01-01..9999-12-31 (2..2958465)");
    const long period = std::strtol(period_text.c_str(), &end, 10);
    if (end == period_text.c_str() || *end || period < 1 || period > kPeriodsPerDay)
      lines.fail("Period '" + period_text + "' is not 1..48");
    const double temp = temp_text.empty() || temp_text == "NA" ? std::nan("") : std::strtod(temp_text.c_str(), &end);
    if (!std::isnan(temp) && (end == temp_text.c_str() || *end)) lines.fail("non-numeric Temp '" + temp_text + "'");
    if (readings_c.empty()) first_day = day = static_cast<int64_t>(date);
    if (expected_period > kPeriodsPerDay) {  // the previous day is complete: the next one starts
      ++day;
      expected_period = 1;
    }
    if (static_cast<int64_t>(date) != day || period != expected_period)
      lines.fail("expected day " + std::to_string(day) + " period " + std::to_string(expected_period) +
                 ": every day needs its 48 half-hours in order (standard time, no daylight-saving days)");
    if (!std::isnan(temp))
      require_air_temperature(temp, TemperatureUnit::celsius, path + ":" + std::to_string(lines.number));
    readings_c.push_back(temp);
    ++expected_period;
  }
  require(!readings_c.empty(), path + ": no data rows");
  require(expected_period > kPeriodsPerDay, path + ": the last day has " + std::to_string(expected_period - 1) +
                                                " of its 48 half-hours");

  // Half-hour k ends at local (first_day, (k + 1) * 30 min): on-the-hour readings are the odd k.
  HourlySeries series;
  series.file_unit = TemperatureUnit::celsius;
  series.start_hour = (first_day - kExcelDayOf1970) * 24 + 1 - timestamps_utc_offset_hours;
  for (size_t k = 1; k < readings_c.size(); k += 2) series.values_k.push_back(to_kelvin(readings_c[k], series.file_unit));
  return series;
}

}  // namespace climvae
