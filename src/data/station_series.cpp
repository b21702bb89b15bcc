#include "data/station_series.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

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

}  // namespace

bool is_halfhourly_station_csv(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  return std::getline(in, first) && without_quotes(first) == "Date,Period,Temp";
}

HourlySeries read_halfhourly_station_csv(const std::string& path, int timestamps_utc_offset_hours) {
  std::ifstream in(path);
  require(in.good(), "cannot open CSV file '" + path + "'");
  require(timestamps_utc_offset_hours >= -12 && timestamps_utc_offset_hours <= 14,
          path + ": timestamp UTC offset " + std::to_string(timestamps_utc_offset_hours) + " h is outside -12..14");
  std::string line;
  std::getline(in, line);
  require(without_quotes(line) == "Date,Period,Temp", path + ": expected the header \"Date\",\"Period\",\"Temp\"");
  int line_number = 1;
  auto fail = [&](const std::string& message) { throw Error(path + ":" + std::to_string(line_number) + ": " + message); };

  int64_t first_day = 0, day = 0;
  int expected_period = 1;
  std::vector<double> readings_c;  // every half-hour from the first day's period 1
  while (std::getline(in, line)) {
    ++line_number;
    if (without_quotes(line).empty()) continue;
    std::istringstream fields(without_quotes(line));
    std::string date_text, period_text, temp_text;
    std::getline(fields, date_text, ',');
    std::getline(fields, period_text, ',');
    std::getline(fields, temp_text, ',');
    char* end = nullptr;
    const double date = std::strtod(date_text.c_str(), &end);
    if (end == date_text.c_str() || *end || date != std::floor(date)) fail("Date '" + date_text + "' is not a serial day");
    const long period = std::strtol(period_text.c_str(), &end, 10);
    if (end == period_text.c_str() || *end || period < 1 || period > kPeriodsPerDay)
      fail("Period '" + period_text + "' is not 1..48");
    const double temp = temp_text.empty() || temp_text == "NA" ? std::nan("") : std::strtod(temp_text.c_str(), &end);
    if (!std::isnan(temp) && (end == temp_text.c_str() || *end)) fail("non-numeric Temp '" + temp_text + "'");
    if (readings_c.empty()) first_day = day = static_cast<int64_t>(date);
    if (expected_period > kPeriodsPerDay) {  // the previous day is complete: the next one starts
      ++day;
      expected_period = 1;
    }
    if (static_cast<int64_t>(date) != day || period != expected_period)
      fail("expected day " + std::to_string(day) + " period " + std::to_string(expected_period) +
           ": every day needs its 48 half-hours in order (standard time, no daylight-saving days)");
    if (!std::isnan(temp)) require_air_temperature(temp, TemperatureUnit::celsius, path + ":" + std::to_string(line_number));
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
