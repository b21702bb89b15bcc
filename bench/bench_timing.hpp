// Timing shared by the benchmarks.
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace climvae::bench {

// Runs `iteration` for a short warm-up (a third of `seconds`, at most 1 s, at least once), then
// for `seconds`; returns iterations per second.
inline double rate(double seconds, const std::function<void()>& iteration) {
  using clock = std::chrono::steady_clock;
  const auto warm_end = clock::now() + std::chrono::duration<double>(std::min(1.0, seconds / 3));
  do iteration();
  while (clock::now() < warm_end);
  int count = 0;
  const auto start = clock::now();
  double elapsed = 0;
  do {
    iteration();
    ++count;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  return count / elapsed;
}

// The median of `values` (the upper one of an even count).
inline double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

}  // namespace climvae::bench
