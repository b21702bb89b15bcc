// Training examples from a cell series: 64-day windows every 16 days, starting at local solar
// midnight, jittered each epoch, split 80/20 by time, windows with missing hours skipped.
//
// Jitter: the seed jitters starts by up to ±12 h. That randomises the phase of the diurnal
// cycle inside the 96-hour blocks, which the seasonal prior cannot represent, so traces sampled
// from the prior come out with random phase and a flat mean diurnal cycle (measured on Paris:
// 0.3-0.5 °C amplitude against 4-9 °C observed, docs/fidelity.md). The default therefore
// jitters by whole days (same augmentation of block alignment, phase kept); jitter_hours
// restores the seed's sub-day jitter.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/store.hpp"

namespace climvae {

struct WindowConfig {
  int window_days = 64;
  int stride_days = 16;
  int jitter_days = 2;   // whole-day shifts in [-jitter_days, +jitter_days]
  int jitter_hours = 0;  // additional shift in [-jitter_hours, +jitter_hours] (the seed used 12)
  double validation_fraction = 0.2;
  int64_t first_hour = INT64_MIN;  // optional UTC range of the store to use (inclusive bounds)
  int64_t last_hour = INT64_MAX;
};

struct Window {
  int cell = 0;               // global index of the cell in the store (Store::first_cell + local index)
  int64_t nominal_start = 0;  // index into the cell's series, at local midnight
};

struct WindowSplit {
  std::vector<Window> train;       // whole window (± jitter) ends before the split hour
  std::vector<Window> validation;  // starts at or after the split hour, never jittered
  int64_t split_index = 0;
  int skipped_missing = 0;         // windows dropped because they contain missing hours
};

// Candidate windows of every cell of the store (or of a rank's share of it), ordered by cell.
// Throws Error naming the cell if a cell has no complete training window (bad data).
WindowSplit make_windows(const Store& store, const WindowConfig& config);

// "cell 3 (48.82N 2.29E)" for messages; `cell` is the global index, held by the store (share).
std::string describe_cell(const Store& store, int cell);

// Start index of window w in epoch `epoch`: the nominal start moved by whole days and hours
// drawn from (seed, epoch, window); back to the nominal start if the moved window would leave
// the series or contain missing hours.
int64_t jittered_start(const Store& store, const Window& w, const WindowConfig& config, uint64_t seed, int epoch,
                       int window_index);

}  // namespace climvae
