#include "data/era5.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>

#include "common/calendar.hpp"
#include "common/error.hpp"

namespace climvae {

namespace {

// Whole hours east of UTC of a CF time zone suffix: "", "Z", "UTC", "GMT", "+05:00", "-0300", "+5".
// Error for anything else or an offset that is not whole hours.
int utc_offset_of(const std::string& where, std::string zone) {
  zone.erase(0, zone.find_first_not_of(' '));
  zone.erase(zone.find_last_not_of(' ') + 1);
  if (zone.empty() || zone == "Z" || zone == "UTC" || zone == "GMT") return 0;
  static const std::regex offset(R"(([+-])([0-9]{1,2})(:?([0-9]{2}))?)");
  std::smatch m;
  require(std::regex_match(zone, m, offset) && std::stoi(m[2].str()) <= 14 && (!m[4].matched || std::stoi(m[4].str()) < 60),
          where + ": cannot read its time zone '" + zone + "'");
  const int hours = std::stoi(m[2].str()), minutes = m[4].matched ? std::stoi(m[4].str()) : 0;
  require(minutes == 0, where + ": the time zone '" + zone + "' is not a whole number of hours from UTC");
  return zone[0] == '-' ? -hours : hours;
}

// "hours since 1900-01-01 00:00:00.0", "seconds since 1970-01-01", "days since 1979-1-1T00:00",
// "hours since 1900-01-01 00:00:00 +05:00" -> (hours per stored unit, epoch in hours since 1970 UTC).
std::pair<double, int64_t> time_units_of(const std::string& path, const std::string& variable,
                                         const std::string& units) {
  const std::string where = path + ": variable '" + variable + "' has units '" + units + "'";
  const size_t since = units.find(" since ");
  require(since != std::string::npos, where + ", not '<unit> since <date>'");
  const std::string unit = units.substr(0, since);
  double hours_per_unit = 0;
  if (unit == "seconds" || unit == "second" || unit == "s") hours_per_unit = 1.0 / 3600;
  else if (unit == "minutes" || unit == "minute") hours_per_unit = 1.0 / 60;
  else if (unit == "hours" || unit == "hour" || unit == "h") hours_per_unit = 1;
  else if (unit == "days" || unit == "day" || unit == "d") hours_per_unit = 24;
  require(hours_per_unit > 0, where + ": unknown time unit '" + unit + "'");
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, used = 0;
  double second = 0;
  const char* rest = units.c_str() + since + 7;
  const int read = std::sscanf(rest, "%d-%d-%d%n", &year, &month, &day, &used);
  require(read == 3 && month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month),
          where + ": cannot read its reference date");
  rest += used;
  // An optional time (hh, hh:mm or hh:mm:ss[.s]) after a blank or T, then an optional time zone.
  if ((rest[0] == ' ' || rest[0] == 'T') && std::isdigit(static_cast<unsigned char>(rest[1])) &&
      std::sscanf(rest + 1, "%d%n", &hour, &used) == 1) {
    rest += 1 + used;
    if (std::sscanf(rest, ":%d%n", &minute, &used) == 1) {
      rest += used;
      if (std::sscanf(rest, ":%lf%n", &second, &used) == 1) rest += used;
    }
  }
  require(hour >= 0 && hour < 24 && minute >= 0 && minute < 60, where + ": cannot read its reference time");
  require(minute == 0 && second == 0, where + ": the reference date is not on a whole hour");
  const int zone_hours = utc_offset_of(where, rest);
  return {hours_per_unit, days_from_civil(year, month, day) * 24 + hour - zone_hours};
}

// "t,y,x" (file dimension order) of element i of a row-major hyperslab (start/count per dimension).
std::string element_index(size_t i, const std::vector<int64_t>& start, const std::vector<int64_t>& count) {
  std::string text;
  for (size_t d = count.size(); d-- > 0;) {
    const int64_t at = start[d] + static_cast<int64_t>(i % static_cast<size_t>(count[d]));
    i /= static_cast<size_t>(count[d]);
    text = std::to_string(at) + (text.empty() ? "" : ",") + text;
  }
  return text;
}

// Longest time axis of hourly steps in the years 1..9999, and longest latitude or longitude axis.
constexpr int64_t kMaxTimeSteps = int64_t{9999} * 366 * 24;
// Longest span of a region's files together (as for CSV series): 500 years.
constexpr int64_t kMaxSpanHours = int64_t{24} * 366 * 500;
constexpr int64_t kMaxGridLength = 36000;

bool is_time_name(const std::string& name) { return name == "time" || name == "valid_time" || name == "t"; }
bool is_lat_name(const std::string& name) { return name == "latitude" || name == "lat"; }
bool is_lon_name(const std::string& name) { return name == "longitude" || name == "lon"; }

std::string temperature_variable(const NcInput& file, const std::string& requested) {
  const std::vector<NcVariableInfo> variables = file.variables();
  if (!requested.empty()) {
    require(file.find(requested).has_value(), file.path() + ": no variable '" + requested + "' (given with --variable)");
    return requested;
  }
  for (const char* name : {"t2m", "tas", "2t"})
    if (file.find(name)) return name;
  std::string names;
  for (const NcVariableInfo& v : variables) {
    if (file.text(v.name, "standard_name").value_or("") == "air_temperature") return v.name;
    names += (names.empty() ? "" : ", ") + v.name;
  }
  throw Error(file.path() + ": no 2 m temperature variable (looked for t2m, tas, 2t and standard_name "
              "air_temperature; the file has " + (names.empty() ? std::string("no variables") : names) +
              "); name it with --variable");
}

// A coordinate axis: the variable of the dimension's name, or a scalar latitude/longitude.
std::vector<double> axis_values(const NcInput& file, const std::string& name) {
  std::vector<double> values = file.read_all(name);
  for (double v : values) require(std::isfinite(v), file.path() + ": coordinate '" + name + "' has missing values");
  return values;
}

std::optional<std::string> scalar_coordinate(const NcInput& file, bool (*is_name)(const std::string&)) {
  for (const NcVariableInfo& v : file.variables())
    if (is_name(v.name) && v.dimensions.empty()) return v.name;
  return std::nullopt;
}

std::string describe_hours(int64_t step) {
  if (step >= 28 * 24 && step <= 31 * 24) return " (monthly means? climvae needs hourly data: download "
                                                 "'reanalysis-era5-single-levels', not the monthly-means product)";
  if (step == 24) return " (daily values? climvae needs hourly data)";
  return "";
}

std::string grid_text(const Era5File& file) {
  char text[160];
  std::snprintf(text, sizeof text, "%zu latitudes %g..%g x %zu longitudes %g..%g", file.latitudes.size(),
                file.latitudes.front(), file.latitudes.back(), file.longitudes.size(), file.longitudes.front(),
                file.longitudes.back());
  return text;
}

}  // namespace

Era5File describe_era5_file(const NcInput& file, const std::string& variable) {
  Era5File layout;
  layout.path = file.path();
  layout.variable = temperature_variable(file, variable);
  const std::string where = file.path() + ": variable '" + layout.variable + "'";
  const NcVariableInfo info = file.variable(layout.variable);
  layout.ndims = static_cast<int>(info.dimensions.size());
  require(info.type != 2 /*NC_CHAR*/ && info.type != 12 /*NC_STRING*/, where + " is text, not numbers");
  const std::optional<std::string> units = file.text(layout.variable, "units");
  require(units.has_value(), where + " has no units attribute; climvae needs K, degC or degF");
  layout.units = *units;
  try {
    layout.unit = parse_temperature_unit(layout.units);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  for (int d = 0; d < layout.ndims; ++d) {
    const std::string& dim = info.dimensions[d];
    const std::optional<NcVariableInfo> coordinate = file.find(dim);
    const std::string coordinate_units = coordinate ? file.text(dim, "units").value_or("") : "";
    int* axis = nullptr;
    if (is_time_name(dim) || coordinate_units.find(" since ") != std::string::npos) axis = &layout.time_dim;
    else if (is_lat_name(dim) || coordinate_units == "degrees_north") axis = &layout.lat_dim;
    else if (is_lon_name(dim) || coordinate_units == "degrees_east") axis = &layout.lon_dim;
    else
      require(info.shape[d] == 1, where + " has dimension '" + dim + "' of length " + std::to_string(info.shape[d]) +
                                      "; climvae reads one member/level (select one, e.g. with cdo sellevidx)");
    if (!axis) continue;
    // A second time/latitude/longitude dimension would be read at its first index only.
    require(*axis < 0, where + " has two " + (axis == &layout.time_dim ? "time" : axis == &layout.lat_dim ? "latitude" : "longitude") +
                           " dimensions ('" + info.dimensions[std::max(*axis, 0)] + "' and '" + dim + "')");
    *axis = d;
    // Lengths beyond any real file (a damaged or hostile header) would be allocated before the
    // read fails: hourly steps of the years 1..9999, cells of a 0.01-degree global grid.
    const int64_t most = axis == &layout.time_dim ? kMaxTimeSteps : kMaxGridLength;
    require(info.shape[d] >= 1 && info.shape[d] <= most,
            where + ": dimension '" + dim + "' has length " + std::to_string(info.shape[d]) + " (1.." +
                std::to_string(most) + " expected; a damaged file?)");
  }
  require(layout.time_dim >= 0, where + " has no time dimension");
  int previous = -1;  // read_era5_block hands out (time, row, col) as stored
  for (int d : {layout.time_dim, layout.lat_dim, layout.lon_dim}) {
    require(d < 0 || d > previous, where + " is not stored as (time, latitude, longitude); reorder it, e.g. with "
                                           "'ncpdq -a time,latitude,longitude'");
    previous = std::max(previous, d);
  }
  const std::string time_name = info.dimensions[layout.time_dim];
  require(file.find(time_name).has_value(), file.path() + ": no coordinate variable for dimension '" + time_name + "'");
  const std::string time_units = file.text(time_name, "units").value_or("");
  const std::string calendar = file.text(time_name, "calendar").value_or("standard");
  require(calendar == "standard" || calendar == "gregorian" || calendar == "proleptic_gregorian",
          file.path() + ": variable '" + time_name + "' has calendar '" + calendar +
              "'; climvae reads standard/gregorian/proleptic_gregorian time axes");
  const auto [hours_per_unit, epoch] = time_units_of(file.path(), time_name, time_units);
  // Times outside the years 1..9999 (nothing else in climvae takes them) would overflow the
  // conversion to whole hours or give a store of year 230060.
  const double first_hour = static_cast<double>(calendar_first_hour());
  const double end_hour = static_cast<double>(calendar_end_hour());
  for (double t : axis_values(file, time_name)) {
    const double hours = t * hours_per_unit + static_cast<double>(epoch);
    if (!(hours >= first_hour && hours < end_hour)) {
      char text[64];
      std::snprintf(text, sizeof text, "%.17g", t);
      throw Error(file.path() + ": variable '" + time_name + "' has the time " + text + " " + time_units +
                  ", outside the years 1..9999 (a wrong unit or reference date?)");
    }
    require(std::abs(hours - std::round(hours)) < 1e-6,
            file.path() + ": variable '" + time_name + "' has a time that is not on a whole hour");
    layout.hours.push_back(static_cast<int64_t>(std::llround(hours)));
  }
  require(static_cast<int64_t>(layout.hours.size()) == info.shape[layout.time_dim],
          file.path() + ": coordinate variable '" + time_name + "' has " + std::to_string(layout.hours.size()) +
              " values for a dimension of length " + std::to_string(info.shape[layout.time_dim]));

  auto coordinate = [&](int dim, bool (*is_name)(const std::string&)) -> std::vector<double> {
    if (dim >= 0) {
      const std::string& name = info.dimensions[dim];
      if (file.find(name)) {
        std::vector<double> values = axis_values(file, name);
        require(static_cast<int64_t>(values.size()) == info.shape[dim],
                file.path() + ": coordinate variable '" + name + "' has " + std::to_string(values.size()) +
                    " values for a dimension of length " + std::to_string(info.shape[dim]));
        return values;
      }
      return std::vector<double>(static_cast<size_t>(info.shape[dim]), std::nan(""));
    }
    if (const auto scalar = scalar_coordinate(file, is_name)) return axis_values(file, *scalar);
    return {std::nan("")};
  };
  layout.latitudes = coordinate(layout.lat_dim, is_lat_name);
  layout.longitudes = coordinate(layout.lon_dim, is_lon_name);
  for (double& lon : layout.longitudes)
    if (lon > 180) lon -= 360;
  for (double lat : layout.latitudes)
    require(!(std::abs(lat) > 90), file.path() + ": latitude " + std::to_string(lat) + " is outside -90..90");
  // A grid with latitudes but no longitudes (or the reverse) has no place for its cells.
  require(std::isnan(layout.latitudes[0]) == std::isnan(layout.longitudes[0]),
          where + std::string(" has ") + (std::isnan(layout.latitudes[0]) ? "longitudes but no latitude" : "latitudes but no longitude") +
              " (no such dimension or scalar coordinate variable)");

  // A packing attribute stored as text would be silently ignored: packed integers read as kelvin.
  for (const char* name : {"scale_factor", "add_offset", "_FillValue", "missing_value"})
    require(!file.text(layout.variable, name).has_value(),
            file.path() + ": attribute '" + layout.variable + ":" + name + "' is text, not a number; climvae cannot unpack '" +
                layout.variable + "' with it");
  layout.scale = file.number(layout.variable, "scale_factor").value_or(1.0);
  layout.offset = file.number(layout.variable, "add_offset").value_or(0.0);
  // NaN, infinite or zero packing turns every value into the same nonsense: name the attribute.
  for (const auto& [name, value] : {std::pair<const char*, double>{"scale_factor", layout.scale}, {"add_offset", layout.offset}})
    require(std::isfinite(value) && (value != 0 || std::string(name) == "add_offset"),
            file.path() + ": attribute '" + layout.variable + ":" + name + "' is " + std::to_string(value) +
                "; climvae cannot unpack '" + layout.variable + "' with it");
  // xarray and netCDF-Java store unsigned integers in classic files as signed ones marked
  // _Unsigned = "true"; read as signed, the upper half of the packed range came out 2^16 steps low.
  std::string is_unsigned = file.text(layout.variable, "_Unsigned").value_or("");
  std::transform(is_unsigned.begin(), is_unsigned.end(), is_unsigned.begin(), [](unsigned char c) { return std::tolower(c); });
  if (is_unsigned == "true")
    layout.unsigned_bits = info.type == 1 /*NC_BYTE*/ ? 8 : info.type == 3 /*NC_SHORT*/ ? 16
                           : info.type == 4 /*NC_INT*/ ? 32 : 0;
  for (const char* name : {"_FillValue", "missing_value"})
    if (const auto fill = file.number(layout.variable, name))
      layout.fills.push_back(layout.unsigned_bits && *fill < 0 ? *fill + std::ldexp(1.0, layout.unsigned_bits) : *fill);
  return layout;
}

Era5File describe_era5_file(const std::string& path, const std::string& variable) {
  return describe_era5_file(*open_nc_input(path), variable);
}

std::vector<float> read_era5_block(const NcInput& file, const Era5File& layout, int64_t t0, int64_t nt, int r0,
                                   int nr, int c0, int nc) {
  std::vector<int64_t> start(layout.ndims, 0), count(layout.ndims, 1);
  start[layout.time_dim] = t0;
  count[layout.time_dim] = nt;
  if (layout.lat_dim >= 0) start[layout.lat_dim] = r0, count[layout.lat_dim] = nr;
  if (layout.lon_dim >= 0) start[layout.lon_dim] = c0, count[layout.lon_dim] = nc;
  const size_t size = static_cast<size_t>(nt) * nr * nc;
  std::vector<double> raw(size);
  file.read(layout.variable, start, count, raw.data());
  std::vector<float> values(size);
  for (size_t i = 0; i < size; ++i) {
    const double stored = layout.unsigned_bits && raw[i] < 0 ? raw[i] + std::ldexp(1.0, layout.unsigned_bits) : raw[i];
    bool missing = std::isnan(stored);
    for (double fill : layout.fills) missing = missing || stored == fill;
    if (missing) {
      values[i] = std::nanf("");
      continue;
    }
    const double unpacked = stored * layout.scale + layout.offset;
    const double kelvin = to_kelvin(unpacked, layout.unit);
    if (!(kelvin >= kMinAirTemperatureK && kelvin <= kMaxAirTemperatureK))  // infinities too
      require_air_temperature(unpacked, layout.unit,
                              file.path() + ": " + layout.variable + "[" + element_index(i, start, count) + "]");
    values[i] = static_cast<float>(kelvin);
  }
  return values;
}

Era5Region describe_era5_region(const std::vector<std::string>& paths, const std::string& variable) {
  require(!paths.empty(), "no input files");
  Era5Region region;
  for (const std::string& path : paths) region.files.push_back(describe_era5_file(path, variable));
  for (const Era5File& file : region.files) {
    require(!file.hours.empty(), file.path + ": the time axis is empty");
    for (size_t i = 1; i < file.hours.size(); ++i) {
      const int64_t step = file.hours[i] - file.hours[i - 1];
      require(step > 0, file.path + ": the time axis goes backwards or repeats at " + format_iso_hour(file.hours[i]));
    }
    int64_t smallest = 1;
    if (file.hours.size() > 1) {
      smallest = file.hours[1] - file.hours[0];
      for (size_t i = 2; i < file.hours.size(); ++i) smallest = std::min(smallest, file.hours[i] - file.hours[i - 1]);
    }
    require(smallest == 1, file.path + ": the time axis is not hourly: steps of " + std::to_string(smallest) +
                               " hours or more (" + format_iso_hour(file.hours.front()) + " .. " +
                               format_iso_hour(file.hours.back()) + ")" + describe_hours(smallest));
  }
  std::stable_sort(region.files.begin(), region.files.end(),  // ties keep the given order
            [](const Era5File& a, const Era5File& b) { return a.hours.front() < b.hours.front(); });
  const Era5File& first = region.files.front();
  region.latitudes = first.latitudes;
  region.longitudes = first.longitudes;
  auto same_axis = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!(std::abs(a[i] - b[i]) < 1e-6 || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  int64_t end = first.hours.front();
  for (const Era5File& file : region.files) {
    require(same_axis(file.latitudes, region.latitudes) && same_axis(file.longitudes, region.longitudes),
            file.path + ": its grid (" + grid_text(file) + ") differs from that of " + first.path + " (" +
                grid_text(first) + "); give files of one region");
    require(file.variable == first.variable, file.path + ": temperature variable '" + file.variable + "' differs from '" +
                                                 first.variable + "' in " + first.path);
    if (file.hours.front() > end && &file != &first)
      region.notes.push_back("gap: no data from " + format_iso_hour(end) + " to " + format_iso_hour(file.hours.front() - 1) +
                             " (before " + file.path + "); those hours are missing");
    if (file.hours.front() < end)
      region.notes.push_back("overlap: " + file.path + " repeats " +
                             std::to_string(std::min(end, file.hours.back() + 1) - file.hours.front()) +
                             " hour(s) from " + format_iso_hour(file.hours.front()) + "; checked to agree");
    for (size_t i = 1; i < file.hours.size(); ++i)
      if (file.hours[i] - file.hours[i - 1] > 1)
        region.notes.push_back("gap: " + file.path + " has no data from " + format_iso_hour(file.hours[i - 1] + 1) +
                               " to " + format_iso_hour(file.hours[i] - 1) + "; those hours are missing");
    end = std::max(end, file.hours.back() + 1);
    // One wrong time value (year 8844 among the hours of 2000) made a store of thousands of
    // years of missing hours: gigabytes per cell from a small file.
    require(end - first.hours.front() <= kMaxSpanHours,
            file.path + ": its time axis reaches " + format_iso_hour(end - 1) + ", more than 500 years after " +
                format_iso_hour(first.hours.front()) + " (the start of " + first.path + "); a wrong time value?");
  }
  region.start_hour = first.hours.front();
  region.num_hours = end - region.start_hour;
  return region;
}

std::vector<float> read_era5_cells(const Era5Region& region, const std::vector<GridCell>& cells, int64_t first_hour,
                                   int64_t num_hours) {
  std::vector<float> series(cells.size() * static_cast<size_t>(num_hours), std::nanf(""));
  if (cells.empty() || num_hours <= 0) return series;
  int r0 = cells[0].row, r1 = r0, c0 = cells[0].col, c1 = c0;
  for (const GridCell& cell : cells) {
    r0 = std::min(r0, cell.row), r1 = std::max(r1, cell.row);
    c0 = std::min(c0, cell.col), c1 = std::max(c1, cell.col);
  }
  const int nr = r1 - r0 + 1, nc = c1 - c0 + 1;
  std::vector<char> filled(static_cast<size_t>(num_hours), 0);
  for (const Era5File& layout : region.files) {
    const int64_t last_hour = first_hour + num_hours;
    if (layout.hours.back() < first_hour || layout.hours.front() >= last_hour) continue;
    const std::unique_ptr<NcInput> file = open_nc_input(layout.path);
    // Time chunks of at most ~32 MB of stored values as double.
    const int64_t chunk = std::max<int64_t>(1, (int64_t{4} << 20) / (static_cast<int64_t>(nr) * nc));
    const int64_t steps = static_cast<int64_t>(layout.hours.size());
    for (int64_t t0 = 0; t0 < steps; t0 += chunk) {
      const int64_t nt = std::min(chunk, steps - t0);
      if (layout.hours[t0 + nt - 1] < first_hour || layout.hours[t0] >= last_hour) continue;
      const std::vector<float> block = read_era5_block(*file, layout, t0, nt, r0, nr, c0, nc);
      for (int64_t t = 0; t < nt; ++t) {
        const int64_t i = layout.hours[t0 + t] - first_hour;
        if (i < 0 || i >= num_hours) continue;
        const float* slab = block.data() + t * nr * nc;
        for (size_t k = 0; k < cells.size(); ++k) {
          const float value = slab[(cells[k].row - r0) * nc + (cells[k].col - c0)];
          float& slot = series[k * num_hours + i];
          // Overlapping files must agree to well within ERA5's packing steps (~0.002 K); a value
          // missing in one of them is taken from the other.
          if (filled[i] && !std::isnan(slot) && !std::isnan(value) && !(std::abs(slot - value) <= 0.01f))
            throw Error(layout.path + ": at " + format_iso_hour(layout.hours[t0 + t]) +
                        " its value differs from that of an earlier file covering the same hour (" +
                        std::to_string(slot) + " K vs " + std::to_string(value) + " K)");
          if (!std::isnan(value)) slot = value;
        }
        filled[i] = 1;
      }
    }
  }
  return series;
}

}  // namespace climvae
