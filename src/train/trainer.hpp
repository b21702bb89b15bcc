// The training loop: shuffled jittered windows, Adam, per-epoch validation, early stopping,
// checkpoints and resume.
// Data-parallel over MPI: every rank holds the whole model and its own contiguous block of
// cells (read_store(..., StoreCells::my_share)). The windows and their shuffled order are
// defined over the global set of cells, so 1 or N ranks see the same global batches; each rank
// computes the windows of a batch that belong to its cells and one allreduce of the whole
// gradient buffer sums the weighted gradients, so 1 or N ranks follow the same trajectory.
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
  double max_loss = 1e3;        // a step whose loss on any rank's windows is above this (or not finite) stops the run
  std::string checkpoint_path;  // where checkpoints are written ("" = none)
  int checkpoint_every = 0;     // epochs between periodic checkpoints (0: only on stop and at the end)
  std::string resume_from;      // checkpoint to continue from ("" = start afresh)
  // Polled on every rank between steps (e.g. a SIGUSR1 flag). When it is true on any rank, all
  // ranks finish the step, rank 0 writes a checkpoint and train returns with stopped = true.
  std::function<bool()> stop_requested;
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
  double seconds = 0;            // training time, including the runs before a resume
  int first_epoch = 1;           // where this run started (after a resume)
  bool stopped = false;          // stop_requested: ended between steps, checkpoint written
  int64_t steps = 0;             // optimiser steps taken, including the runs before a resume
  int64_t steps_this_run = 0;
  double seconds_this_run = 0;
  double seconds_allreduce = 0;  // in the gradient allreduce this run (includes waiting for slower ranks)
};

// Trains vae (already initialised; rank 0's parameters are used) on the store, which holds this
// rank's share of the cells (or all of them on one rank). on_epoch is called on every rank
// after each epoch. With early stopping, the parameters of the best validation epoch are
// restored. Errors (bad data on one rank, a diverging loss with the step and cells involved,
// an unreadable or mismatched checkpoint) are thrown as Error on every rank.
TrainResult train(Vae& vae, const Store& store, const TrainConfig& config,
                  const std::function<void(const EpochReport&)>& on_epoch, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
