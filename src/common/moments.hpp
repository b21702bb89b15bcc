// Running count, sum and sum of squares of values: their mean and (population) variance in one pass.
#pragma once
#include <algorithm>
#include <cmath>

namespace climvae {

struct Moments {
  double n = 0, sum = 0, sq = 0;
  void add(double v) { n += 1, sum += v, sq += v * v; }
  double mean() const { return n > 0 ? sum / n : 0; }
  double variance() const { return n > 1 ? std::max(0.0, sq / n - mean() * mean()) : 0; }
  double sd() const { return std::sqrt(variance()); }
};

}  // namespace climvae
