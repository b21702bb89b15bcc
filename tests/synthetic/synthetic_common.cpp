#include <cmath>

#include "synthetic_era5.hpp"

namespace climvae::synthetic {

double t2m_k(const Era5Spec& spec, int cell, int64_t hour) {
  const double pi = 3.14159265358979;
  const double day = static_cast<double>(hour % 8766) / 24.0;
  return 280 + spec.bias_k + 0.05 * cell - 10 * std::cos(2 * pi * day / 365.25) - 4 * std::cos(2 * pi * (hour % 24) / 24.0);
}

}  // namespace climvae::synthetic
