// Hourly series from CSV: Open-Meteo exports and generic `time,value` files, UTC timestamps.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/lat_lon.hpp"
#include "data/units.hpp"

namespace climvae {

// A contiguous hourly series in kelvin: sample i is at start_hour + i, NaN where missing.
struct HourlySeries {
  int64_t start_hour = 0;                // hours since 1970-01-01T00:00 UTC
  std::vector<double> values_k;
  std::optional<LatLon> location;        // from Open-Meteo's metadata lines, when present
  TemperatureUnit file_unit = TemperatureUnit::kelvin;  // the unit the file was written in
};

// Reads `time,value` rows with ISO `YYYY-MM-DDTHH:MM` UTC timestamps. The unit comes from the
// value column's header, e.g. `temperature_2m (°C)`, or from `declared_unit` when the header
// has none; when both are given they must agree. Accepts Open-Meteo's optional metadata lines
// (`latitude,longitude,...` + values) and blank lines before the header. Missing timestamps and
// empty/NaN values become NaN. Throws climvae::Error naming the file and line for duplicated or
// backward timestamps, non-hourly times, non-numeric values, and a file without data rows.
HourlySeries read_csv_series(const std::string& path,
                             std::optional<TemperatureUnit> declared_unit = std::nullopt);

// Open-Meteo names its downloads `open-meteo-48.82N2.29E46m_Paris.csv`: the coordinates, if the
// file name (directory ignored) carries them this way.
std::optional<LatLon> location_from_openmeteo_filename(const std::string& path);

}  // namespace climvae
