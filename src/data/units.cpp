#include "data/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/error.hpp"

namespace climvae {

namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

void require_air_temperature(double value, TemperatureUnit unit, const std::string& where) {
  const double kelvin = to_kelvin(value, unit);
  if (kelvin >= kMinAirTemperatureK && kelvin <= kMaxAirTemperatureK) return;  // false for NaN and infinities
  char text[160];
  std::snprintf(text, sizeof text, "temperature %.10g %s (%.10g K) is outside %g..%g K", value, unit_symbol(unit).c_str(),
                kelvin, kMinAirTemperatureK, kMaxAirTemperatureK);
  throw Error(where + ": " + text + " (a typo, a fill value or a wrong unit?)");
}

TemperatureUnit parse_temperature_unit(const std::string& spelling) {
  const std::string text = trimmed(spelling);
  const std::string word = lowercase(text);
  // "°" is two bytes in UTF-8 (C2 B0); "º" (masculine ordinal, C2 BA) is a common look-alike.
  const std::string degree = "\xC2\xB0";
  const std::string ordinal = "\xC2\xBA";
  if (text == "K" || word == "kelvin" || word == "kelvins") return TemperatureUnit::kelvin;
  if (word == "degc" || word == "deg_c" || text == "C" || text == degree + "C" || text == ordinal + "C" ||
      word == "celsius" || word == "degrees_celsius")
    return TemperatureUnit::celsius;
  if (word == "degf" || word == "deg_f" || text == "F" || text == degree + "F" || text == ordinal + "F" ||
      word == "fahrenheit" || word == "degrees_fahrenheit")
    return TemperatureUnit::fahrenheit;
  throw Error("unknown temperature unit '" + text + "' (use K, degC or degF)");
}

std::string unit_symbol(TemperatureUnit unit) {
  switch (unit) {
    case TemperatureUnit::kelvin: return "K";
    case TemperatureUnit::celsius: return "degC";
    case TemperatureUnit::fahrenheit: return "degF";
  }
  return "K";
}

double to_kelvin(double value, TemperatureUnit unit) {
  switch (unit) {
    case TemperatureUnit::kelvin: return value;
    case TemperatureUnit::celsius: return value + 273.15;
    case TemperatureUnit::fahrenheit: return (value - 32.0) * 5.0 / 9.0 + 273.15;
  }
  return value;
}

double difference_to_kelvin(double delta, TemperatureUnit unit) {
  return unit == TemperatureUnit::fahrenheit ? delta * 5.0 / 9.0 : delta;
}

double parse_trend_rate_k_per_year(const std::string& text) {
  const std::string usage = "trend rate '" + text + "' is not '<number><unit>/<period>', e.g. 0.7degF/decade or 0.03K/year";
  const auto slash = text.find('/');
  require(slash != std::string::npos, usage);
  const std::string amount = trimmed(text.substr(0, slash));
  const std::string period = lowercase(trimmed(text.substr(slash + 1)));

  char* end = nullptr;
  const double number = std::strtod(amount.c_str(), &end);
  require(end != amount.c_str() && std::isfinite(number), usage);
  const std::string unit_text = trimmed(std::string(end));
  require(!unit_text.empty(), usage);
  const double k_per_period = difference_to_kelvin(number, parse_temperature_unit(unit_text));

  if (period == "year" || period == "yr" || period == "a" || period == "y") return k_per_period;
  if (period == "decade") return k_per_period / 10.0;
  if (period == "century") return k_per_period / 100.0;
  throw Error("trend rate '" + text + "': unknown period '" + period + "' (use year, decade or century)");
}

}  // namespace climvae
