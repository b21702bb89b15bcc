// Training windows and the data-parallel trainer.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "engine/random.hpp"
#include "model/model_file.hpp"
#include "train/trainer.hpp"
#include "train/windows.hpp"

using namespace climvae;

namespace {

// One cell, `days` of hourly values: seasonal and diurnal sines plus noise, standardised.
Store synthetic_store(int days) {
  Store s;
  s.start_hour = parse_iso_hour("2015-01-01");
  s.num_hours = 24LL * days;
  s.reference_year = 2016;
  CellSeries c;
  c.latitude = 48.8;
  c.longitude = 2.3;
  c.offset_k = 285;
  c.scale_k = 7;
  for (int64_t i = 0; i < s.num_hours; ++i) {
    const double season = -8 * std::cos(2 * M_PI * i / (24 * 365.0));
    const double day = -4 * std::cos(2 * M_PI * (i % 24 - 3) / 24.0);
    c.tas_k.push_back(static_cast<float>(285 + season + day + standard_normal(11, i)));
  }
  s.cells.push_back(c);
  return s;
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
// MPI_COMM_WORLD (1 or 2 ranks) ends with the same parameters as training alone.
TEST(Trainer, SameParametersWhateverTheNumberOfRanks) {
  const Store s = synthetic_store(500);
  TrainConfig tc;
  tc.epochs = 3;
  tc.batch_size = 5;  // odd, so that ranks hold different shares and one may hold none
  tc.seed = 7;
  auto run = [&](MPI_Comm comm) {
    Vae vae;
    vae.initialize(tc.seed);
    const TrainResult r = train(vae, s, tc, nullptr, comm);
    EXPECT_EQ(r.epochs_run, 3);
    return parameters_of(vae);
  };
  const std::vector<float> world = run(MPI_COMM_WORLD);
  const std::vector<float> alone = run(MPI_COMM_SELF);
  ASSERT_EQ(world.size(), alone.size());
  double worst = 0;
  for (size_t i = 0; i < world.size(); ++i) worst = std::max(worst, std::fabs(double(world[i]) - alone[i]));
  EXPECT_LT(worst, 2e-5) << "largest parameter difference";
  EXPECT_NE(world, parameters_of([] { Vae v; v.initialize(7); return v; }()));  // it did train
}

TEST(Trainer, LossFallsAndEarlyStoppingKeepsTheBestEpoch) {
  const Store s = synthetic_store(600);
  TrainConfig tc;
  tc.epochs = 30;
  std::vector<double> losses, validation;
  Vae vae;
  vae.initialize(1);
  train(vae, s, tc, [&](const EpochReport& e) { losses.push_back(e.train.total()); }, MPI_COMM_SELF);
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_LT(losses.back(), losses.front() - 0.1);

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
  EXPECT_EQ(r.epochs_run - r.best_epoch, 2);
  EXPECT_DOUBLE_EQ(r.best_validation, *std::min_element(validation.begin(), validation.end()));
}
