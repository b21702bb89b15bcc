#include "generate/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"

namespace climvae {

std::string Scenario::describe(int reference_year) const {
  std::ostringstream s;
  switch (path) {
    case Path::none: s << "climate of the reference year " << reference_year; break;
    case Path::learned_trend: s << "learned per-cell trend"; break;
    case Path::rate: s << "warming of " << rate_k_per_year << " K/year"; break;
    case Path::table:
      s << "warming table " << table_k.begin()->first << "-" << table_k.rbegin()->first;
      if (table_pattern_rate_k_per_year > 0) s << " scaled by cell trend / " << table_pattern_rate_k_per_year << " K/year";
      break;
  }
  if (path != Path::none) {
    s << (transient ? ", transient" : ", time slice of " + std::to_string(slice_year == 0 ? reference_year : slice_year));
    s << " (relative to reference year " << reference_year << ")";
  }
  if (offset_k != 0) s << ", plus " << offset_k << " K";
  return s.str();
}

namespace {

double table_at(const std::map<int, double>& table, double year) {
  require(!table.empty(), "the warming table is empty");
  const double first = table.begin()->first, last = table.rbegin()->first;
  require(year >= first - 1e-9 && year <= last + 1 + 1e-9,
          "year " + std::to_string(year) + " is outside the warming table (" + std::to_string(int(first)) + "-" +
              std::to_string(int(last)) + ")");
  // Offsets are annual means: place each at mid-year and interpolate linearly between them.
  auto hi = table.upper_bound(static_cast<int>(std::floor(year - 0.5)));
  if (hi == table.begin()) return hi->second;
  if (hi == table.end()) return std::prev(hi)->second;
  auto lo = std::prev(hi);
  const double w = (year - 0.5 - lo->first) / double(hi->first - lo->first);
  return lo->second + std::clamp(w, 0.0, 1.0) * (hi->second - lo->second);
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void require_within(double value, double low, double high, const std::string& what, const std::string& unit) {
  const std::string in_unit = unit.empty() ? "" : " " + unit;
  require(value >= low && value <= high,  // false for NaN
          what + " " + number_text(value) + in_unit + " is outside " + number_text(low) + ".." + number_text(high) +
              in_unit + " (see \"What climvae refuses\" in docs/user-guide.md)");
}

}  // namespace

void validate_scenario(const Scenario& s) {
  require_within(s.offset_k, -kMaxWarmingOffsetK, kMaxWarmingOffsetK, "warming offset", "K");
  require_within(s.rate_k_per_year, -kMaxWarmingRateKPerYear, kMaxWarmingRateKPerYear, "warming rate", "K/year");
  if (s.slice_year != 0) require_within(s.slice_year, kFirstScenarioYear, kLastScenarioYear, "target year", "");
  if (s.table_pattern_rate_k_per_year != 0)
    require_within(s.table_pattern_rate_k_per_year, kMinPatternRateKPerYear, kMaxPatternRateKPerYear, "pattern rate",
                   "K/year");
  for (const auto& [year, offset] : s.table_k) {
    require_within(year, kFirstScenarioYear, kLastScenarioYear, "warming table year", "");
    require_within(offset, -kMaxWarmingOffsetK, kMaxWarmingOffsetK, "warming table offset of " + std::to_string(year), "K");
  }
}

void check_generated_values(const float* tas_k, size_t count, const std::string& what) {
  for (size_t i = 0; i < count; ++i) {
    if (tas_k[i] >= kMinPlausibleK && tas_k[i] <= kMaxPlausibleK) continue;  // false for NaN
    // The message is built only here: formatting it for every value cost 30x the generation.
    throw Error(what + ": generated value " + std::to_string(i) + " is " + number_text(tas_k[i]) + " K, outside " +
                number_text(kMinPlausibleK) + ".." + number_text(kMaxPlausibleK) +
                " K (the scenario or the model leads outside any climate; nothing was written)");
  }
}

double scenario_warming_k(const Scenario& s, const ModelFile& model, int cell, double year) {
  require(cell >= 0 && cell < static_cast<int>(model.cells.size()), "cell " + std::to_string(cell) + " is not in the model");
  // The reference year's climate is centred on its middle.
  const double years = year - (model.reference_year + 0.5);
  double w = 0;
  switch (s.path) {
    case Scenario::Path::none: break;
    case Scenario::Path::learned_trend: w = model.cells[cell].trend_k_per_year * years; break;
    case Scenario::Path::rate: w = s.rate_k_per_year * years; break;
    case Scenario::Path::table:
      w = table_at(s.table_k, year);
      if (s.table_pattern_rate_k_per_year > 0) w *= model.cells[cell].trend_k_per_year / s.table_pattern_rate_k_per_year;
      break;
  }
  return w + s.offset_k;
}

void apply_scenario(const Scenario& s, const ModelFile& model, int cell, int64_t start_hour, int64_t hours, int members,
                    float* tas_k) {
  if (s.path == Scenario::Path::none && s.offset_k == 0) return;
  if (!s.transient) {
    const int year = s.slice_year == 0 ? model.reference_year : s.slice_year;
    const double w = scenario_warming_k(s, model, cell, year + 0.5);
    for (int64_t i = 0; i < hours * members; ++i) tas_k[i] = static_cast<float>(tas_k[i] + w);
    return;
  }
  for (int64_t t = 0; t < hours; ++t) {
    const double w = scenario_warming_k(s, model, cell, fractional_year(start_hour + t));
    for (int m = 0; m < members; ++m) tas_k[t * members + m] = static_cast<float>(tas_k[t * members + m] + w);
  }
}

std::map<int, double> read_warming_table(const std::string& path) {
  require_regular_input(path, "warming table");
  std::ifstream in(path);
  require(bool(in), "cannot open warming table " + path);
  std::map<int, double> table;
  std::string line;
  int line_no = 0, last_year = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string year_text, offset_text;
    std::getline(fields, year_text, ',');
    std::getline(fields, offset_text);
    char* end_year = nullptr;
    char* end_offset = nullptr;
    const long year = std::strtol(year_text.c_str(), &end_year, 10);
    const double offset = std::strtod(offset_text.c_str(), &end_offset);
    const bool offset_read = end_offset != offset_text.c_str();
    while (*end_offset == ' ' || *end_offset == '\t') ++end_offset;  // trailing blanks, nothing else ("1 degF")
    const bool numeric = !year_text.empty() && *end_year == '\0' && offset_read && *end_offset == '\0' &&
                         std::isfinite(offset);
    // A header names its columns; a first line that starts with a number is a row, typo or not.
    if (!numeric && line_no == 1 && end_year == year_text.c_str()) continue;
    require(numeric, path + ":" + std::to_string(line_no) + ": expected 'year,offset_k', got '" + line + "'");
    require(year >= kFirstScenarioYear && year <= kLastScenarioYear,
            path + ":" + std::to_string(line_no) + ": year " + year_text + " is outside " +
                std::to_string(kFirstScenarioYear) + ".." + std::to_string(kLastScenarioYear));
    require(table.empty() || year > last_year,
            path + ":" + std::to_string(line_no) + ": years must increase (" + std::to_string(year) + " after " +
                std::to_string(last_year) + ")");
    table[static_cast<int>(year)] = offset;
    last_year = static_cast<int>(year);
  }
  require(!table.empty(), path + ": the warming table has no rows");
  return table;
}

}  // namespace climvae
