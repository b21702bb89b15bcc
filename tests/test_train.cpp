// Training windows and the data-parallel trainer.
#include <gtest/gtest.h>
#include <mpi.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "test_support.hpp"
#include "engine/random.hpp"
#include "model/model_file.hpp"
#include "generate/generator.hpp"
#include "train/checkpoint.hpp"
#include "train/climate_check.hpp"
#include "train/trainer.hpp"
#include "train/windows.hpp"

using namespace climvae;
using namespace climvae::testing;

namespace {

// `cells` cells of `days` hourly values: seasonal and diurnal sines plus noise, each cell with its
// own amplitude, phase and place.
Store synthetic_store(int days, int cells = 1) {
  Store s;
  s.start_hour = parse_iso_hour("2015-01-01");
  s.num_hours = 24LL * days;
  s.reference_year = 2016;
  s.total_cells = cells;
  for (int k = 0; k < cells; ++k) {
    CellSeries c;
    c.latitude = 48.8 - 30 * k;
    c.longitude = 2.3 + 40 * k;
    c.utc_offset_hours = 3 * k;
    c.offset_k = 285 + k;
    c.scale_k = 7;
    for (int64_t i = 0; i < s.num_hours; ++i) {
      const double season = -(8 - 2 * k) * std::cos(2 * M_PI * i / (24 * 365.0));
      const double day = -(4 + k) * std::cos(2 * M_PI * (i % 24 - 3 + 3 * k) / 24.0);
      c.tas_k.push_back(static_cast<float>(285 + k + season + day + standard_normal(11 + k, i)));
    }
    s.cells.push_back(c);
  }
  return s;
}

// This rank's share of an in-memory store, as read_store(..., StoreCells::my_share) gives it.
Store share_of(const Store& all, MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const CellRange mine = cell_share(static_cast<int>(all.cells.size()), rank, ranks);
  Store s = all;
  s.cells.assign(all.cells.begin() + mine.first, all.cells.begin() + mine.first + mine.count);
  s.first_cell = mine.first;
  return s;
}

// A file name in the temporary directory, the same on every rank (rank 0's pid names it).
std::string scratch_path(const std::string& name) {
  long pid = static_cast<long>(::getpid());
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  return (std::filesystem::temp_directory_path() / ("climvae_test_train_" + std::to_string(pid) + "_" + name)).string();
}

void remove_on_root(const std::string& path) {
  MPI_Barrier(MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) std::remove(path.c_str());
}

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace

TEST(Windows, StartAtLocalMidnightSplitByTimeAndSkipMissingHours) {
  Store s = synthetic_store(800);
  s.cells[0].utc_offset_hours = 2;
  s.cells[0].tas_k[24 * 100] = NAN;  // one missing hour on day 100
  WindowConfig w;
  const WindowSplit split = make_windows(s, w);
  ASSERT_FALSE(split.train.empty());
  ASSERT_FALSE(split.validation.empty());
  EXPECT_GT(split.skipped_missing, 0);
  const int64_t length = 24 * 64, margin = 24 * w.jitter_days + w.jitter_hours;
  for (const Window& win : split.train) {
    EXPECT_EQ((s.start_hour + win.nominal_start + 2) % 24, 0);  // local midnight
    EXPECT_LE(win.nominal_start + length + margin, split.split_index);  // no leak into validation
    EXPECT_FALSE(win.nominal_start <= 2400 && 2400 < win.nominal_start + length);
    for (int epoch = 1; epoch < 5; ++epoch) {
      const int64_t j = jittered_start(s, win, w, 1, epoch, 0);
      EXPECT_EQ((j - win.nominal_start) % 24, 0);  // whole days keep the diurnal phase
      EXPECT_LE(std::llabs(j - win.nominal_start), margin);
    }
  }
  for (const Window& win : split.validation) EXPECT_GE(win.nominal_start, split.split_index);
  WindowConfig too_long;
  too_long.window_days = 4000;
  EXPECT_THROW(make_windows(s, too_long), Error);
}

// The global batch and the window order do not depend on the number of ranks: training on
// MPI_COMM_WORLD (1 or 2 ranks, each reading only its share of the cells of a 3-cell store)
// ends with the same parameters as training alone on the whole store.
TEST(Trainer, SameParametersWhateverTheNumberOfRanks) {
  const std::string path = scratch_path("three_cells.nc");
  write_store(synthetic_store(500, 3), path, true);
  TrainConfig tc;
  tc.epochs = 2;
  tc.batch_size = 5;  // odd, so that ranks hold different shares and one may hold none
  tc.seed = 7;
  auto run = [&](MPI_Comm comm, StoreCells which) {
    const Store store = read_store(path, comm, which);
    Vae vae;
    vae.initialize(tc.seed);
    const TrainResult r = train(vae, store, tc, nullptr, comm);
    EXPECT_EQ(r.epochs_run, 2);
    EXPECT_EQ(all_cell_constants(store, comm).size(), 3u);
    return parameters_of(vae);
  };
  const std::vector<float> world = run(MPI_COMM_WORLD, StoreCells::my_share);
  const std::vector<float> alone = run(MPI_COMM_SELF, StoreCells::all);
  // Ranks sum their shares of a batch in a different order, so gradients differ by rounding.
  // Adam's early steps are +-lr for any gradient, so a parameter whose gradient is rounding
  // noise can move by up to lr per step; all others must agree to 2e-5.
  size_t beyond = 0;
  for (size_t i = 0; i < world.size(); ++i) beyond += std::fabs(double(world[i]) - alone[i]) > 2e-5;
  EXPECT_LT(beyond, world.size() / 100) << "parameters differing by more than 2e-5";
  EXPECT_LT(largest_difference(world, alone), 2e-3) << "largest parameter difference";
  EXPECT_NE(world, parameters_of([] { Vae v; v.initialize(7); return v; }()));  // it did train
  remove_on_root(path);
}

// A run stopped between steps (by one rank only, as a signal to one task would) and resumed
// from its checkpoint ends with exactly the parameters of the run that was never interrupted.
TEST(Trainer, InterruptedAndResumedRunEqualsUninterruptedRun) {
  const Store store = share_of(synthetic_store(500, 2), MPI_COMM_WORLD);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  TrainConfig tc;
  tc.epochs = 3;
  tc.batch_size = 6;
  tc.seed = 5;
  tc.early_stop_patience = 5;  // the early-stopping state travels in the checkpoint too
  auto fresh = [](uint64_t seed) {
    Vae v;
    v.initialize(seed);
    return v;
  };
  Vae whole = fresh(tc.seed);
  std::vector<std::string> whole_log, resumed_log;
  auto log_to = [](std::vector<std::string>& log) {
    return [&log](const EpochReport& e) {
      log.push_back(std::to_string(e.epoch) + " " + std::to_string(e.train.total()) + " " +
                    std::to_string(e.validation.total()));
    };
  };
  const TrainResult w = train(whole, store, tc, log_to(whole_log), MPI_COMM_WORLD);
  EXPECT_FALSE(w.stopped);

  const std::string checkpoint = scratch_path("run.ckpt");
  TrainConfig interrupted = tc;
  interrupted.checkpoint_path = checkpoint;
  int polls = 0;
  interrupted.stop_requested = [&] { return rank == ranks - 1 && ++polls == 11; };  // mid-epoch 2
  Vae first = fresh(tc.seed);
  const TrainResult a = train(first, store, interrupted, log_to(resumed_log), MPI_COMM_WORLD);
  EXPECT_TRUE(a.stopped);
  EXPECT_EQ(a.epochs_run, 1);
  EXPECT_EQ(a.steps, 11);

  TrainConfig resumed = tc;
  resumed.resume_from = checkpoint;
  Vae second = fresh(99);  // the checkpoint's parameters replace these
  const TrainResult b = train(second, store, resumed, log_to(resumed_log), MPI_COMM_WORLD);
  EXPECT_FALSE(b.stopped);
  EXPECT_EQ(b.first_epoch, 2);
  EXPECT_EQ(b.steps, w.steps);
  EXPECT_EQ(b.best_epoch, w.best_epoch);
  EXPECT_EQ(resumed_log, whole_log);  // the same epoch reports, each once
  EXPECT_EQ(parameters_of(second), parameters_of(whole));  // bit for bit

  // A checkpoint resumed with other options, or damaged, is refused with a clear message.
  TrainConfig other = resumed;
  other.batch_size = 7;
  Vae v = fresh(1);
  EXPECT_NE(error_message([&] { train(v, store, other, nullptr, MPI_COMM_WORLD); }).find("batch-size = 6"),
            std::string::npos);
  // One writer: two ranks saving one path race, and the loser is refused (file_io's commit_file).
  if (rank == 0) save_checkpoint(load_checkpoint(checkpoint), checkpoint + ".copy");
  if (rank == 0) {
    std::fstream f(checkpoint, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('x');
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_NE(error_message([&] { train(v, store, resumed, nullptr, MPI_COMM_WORLD); }).find("corrupt"),
            std::string::npos);
  remove_on_root(checkpoint);
  remove_on_root(checkpoint + ".copy");
}

// A checkpoint whose state no run leaves (edited and re-sealed, so its checksum holds) is refused
// naming the field: a negative batch position was trained from, a NaN best loss was never beaten
// (the run silently kept the weights of the checkpoint's best epoch).
TEST(Checkpoint, StateNoRunLeavesIsRefusedNamingTheField) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string path = scratch_path("state_" + std::to_string(rank) + ".ckpt");
  Checkpoint c;
  c.state.epoch = 3;
  c.state.best_epoch = 1;
  c.state.best_loss = 1.5;
  c.parameters = c.adam_m = c.adam_v = c.best_parameters = std::vector<float>(4, 0.5f);
  const auto refused = [&](TrainState state, const std::string& needle) {
    std::swap(c.state, state);
    save_checkpoint(c, path);
    std::swap(c.state, state);
    const std::string message = error_message([&] { load_checkpoint(path); });
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    std::remove(path.c_str());
  };
  TrainState s = c.state;
  s.next_window = -100;
  refused(s, "next_window -100 is not a value a run leaves");
  s = c.state;
  s.best_loss = NAN;
  refused(s, "best_loss nan");
  s = c.state;
  s.best_epoch = 3;  // the epoch still in progress cannot be the best one yet
  refused(s, "best_epoch 3");
  save_checkpoint(c, path);
  EXPECT_EQ(load_checkpoint(path).state.next_window, 0);
  std::remove(path.c_str());
}

// Bad data on one rank (its cell has no value) stops every rank with that rank's message.
TEST(Trainer, CellWithoutDataStopsEveryRankWithItsMessage) {
  Store all = synthetic_store(300, 2);
  std::fill(all.cells[1].tas_k.begin(), all.cells[1].tas_k.end(), NAN);
  const Store store = share_of(all, MPI_COMM_WORLD);
  Vae vae;
  vae.initialize(1);
  const std::string message = error_message([&] { train(vae, store, TrainConfig(), nullptr, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("cell 1 (18.80N 42.30E) has no complete training window"), std::string::npos) << message;
  EXPECT_NE(message.find("7200 of 7200 hours are missing"), std::string::npos) << message;
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks == 2) EXPECT_NE(message.find("(rank 1 of 2)"), std::string::npos) << message;  // cell 1's rank
}

// An absurd value in one cell makes the loss explode: the run stops at that step on every rank
// and names the cell and window involved, not the healthy ones of the same batch.
TEST(Trainer, ExplodingLossNamesTheStepAndTheCell) {
  Store all = synthetic_store(300, 2);
  all.cells[1].tas_k[24 * 40 + 5] = 1e6f;
  const Store store = share_of(all, MPI_COMM_WORLD);
  TrainConfig tc;
  tc.epochs = 2;
  Vae vae;
  vae.initialize(1);
  const std::string message = error_message([&] { train(vae, store, tc, nullptr, MPI_COMM_WORLD); });
  EXPECT_NE(message.find("training diverged at epoch 1, step 1"), std::string::npos) << message;
  EXPECT_NE(message.find("cell 1 (18.80N 42.30E) from 2015-"), std::string::npos) << message;
  EXPECT_EQ(message.find("cell 0"), std::string::npos) << message;
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks == 2) EXPECT_NE(message.find("(rank 1 of 2)"), std::string::npos) << message;  // cell 1's rank
}

TEST(Trainer, LossFallsAndEarlyStoppingKeepsTheBestEpoch) {
  const Store s = synthetic_store(600);
  TrainConfig tc;
  tc.epochs = 30;
  std::vector<double> losses, validation;
  Vae vae;
  vae.initialize(1);
  const TrainResult full = train(vae, s, tc, [&](const EpochReport& e) { losses.push_back(e.train.total()); },
                                 MPI_COMM_SELF);
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_LT(losses.back(), losses.front() - 0.1);
  EXPECT_EQ(full.stop_reason, StopReason::ceiling);
  EXPECT_EQ(full.epoch_ceiling, 30);
  EXPECT_TRUE(full.monitored_validation);

  // Patience 2 on a learning rate so high that validation stops improving: the run ends two
  // epochs after its best one and the best parameters are restored (their loss is the best).
  tc.epochs = 50;
  tc.adam.learning_rate = 0.05;
  tc.early_stop_patience = 2;
  Vae fast;
  fast.initialize(1);
  const TrainResult r = train(fast, s, tc, [&](const EpochReport& e) { validation.push_back(e.validation.total()); },
                              MPI_COMM_SELF);
  ASSERT_LT(r.epochs_run, 50);
  EXPECT_EQ(r.stop_reason, StopReason::no_improvement);
  EXPECT_STREQ(stop_reason_name(r.stop_reason), "no_improvement");
  EXPECT_EQ(r.epochs_run - r.best_epoch, 2);
  EXPECT_DOUBLE_EQ(r.best_validation, *std::min_element(validation.begin(), validation.end()));

  // Without validation windows the training loss is watched instead.
  tc.windows.validation_fraction = 0;
  Vae no_split;
  no_split.initialize(1);
  std::vector<double> train_losses;
  const TrainResult t = train(no_split, s, tc, [&](const EpochReport& e) { train_losses.push_back(e.train.total()); },
                              MPI_COMM_SELF);
  EXPECT_FALSE(t.monitored_validation);
  EXPECT_EQ(t.validation_windows, 0);
  EXPECT_DOUBLE_EQ(t.best_validation, *std::min_element(train_losses.begin(), train_losses.end()));
}

// --balance-ranks: every rank takes its share of each step from its own cells. The run takes
// the same steps, learns as the default does, and its checkpoint is not resumed by a default run.
TEST(Trainer, BalancedRanksTakeTheSameStepsAndLearn) {
  const Store store = share_of(synthetic_store(500, 4), MPI_COMM_WORLD);
  TrainConfig tc;
  tc.epochs = 10;
  tc.batch_size = 8;
  tc.seed = 3;
  auto run = [&](const TrainConfig& c, std::vector<double>& losses) {
    Vae vae;
    vae.initialize(c.seed);
    const TrainResult r = train(vae, store, c, [&](const EpochReport& e) { losses.push_back(e.train.total()); },
                                MPI_COMM_WORLD);
    return std::make_pair(r, parameters_of(vae));
  };
  std::vector<double> by_cells, balanced;
  const auto [d, d_params] = run(tc, by_cells);
  TrainConfig bc = tc;
  bc.balance_ranks = true;
  bc.checkpoint_path = scratch_path("balanced.ckpt");
  const auto [b, b_params] = run(bc, balanced);
  EXPECT_EQ(b.steps, d.steps);
  EXPECT_EQ(b.train_windows, d.train_windows);
  ASSERT_EQ(balanced.size(), 10u);
  EXPECT_LT(by_cells.back(), by_cells.front() - 0.1);
  EXPECT_LT(balanced.back(), balanced.front() - 0.1);
  EXPECT_LT(std::fabs(balanced.back() - by_cells.back()), 0.2) << "balanced " << balanced.back() << ", by cells "
                                                               << by_cells.back();
  EXPECT_NE(b_params, d_params);  // other batches (one rank: slices of S nearly equal steps)
  TrainConfig resumed = tc;
  resumed.resume_from = bc.checkpoint_path;
  resumed.epochs = 11;
  Vae v;
  v.initialize(1);
  EXPECT_NE(error_message([&] { train(v, store, resumed, nullptr, MPI_COMM_WORLD); }).find("balance-ranks = on"),
            std::string::npos);
  remove_on_root(bc.checkpoint_path);
}

TEST(Trainer, DefaultEpochCeilingFollowsTheNumberOfSteps) {
  // About 20,000 optimiser steps, at least 300 and at most 3,000 epochs.
  EXPECT_EQ(default_epoch_ceiling(142, 32), 3000);  // Paris 2014-2021: 5 steps an epoch -> 4,000, capped
  EXPECT_EQ(default_epoch_ceiling(597, 32), 1053);  // four sites: 19 steps -> ceil(20000 / 19)
  EXPECT_EQ(default_epoch_ceiling(1600, 32), 400);  // 50 steps
  EXPECT_EQ(default_epoch_ceiling(100000, 32), 300);
  EXPECT_EQ(default_epoch_ceiling(0, 32), 3000);    // no windows: the ceiling does not matter

  // epochs = 0 stands for the derived ceiling, which the progress reports carry.
  const Store s = synthetic_store(400);
  TrainConfig tc;
  tc.early_stop_patience = 1;
  tc.adam.learning_rate = 0.05;  // validation soon stops improving, so the run is short
  int reported_ceiling = 0;
  Vae vae;
  vae.initialize(1);
  const TrainResult r =
      train(vae, s, tc, [&](const EpochReport& e) { reported_ceiling = e.epochs; }, MPI_COMM_SELF);
  EXPECT_EQ(r.epoch_ceiling, default_epoch_ceiling(r.train_windows, tc.batch_size));
  EXPECT_EQ(reported_ceiling, r.epoch_ceiling);
  EXPECT_EQ(r.stop_reason, StopReason::no_improvement);
}

// The check that a model's own traces stay in the training climate (train/climate_check.hpp).
// Its "observed" series here is one trace of the model itself: the model's other members are in
// that climate; the same model with its decoder's output layer four times stronger (traces far
// wider than the climate, as a temporal prior far wider than its posterior gave at a boreal site)
// is not, and the cell and a month are named; nor are traces of NaN.
TEST(ClimateCheck, TracesOutsideTheTrainingClimateAreNamed) {
  Store s = synthetic_store(3 * 365);
  TrainConfig tc;
  tc.epochs = 30;
  VaeConfig config;
  config.prior = PriorKind::temporal;
  Vae vae(config);
  vae.initialize(1);
  train(vae, s, tc, [](const EpochReport&) {}, MPI_COMM_SELF);
  ModelFile m;
  m.config = vae.config();
  m.reference_year = s.reference_year;
  for (const CellSeries& c : s.cells)
    m.cells.push_back({c.latitude, c.longitude, c.utc_offset_hours, c.trend_k_per_year, c.offset_k, c.scale_k, 0});
  TraceRequest one;
  one.start_hour = s.start_hour;
  one.hours = s.num_hours;
  one.seed = 99;
  one.spatial = one.calibrated = false;
  const std::vector<float> trace = generate_traces(vae, m, one);
  s.cells[0].tas_k.assign(trace.begin(), trace.end());
  EXPECT_EQ(generated_climate_departure(vae, m, s, MPI_COMM_SELF), "");

  const ParamSlice& out = vae.params().layout.find("decoder.5.kernel");
  auto host = Kokkos::create_mirror_view(vae.params().values);
  Kokkos::deep_copy(host, vae.params().values);
  for (size_t i = 0; i < out.size; ++i) host(out.offset + i) *= 4;
  Kokkos::deep_copy(vae.params().values, host);
  const std::string named = generated_climate_departure(vae, m, s, MPI_COMM_SELF);
  EXPECT_NE(named.find("cell 0 (48.80 N, 2.30 E) in "), std::string::npos) << named;
  EXPECT_NE(named.find("K observed"), std::string::npos) << named;
  // Traces of NaN (a diverged model) are as far out of the climate as traces get, not within it.
  host(out.offset) = NAN;
  Kokkos::deep_copy(vae.params().values, host);
  const std::string diverged = generated_climate_departure(vae, m, s, MPI_COMM_SELF);
  EXPECT_NE(diverged.find("generated mean nan"), std::string::npos) << diverged;
}

