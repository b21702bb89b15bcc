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

// The epoch ceiling when none is given: about kCeilingSteps optimiser steps, so that fewer
// windows get more epochs (Paris 2014-2021: 142 windows, 5 steps per epoch, needs about 1,000
// epochs; four sites: 597 windows, 19 steps, about 900), but at least kMinCeilingEpochs and at
// most kMaxCeilingEpochs. Early stopping usually ends the run well before.
constexpr int64_t kCeilingSteps = 20000;
constexpr int kMinCeilingEpochs = 300;
constexpr int kMaxCeilingEpochs = 3000;
int default_epoch_ceiling(int64_t train_windows, int batch_size);

struct TrainConfig {
  int epochs = 0;  // the ceiling; 0 = default_epoch_ceiling of the training windows
  int batch_size = 32;
  uint64_t seed = 42;
  AdamConfig adam;
  WindowConfig windows;
  // Epochs without improvement of the validation loss (of the training loss when there are no
  // validation windows) after which training stops; the best epoch's weights are kept whenever
  // this is > 0. 0 = never stop early and keep the last weights.
  int early_stop_patience = 0;
  double max_loss = 1e3;        // a step whose loss on any rank's windows is above this (or not finite) stops the run
  std::string checkpoint_path;  // where checkpoints are written ("" = none)
  int checkpoint_every = 0;     // epochs between periodic checkpoints (0: only on stop and at the end)
  std::string resume_from;      // checkpoint to continue from ("" = start afresh)
  // Each step, every rank takes its share of the step's windows from its own cells (the ranks'
  // shares in proportion to their windows), instead of the windows of one global batch that fall
  // in its cells (about batch/ranks, give or take its square root, and the step waits for the
  // largest). Faster on many ranks; the batches, and so the trained model, then depend on the
  // number of ranks.
  bool balance_ranks = false;
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

// Why a run ended.
enum class StopReason {
  ceiling,         // the last allowed epoch was run
  no_improvement,  // early stopping: early_stop_patience epochs without a better monitored loss
  signal,          // stop_requested (SIGUSR1) between steps
};
const char* stop_reason_name(StopReason reason);  // "ceiling", "no_improvement", "signal"

struct TrainResult {
  int epochs_run = 0;
  int epoch_ceiling = 0;         // config.epochs, or the default_epoch_ceiling it stood for
  StopReason stop_reason = StopReason::ceiling;
  bool monitored_validation = false;  // best/early stopping on the validation loss (else the training loss)
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
// after each epoch. With early stopping, the parameters of the best epoch (validation loss, or
// training loss without validation windows) are restored. Errors (bad data on one rank, a diverging loss with the step and cells involved,
// an unreadable or mismatched checkpoint) are thrown as Error on every rank.
TrainResult train(Vae& vae, const Store& store, const TrainConfig& config,
                  const std::function<void(const EpochReport&)>& on_epoch, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
