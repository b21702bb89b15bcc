#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"
#include "model/seasonal.hpp"

namespace climvae {

namespace {

// Host staging and device views for one batch of windows.
struct BatchBuffers {
  View2 x;
  View3 season, eps;
  CellIndices cells;                            // global cell of each window: its embedding row
  Kokkos::View<uint64_t*, MemSpace> positions;  // global window positions keying eps
  View2::HostMirror x_host;
  View3::HostMirror season_host;

  void resize(int batch, int steps) {
    const int hours = steps * Vae::kHoursPerStep;
    if (x.extent(0) == static_cast<size_t>(batch) && x.extent(1) == static_cast<size_t>(hours)) return;
    x = View2("climvae::train::x", batch, hours);
    season = View3("climvae::train::season", batch, steps, kSeasonalFeatures);
    eps = View3("climvae::train::eps", batch, steps, 0);
    cells = CellIndices("climvae::train::cells", batch);
    positions = Kokkos::View<uint64_t*, MemSpace>("climvae::train::positions", batch);
    x_host = Kokkos::create_mirror_view(x);
    season_host = Kokkos::create_mirror_view(season);
  }
};

// Fills the batch with the standardised windows starting at `starts` and draws eps from a
// counter-based stream keyed by (seed, epoch, global window position), so that the numbers do
// not depend on how the batch is split over ranks.
void fill_batch(const Store& store, const std::vector<Window>& windows, const std::vector<int64_t>& starts,
                int steps, int latent, uint64_t key, const std::vector<uint64_t>& positions, BatchBuffers& buf) {
  const int batch = static_cast<int>(windows.size());
  const int hours = steps * Vae::kHoursPerStep;
  buf.resize(batch, steps);
  if (buf.eps.extent(2) != static_cast<size_t>(latent)) buf.eps = View3("climvae::train::eps", batch, steps, latent);
  for (int b = 0; b < batch; ++b) {
    const CellSeries& cell = store.cells[windows[b].cell];
    for (int h = 0; h < hours; ++h) {
      const int64_t i = starts[b] + h;
      buf.x_host(b, h) = static_cast<float>((store.detrended_k(windows[b].cell, i) - cell.offset_k) / cell.scale_k);
    }
    const int64_t local_start = store.start_hour + starts[b] + cell.utc_offset_hours;
    seasonal_features(local_start, steps, &buf.season_host(b, 0, 0), season_phase_days(cell.latitude));
  }
  auto cells_host = Kokkos::create_mirror_view(buf.cells);
  for (int b = 0; b < batch; ++b) cells_host(b) = store.first_cell + windows[b].cell;
  Kokkos::deep_copy(buf.cells, cells_host);
  Kokkos::deep_copy(buf.x, buf.x_host);
  Kokkos::deep_copy(buf.season, buf.season_host);
  const auto pos = buf.positions;
  auto pos_host = Kokkos::create_mirror_view(pos);
  for (int b = 0; b < batch; ++b) pos_host(b) = positions[b];
  Kokkos::deep_copy(pos, pos_host);
  Real* e = buf.eps.data();
  const int per_window = steps * latent;
  Kokkos::parallel_for(
      "climvae::train::draw_eps", RangePolicy(0, batch * per_window), KOKKOS_LAMBDA(const int i) {
        const int b = i / per_window, j = i % per_window;
        e[i] = standard_normal(stream_key(key, pos(b)), static_cast<uint64_t>(j));
      });
}

// Loss over a set of windows (no gradients), split over ranks and summed.
LossParts evaluate(Vae& vae, const Store& store, const std::vector<Window>& windows, const TrainConfig& config,
                   BatchBuffers& buf, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int steps = config.windows.window_days / 4;
  double sums[3] = {0, 0, 0};
  for (size_t b0 = 0; b0 < windows.size(); b0 += config.batch_size) {
    std::vector<Window> mine;
    std::vector<int64_t> starts;
    std::vector<uint64_t> positions;
    for (size_t i = b0; i < std::min(windows.size(), b0 + config.batch_size); ++i)
      if (static_cast<int>(i % size) == rank) {
        mine.push_back(windows[i]);
        starts.push_back(windows[i].nominal_start);
        positions.push_back(i);
      }
    if (mine.empty()) continue;
    // Validation uses one fixed eps stream so that epochs are comparable.
    fill_batch(store, mine, starts, steps, vae.config().latent, stream_key(config.seed, 0xFA11DA7EULL), positions, buf);
    const LossParts l = vae.forward_backward(buf.x, buf.season, buf.cells, buf.eps, false);
    sums[0] += l.reconstruction * mine.size();
    sums[1] += l.kl * mine.size();
    sums[2] += mine.size();
  }
  MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_DOUBLE, MPI_SUM, comm);
  LossParts out;
  if (sums[2] > 0) {
    out.reconstruction = sums[0] / sums[2];
    out.kl = sums[1] / sums[2];
  }
  return out;
}

}  // namespace

TrainResult train(Vae& vae, const Store& store, const TrainConfig& config,
                  const std::function<void(const EpochReport&)>& on_epoch, MPI_Comm comm) {
  require(config.epochs >= 1, "epochs must be at least 1");
  require(config.batch_size >= 1, "batch size must be at least 1");
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const WindowSplit split = make_windows(store, config.windows);
  const int steps = config.windows.window_days / 4;
  const int num_params = static_cast<int>(vae.params().layout.total());

  // Every rank starts from rank 0's parameters.
  kx::fence("climvae::train::before_broadcast");
  MPI_Bcast(vae.params().values.data(), num_params, MPI_FLOAT, 0, comm);

  Adam adam(vae.params().layout.total(), config.adam);
  BatchBuffers buf;
  TrainResult result;
  result.train_windows = static_cast<int>(split.train.size());
  result.validation_windows = static_cast<int>(split.validation.size());
  result.skipped_windows = split.skipped_missing;
  result.best_validation = INFINITY;
  View1 best_params("climvae::train::best_params", vae.params().values.extent(0));
  int epochs_without_improvement = 0;
  const auto t0 = std::chrono::steady_clock::now();

  std::vector<int> order(split.train.size());
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto te = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(stream_key(config.seed, static_cast<uint64_t>(epoch)));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    const uint64_t eps_key = stream_key(config.seed ^ 0xE95ULL, static_cast<uint64_t>(epoch));
    double sums[3] = {0, 0, 0};
    for (size_t b0 = 0; b0 < order.size(); b0 += config.batch_size) {
      const size_t b1 = std::min(order.size(), b0 + config.batch_size);
      const double global_batch = static_cast<double>(b1 - b0);
      std::vector<Window> mine;
      std::vector<int64_t> starts;
      std::vector<uint64_t> positions;
      for (size_t i = b0; i < b1; ++i) {
        if (static_cast<int>(i % size) != rank) continue;
        const int w = order[i];
        mine.push_back(split.train[w]);
        starts.push_back(jittered_start(store, split.train[w], config.windows, config.seed, epoch, w));
        positions.push_back(i);
      }
      if (mine.empty()) {
        Kokkos::deep_copy(vae.params().grads, Real(0));
      } else {
        fill_batch(store, mine, starts, steps, vae.config().latent, eps_key, positions, buf);
        const LossParts l = vae.forward_backward(buf.x, buf.season, buf.cells, buf.eps, true);
        sums[0] += l.reconstruction * mine.size();
        sums[1] += l.kl * mine.size();
        // The engine averaged over this rank's share; weight it by its share of the global batch.
        if (size > 1) {
          const Real w = static_cast<Real>(mine.size() / global_batch);
          Real* g = vae.params().grads.data();
          Kokkos::parallel_for(
              "climvae::train::weight_gradients", RangePolicy(0, num_params), KOKKOS_LAMBDA(const int i) { g[i] *= w; });
        }
      }
      sums[2] += mine.size();
      if (size > 1) {
        kx::fence("climvae::train::before_allreduce");
        MPI_Allreduce(MPI_IN_PLACE, vae.params().grads.data(), num_params, MPI_FLOAT, MPI_SUM, comm);
      }
      adam.step(vae.params().values, vae.params().grads);
    }
    MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_DOUBLE, MPI_SUM, comm);

    EpochReport report;
    report.epoch = epoch;
    report.epochs = config.epochs;
    report.train.reconstruction = sums[0] / sums[2];
    report.train.kl = sums[1] / sums[2];
    report.has_validation = !split.validation.empty();
    if (report.has_validation) report.validation = evaluate(vae, store, split.validation, config, buf, comm);
    require(std::isfinite(report.train.total()) && (!report.has_validation || std::isfinite(report.validation.total())),
            "training diverged at epoch " + std::to_string(epoch) + ": loss is not finite");
    const double monitored = report.has_validation ? report.validation.total() : report.train.total();
    if (monitored < result.best_validation) {
      result.best_validation = monitored;
      result.best_epoch = epoch;
      report.best_so_far = true;
      Kokkos::deep_copy(best_params, vae.params().values);
      epochs_without_improvement = 0;
    } else {
      ++epochs_without_improvement;
    }
    const auto now = std::chrono::steady_clock::now();
    report.seconds_elapsed = std::chrono::duration<double>(now - t0).count();
    report.windows_per_second = order.size() / std::chrono::duration<double>(now - te).count();
    report.seconds_remaining = report.seconds_elapsed / epoch * (config.epochs - epoch);
    result.epochs_run = epoch;
    if (on_epoch) on_epoch(report);
    if (config.early_stop_patience > 0 && epochs_without_improvement >= config.early_stop_patience) break;
  }
  if (config.early_stop_patience > 0) Kokkos::deep_copy(vae.params().values, best_params);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace climvae
