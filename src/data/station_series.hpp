// Station CSVs in local standard time:
// - half-hourly, as the Bureau of Meteorology temperatures of the Australian electricity data
//   sets: `"Date","Period","Temp"` with Date an Excel serial day, Period 1..48 the half-hour
//   ending at Period * 30 min local standard time, Temp in °C;
// - hourly, as the UCI Beijing Multi-Site Air-Quality files (PRSA_Data_<Site>_*.csv): a header
//   naming at least "year","month","day","hour" (0..23, local standard time) and "TEMP" (°C),
//   other columns ignored, `NA` for a missing value.
#pragma once
#include <string>

#include "data/csv_series.hpp"

namespace climvae {

// True when the file's first line is that header.
bool is_halfhourly_station_csv(const std::string& path);

// Reads such a file into an hourly UTC series: the value at local hour h is the reading of the
// period ending at h:00 (instantaneous, like ERA5), and UTC = local - timestamps_utc_offset_hours.
// Every day must have its 48 periods: a daylight-saving day has 46 or 50, so this also proves
// the timestamps are standard time. Throws climvae::Error naming the file and line.
HourlySeries read_halfhourly_station_csv(const std::string& path, int timestamps_utc_offset_hours);

// True when the file's first line names the columns year, month, day, hour and TEMP.
bool is_prsa_station_csv(const std::string& path);

// Reads such a file into an hourly UTC series (UTC = local - timestamps_utc_offset_hours; Beijing
// is +8). Rows must go forward one or more hours at a time; skipped hours become NaN. Throws
// climvae::Error naming the file and line for a bad date, hour or value, a repeated or backward
// hour, and a file without data rows.
HourlySeries read_prsa_station_csv(const std::string& path, int timestamps_utc_offset_hours);

}  // namespace climvae
