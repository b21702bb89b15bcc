// The training loop: shuffled jittered windows, Adam, per-epoch validation, early stopping.
// Data-parallel over MPI: every rank holds the whole model; each global batch is split over
// the ranks, gradients are summed with one allreduce of the whole gradient buffer, so 1 or N
// ranks follow the same trajectory.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "data/store.hpp"
#include "engine/adam.hpp"
#include "model/vae.hpp"
#include "train/windows.hpp"

namespace climvae {

struct TrainConfig {
  int epochs = 100;
  int batch_size = 32;
  uint64_t seed = 42;
  AdamConfig adam;
  WindowConfig windows;
  int early_stop_patience = 0;  // epochs without validation improvement; 0 = never stop early
};

struct EpochReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  LossParts train;
  LossParts validation;
  bool has_validation = false;
  double windows_per_second = 0;
  double seconds_elapsed = 0;
  double seconds_remaining = 0;
  bool best_so_far = false;
};

struct TrainResult {
  int epochs_run = 0;
  int best_epoch = 0;
  double best_validation = 0;
  int train_windows = 0;
  int validation_windows = 0;
  int skipped_windows = 0;
  double seconds = 0;
};

// Trains vae (already initialised) on the store. on_epoch is called on every rank after each
// epoch. With early stopping, the parameters of the best validation epoch are restored.
TrainResult train(Vae& vae, const Store& store, const TrainConfig& config,
                  const std::function<void(const EpochReport&)>& on_epoch, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
