// calibration_noise: a template, since the caller's normals mix shared and own streams.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace climvae {

template <class Normal>
void calibration_noise(double phi, int64_t first, int64_t count, const Normal& normal, float* out) {
  constexpr int64_t kBlock = 64;
  phi = std::clamp(phi, 0.0, 0.999);
  // Truncate where phi^J < 1e-3 (at most 30 days); normalise to unit variance.
  const int taps = phi > 0 ? static_cast<int>(std::min(720.0, std::ceil(std::log(1e-3) / std::log(phi)))) : 1;
  const double phi_taps = std::pow(phi, taps);
  const double c = std::sqrt((1 - phi * phi) / std::max(1e-12, 1 - phi_taps * phi_taps));
  auto floor_div = [](int64_t a, int64_t b) { return (a - ((a % b) + b) % b) / b; };
  const int64_t first_block = floor_div(first, kBlock) * kBlock, lo = first_block - taps;
  std::vector<double> e(size_t(first + count - lo));  // e(t) at e[t - lo]
  for (int64_t t = lo; t < first + count; ++t) e[t - lo] = normal(t);
  for (int64_t b0 = first_block; b0 < first + count; b0 += kBlock) {
    double n = 0, w = 1;  // the block's first hour: the full sum
    for (int j = 0; j < taps; ++j, w *= phi) n += w * e[b0 - j - lo];
    for (int64_t t = b0; t < b0 + kBlock && t < first + count; ++t) {
      if (t > b0) n = phi * n + e[t - lo] - phi_taps * e[t - taps - lo];  // slide the window by one hour
      if (t >= first) out[t - first] = static_cast<float>(c * n);
    }
  }
}

}  // namespace climvae
