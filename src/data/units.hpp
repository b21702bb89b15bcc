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

// A warming rate such as "0.7degF/decade", "0.03K/year", "0.2 degC / decade" or "1.5C/century",
// in kelvin per year. Throws climvae::Error naming the text when it cannot be read.
double parse_trend_rate_k_per_year(const std::string& text);

}  // namespace climvae
