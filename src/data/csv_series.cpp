#include "data/csv_series.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace climvae {

namespace {

// Longer than any plausible record; guards against allocating a vector for a typo'd year.
constexpr int64_t max_series_hours = int64_t(24) * 366 * 500;

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(trimmed(field));
  if (!line.empty() && line.back() == ',') fields.emplace_back();  // getline drops a trailing empty field
  return fields;
}

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_missing_value(const std::string& text) {
  const std::string word = lowercase(text);
  return word.empty() || word == "nan" || word == "-nan" || word == "na";
}

bool looks_like_date(const std::string& text) {
  return text.size() >= 10 && std::isdigit(static_cast<unsigned char>(text[0])) && text[4] == '-' && text[7] == '-';
}

// The text in parentheses of a header like `temperature_2m (°C)`, if any.
std::optional<std::string> unit_in_header(const std::string& column) {
  const auto open = column.rfind('(');
  const auto close = column.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  return trimmed(column.substr(open + 1, close - open - 1));
}

struct Reader {
  std::string path;
  std::ifstream in;
  int line_number = 0;

  bool next(std::string& line) {
    if (!std::getline(in, line)) return false;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte order mark
    // Old Mac line ends (the whole file one "line") and binary files (a spreadsheet, gzip,
    // NetCDF) were echoed into the header message: megabytes, control bytes, cut at a NUL.
    for (unsigned char c : line)
      if (c < 0x20 && c != '\t' && c != '\r')
        fail("binary data, not CSV text (a spreadsheet, a compressed or NetCDF file, or UTF-16?)");
    if (line.find('\r') != std::string::npos)
      fail("a carriage return inside a line: old Mac line ends? (convert them with tr '\\r' '\\n')");
    return true;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(path + ":" + std::to_string(line_number) + ": " + message);
  }
};

double parse_number(const Reader& reader, const std::string& text, const std::string& what) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(value))
    reader.fail("non-numeric " + what + " '" + text + "'");
  return value;
}

// Open-Meteo's `latitude,longitude,elevation,utc_offset_seconds,...` header and its value line.
LatLon parse_openmeteo_metadata(Reader& reader, const std::vector<std::string>& names) {
  std::string line;
  if (!reader.next(line)) reader.fail("metadata header without a line of values");
  const auto values = split_fields(line);
  if (values.size() != names.size())
    reader.fail("metadata line has " + std::to_string(values.size()) + " fields, its header " +
                std::to_string(names.size()));
  std::map<std::string, std::string> field;
  for (size_t i = 0; i < names.size(); ++i) field[names[i]] = values[i];
  // Open-Meteo shifts timestamps to local time for any timezone but GMT; climvae wants UTC.
  if (field.count("utc_offset_seconds") && parse_number(reader, field["utc_offset_seconds"], "utc_offset_seconds") != 0)
    reader.fail("timestamps are in local time (utc_offset_seconds = " + field["utc_offset_seconds"] +
                "); download the data with timezone=GMT");
  if (!field.count("longitude")) reader.fail("metadata has 'latitude' but no 'longitude'");
  return {parse_number(reader, field["latitude"], "latitude"), parse_number(reader, field["longitude"], "longitude")};
}

TemperatureUnit resolve_unit(const Reader& reader, const std::string& value_column,
                             std::optional<TemperatureUnit> declared_unit) {
  const auto header_unit_text = unit_in_header(value_column);
  if (!header_unit_text) {
    if (!declared_unit)
      throw Error(reader.path + ": the header '" + value_column + "' names no unit; give one with --units K|degC|degF");
    return *declared_unit;
  }
  TemperatureUnit header_unit;
  try {
    header_unit = parse_temperature_unit(*header_unit_text);
  } catch (const Error& e) {
    reader.fail(std::string("value column '") + value_column + "': " + e.what());
  }
  if (declared_unit && *declared_unit != header_unit)
    throw Error(reader.path + ": the header says " + unit_symbol(header_unit) + " but the units given are " +
                unit_symbol(*declared_unit));
  return header_unit;
}

struct Row {
  int64_t hour;
  double value;
};

// Gaps are fine, but a series sampled every few hours would silently become mostly NaN.
void require_hourly_spacing(const std::string& path, const std::vector<Row>& rows) {
  std::map<int64_t, int64_t> step_counts;
  for (size_t i = 1; i < rows.size(); ++i) ++step_counts[rows[i].hour - rows[i - 1].hour];
  if (step_counts.empty()) return;
  auto most_common = step_counts.begin();
  for (auto it = step_counts.begin(); it != step_counts.end(); ++it)
    if (it->second > most_common->second) most_common = it;
  require(most_common->first == 1, path + ": consecutive timestamps are mostly " + std::to_string(most_common->first) +
                                       " hours apart; climvae needs hourly data");
}

}  // namespace

HourlySeries read_csv_series(const std::string& path, std::optional<TemperatureUnit> declared_unit) {
  Reader reader{path, std::ifstream(path), 0};
  require(reader.in.good(), "cannot open CSV file '" + path + "'");

  HourlySeries series;
  std::string line;
  std::optional<std::string> value_column;
  bool header_or_data_seen = false;
  std::vector<Row> rows;
  std::vector<int> row_lines;  // for messages about an earlier row

  while (reader.next(line)) {
    if (trimmed(line).empty()) continue;
    const auto fields = split_fields(line);
    if (!header_or_data_seen) {
      if (!fields.empty() && lowercase(fields[0]) == "latitude") {
        series.location = parse_openmeteo_metadata(reader, fields);
        continue;
      }
      header_or_data_seen = true;
      if (fields.empty() || !looks_like_date(fields[0])) {  // a header line, e.g. `time,temperature_2m (°C)`
        if (fields.size() != 2)
          reader.fail("expected a header 'time,value' with two columns, got '" + line + "'");
        value_column = fields[1];
        series.file_unit = resolve_unit(reader, *value_column, declared_unit);
        continue;
      }
      series.file_unit = resolve_unit(reader, "", declared_unit);
    }
    if (fields.size() != 2) reader.fail("expected 2 fields 'time,value', got " + std::to_string(fields.size()));
    int64_t hour = 0;
    try {
      hour = parse_iso_hour(fields[0]);
    } catch (const Error& e) {
      reader.fail(std::string(e.what()) + " (climvae needs hourly data at whole UTC hours)");
    }
    if (!rows.empty()) {
      const int64_t previous = rows.back().hour;
      if (hour == previous)
        reader.fail("duplicate timestamp " + fields[0] + " (also on line " + std::to_string(row_lines.back()) + ")");
      if (hour < previous)
        reader.fail("timestamp " + fields[0] + " goes backwards (line " + std::to_string(row_lines.back()) + " has " +
                    format_iso_hour(previous) + ")");
      // The whole span, not each step: 26 rows 400 years apart made a 10000-year series (2.4 GB).
      if (hour - rows.front().hour > max_series_hours)
        reader.fail("timestamp " + fields[0] + " is more than 500 years after the first one (line " +
                    std::to_string(row_lines.front()) + " has " + format_iso_hour(rows.front().hour) + ")");
    }
    const double value = is_missing_value(fields[1]) ? std::nan("") : parse_number(reader, fields[1], "value");
    if (!std::isnan(value)) require_air_temperature(value, series.file_unit, path + ":" + std::to_string(reader.line_number));
    rows.push_back({hour, value});
    row_lines.push_back(reader.line_number);
  }
  require(!rows.empty(), path + ": no data rows (expected 'time,value' lines after the header)");
  require_hourly_spacing(path, rows);

  series.start_hour = rows.front().hour;
  series.values_k.assign(static_cast<size_t>(rows.back().hour - rows.front().hour + 1), std::nan(""));
  for (const Row& row : rows) series.values_k[row.hour - series.start_hour] = to_kelvin(row.value, series.file_unit);
  return series;
}

std::optional<LatLon> location_from_openmeteo_filename(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  static const std::regex pattern(R"(([0-9]+(?:\.[0-9]+)?)([NS])([0-9]+(?:\.[0-9]+)?)([EW]))");
  std::smatch match;
  if (!std::regex_search(name, match, pattern)) return std::nullopt;
  const double latitude = std::stod(match[1].str()) * (match[2].str() == "S" ? -1 : 1);
  const double longitude = std::stod(match[3].str()) * (match[4].str() == "W" ? -1 : 1);
  if (latitude > 90 || longitude > 180) return std::nullopt;
  return LatLon{latitude, longitude};
}

}  // namespace climvae
