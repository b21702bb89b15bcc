// Checkpoints: everything `climvae train --resume` needs to continue a run exactly where it
// stopped. In the framed layout of the model file (common/framed_file.hpp): header lines (the
// settings a resumed run must keep, the training loop's state, numbers in hexadecimal floating
// point), a CRC-32 over the whole file, then four float32 blocks: parameters, Adam's first and
// second moments, the best parameters so far.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace climvae {

constexpr int kCheckpointFormatVersion = 1;

// Where the training loop stands. The shuffled order, the jitter and eps of every step follow
// from (seed, epoch, position), so this is also the whole random-number and data-order state.
// Trivially copyable: ranks receive it with one broadcast.
struct TrainState {
  int epoch = 1;            // epoch in progress, 1-based
  int64_t next_window = 0;  // position in the epoch's shuffled order of the next batch
  int64_t adam_steps = 0;
  double loss_sums[3] = {0, 0, 0};  // this epoch so far: reconstruction*windows, kl*windows, windows
  int best_epoch = 0;
  double best_loss = INFINITY;  // monitored loss (validation, else training) of best_epoch
  int epochs_without_improvement = 0;
  double seconds = 0;  // training time spent before this run
};

struct Checkpoint {
  std::vector<std::pair<std::string, std::string>> settings;  // name, value: must match on resume
  TrainState state;
  std::vector<float> parameters, adam_m, adam_v, best_parameters;  // all of one size
};

// Writes atomically (PATH.tmp-<host>-<pid>, then commit_file). An existing PATH is replaced only when
// this process wrote it before or allow_checkpoint_replacement(PATH) was called (--overwrite, or
// continuing the run saved there), so another run's checkpoint is never lost. Throws Error
// naming the path.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
void allow_checkpoint_replacement(const std::string& path);
// Throws Error naming the path and what is wrong (not a checkpoint, newer version, truncated,
// checksum mismatch).
Checkpoint load_checkpoint(const std::string& path);

}  // namespace climvae
