// calibration_noise: a template, since the caller's normals mix shared and own streams.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace climvae {

namespace calibration_detail {
constexpr int64_t kBlock = 64;
// Taps of the truncated moving average: where phi^J < 1e-3 (at most 30 days).
inline int taps_of(double phi) {
  return phi > 0 ? static_cast<int>(std::min(720.0, std::ceil(std::log(1e-3) / std::log(phi)))) : 1;
}
inline int64_t floor_div(int64_t a, int64_t b) { return (a - ((a % b) + b) % b) / b; }
// The first hour whose normal calibration_noise reads for outputs from `first` on.
inline int64_t first_input(double phi, int64_t first) {
  return floor_div(first, kBlock) * kBlock - taps_of(std::clamp(phi, 0.0, 0.999));
}
}  // namespace calibration_detail

template <class Normal>
void calibration_noise(double phi, int64_t first, int64_t count, const Normal& normal, float* out) {
  using namespace calibration_detail;
  phi = std::clamp(phi, 0.0, 0.999);
  // Truncate where phi^J < 1e-3; normalise to unit variance.
  const int taps = taps_of(phi);
  const double phi_taps = std::pow(phi, taps);
  const double c = std::sqrt((1 - phi * phi) / std::max(1e-12, 1 - phi_taps * phi_taps));
  const int64_t first_block = floor_div(first, kBlock) * kBlock, lo = first_block - taps;
  std::vector<double> e(size_t(first + count - lo));  // e(t) at e[t - lo]
  for (int64_t t = lo; t < first + count; ++t) e[t - lo] = normal(t);
  // Each block's first hour is the full sum over the taps, one chain in tap order. The blocks'
  // chains are independent: taken side by side, tap by tap, they overlap in the CPU instead of
  // waiting on one another's additions (the same bits as one block after the other).
  const int64_t blocks = (first + count - first_block + kBlock - 1) / kBlock;
  std::vector<double> weight(static_cast<size_t>(taps)), start(static_cast<size_t>(blocks), 0.0);
  for (int j = 0; j < taps; ++j) weight[j] = j == 0 ? 1 : weight[j - 1] * phi;
  for (int j = 0; j < taps; ++j)  // e(first_block + k kBlock - j) is e[k kBlock + taps - j]
    for (int64_t k = 0; k < blocks; ++k) start[k] += weight[j] * e[k * kBlock + taps - j];
  for (int64_t b0 = first_block; b0 < first + count; b0 += kBlock) {
    double n = start[(b0 - first_block) / kBlock];
    for (int64_t t = b0; t < b0 + kBlock && t < first + count; ++t) {
      if (t > b0) n = phi * n + e[t - lo] - phi_taps * e[t - taps - lo];  // slide the window by one hour
      if (t >= first) out[t - first] = static_cast<float>(c * n);
    }
  }
}

template <class Normal>
void staged_noise(double phi, int stages, int64_t first, int64_t count, const Normal& normal, float* out) {
  if (stages <= 1) return calibration_noise(phi, first, count, normal, out);
  // The first stage over every hour the second reads, from hours that stay fixed for any chunk.
  const int64_t lo = calibration_detail::first_input(phi, first);
  std::vector<float> stage(size_t(first + count - lo));
  calibration_noise(phi, lo, first + count - lo, normal, stage.data());
  calibration_noise(phi, first, count, [&](int64_t t) { return static_cast<double>(stage[size_t(t - lo)]); }, out);
  const double p = std::clamp(phi, 0.0, 0.999);
  const float unit = static_cast<float>(std::sqrt((1 - p * p) / (1 + p * p)));  // the second stage's variance
  for (int64_t t = 0; t < count; ++t) out[t] *= unit;
}

}  // namespace climvae
