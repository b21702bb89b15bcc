#include "train/windows.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.hpp"
#include "engine/random.hpp"

namespace climvae {

namespace {

bool all_present(const CellSeries& cell, int64_t start, int64_t length) {
  if (start < 0 || start + length > static_cast<int64_t>(cell.tas_k.size())) return false;
  for (int64_t i = start; i < start + length; ++i)
    if (std::isnan(cell.tas_k[i])) return false;
  return true;
}

}  // namespace

WindowSplit make_windows(const Store& store, const WindowConfig& config) {
  require(config.window_days > 0 && config.window_days % 4 == 0,
          "window length must be a positive multiple of 4 days (96-hour latent steps)");
  require(config.stride_days > 0, "window stride must be positive");
  require(config.jitter_days >= 0 && config.jitter_hours >= 0 &&
              24 * config.jitter_days + config.jitter_hours < 24 * config.stride_days,
          "jitter must be non-negative and shorter than the window stride");
  require(config.validation_fraction >= 0 && config.validation_fraction < 1, "validation fraction must be in [0, 1)");
  const int64_t length = 24LL * config.window_days;
  const int64_t stride = 24LL * config.stride_days;
  const int64_t jitter = 24LL * config.jitter_days + config.jitter_hours;
  // Usable index range of the series (the optional date range, clipped to the store).
  const int64_t lo = std::max<int64_t>(0, config.first_hour == INT64_MIN ? 0 : config.first_hour - store.start_hour);
  const int64_t hi = std::min<int64_t>(store.num_hours,
                                       config.last_hour == INT64_MAX ? store.num_hours : config.last_hour - store.start_hour + 1);
  require(hi - lo >= length, "the selected period is shorter than one " + std::to_string(config.window_days) + "-day window");
  const int64_t split = lo + static_cast<int64_t>(std::floor((hi - lo) * (1.0 - config.validation_fraction)));

  WindowSplit out;
  out.split_index = split;
  for (int c = 0; c < static_cast<int>(store.cells.size()); ++c) {
    const CellSeries& cell = store.cells[c];
    // First local midnight at or after lo + jitter, so that a negative jitter stays inside.
    const int64_t local0 = store.start_hour + cell.utc_offset_hours;
    int64_t first = lo + jitter;
    const int64_t mod = ((local0 + first) % 24 + 24) % 24;
    if (mod != 0) first += 24 - mod;
    const size_t train_before = out.train.size();
    for (int64_t s = first; s + length + jitter <= hi; s += stride) {
      const bool validation = s >= split;
      const bool train = s + length + jitter <= split;
      if (!validation && !train) continue;  // straddles the split: would leak between the sets
      if (!all_present(cell, s, length)) {
        ++out.skipped_missing;
        continue;
      }
      (validation ? out.validation : out.train).push_back({store.first_cell + c, s});
    }
    if (out.train.size() == train_before) {
      const auto missing = std::count_if(cell.tas_k.begin(), cell.tas_k.end(), [](float v) { return std::isnan(v); });
      throw Error(describe_cell(store, store.first_cell + c) + " has no complete training window (need " +
                  std::to_string(config.window_days) + " days without missing hours before the validation period; " +
                  std::to_string(missing) + " of " + std::to_string(cell.tas_k.size()) + " hours are missing)");
    }
  }
  return out;
}

std::string describe_cell(const Store& store, int cell) {
  const CellSeries& c = store.cells[cell - store.first_cell];
  char where[64];
  std::snprintf(where, sizeof where, " (%.2fN %.2fE)", c.latitude, c.longitude);
  return "cell " + std::to_string(cell) + where;
}

int64_t jittered_start(const Store& store, const Window& w, const WindowConfig& config, uint64_t seed, int epoch,
                       int window_index) {
  const uint64_t key = stream_key(seed ^ 0x6a177e5ULL, static_cast<uint64_t>(epoch));
  // Uniform integer in [-n, n] from counter c.
  auto draw = [&](int n, uint64_t c) { return static_cast<int>(uniform01(key, c) * (2 * n + 1) - 1e-6f) - n; };
  const uint64_t c = 2 * static_cast<uint64_t>(window_index);
  const int64_t s = w.nominal_start + 24 * draw(config.jitter_days, c) + draw(config.jitter_hours, c + 1);
  const int64_t length = 24LL * config.window_days;
  return all_present(store.cells[w.cell - store.first_cell], s, length) ? s : w.nominal_start;
}

}  // namespace climvae
