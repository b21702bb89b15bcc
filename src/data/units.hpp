// Temperature units as people spell them, and conversion to kelvin (climvae's internal unit).
#pragma once
#include <string>

namespace climvae {

enum class TemperatureUnit { kelvin, celsius, fahrenheit };

// Accepts K, kelvin, degC, C, °C, celsius, degF, F, °F, fahrenheit (case-insensitive words,
// surrounding blanks ignored). Throws climvae::Error naming an unknown spelling.
TemperatureUnit parse_temperature_unit(const std::string& spelling);
// "K", "degC" or "degF".
std::string unit_symbol(TemperatureUnit unit);

// An absolute temperature in `unit`, in kelvin.
double to_kelvin(double value, TemperatureUnit unit);
// A temperature difference in `unit`, in kelvin (1 degF = 5/9 K, no offset).
double difference_to_kelvin(double delta, TemperatureUnit unit);

// Near-surface air temperature ever measured lies well inside 170..340 K (record low 184 K,
// record high 330 K): a value outside is a typo, a fill value or a wrong unit, never weather.
constexpr double kMinAirTemperatureK = 170, kMaxAirTemperatureK = 340;

// Throws Error "WHERE: temperature VALUE UNIT (= K) is outside 170..340 K ..." for a value (as
// read, in `unit`) that is not finite or whose kelvin value is outside that range.
void require_air_temperature(double value, TemperatureUnit unit, const std::string& where);

// A warming rate such as "0.7degF/decade", "0.03K/year", "0.2 degC / decade" or "1.5C/century",
// in kelvin per year. Throws climvae::Error naming the text when it cannot be read.
double parse_trend_rate_k_per_year(const std::string& text);

}  // namespace climvae
