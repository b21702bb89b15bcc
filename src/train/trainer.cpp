#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <sstream>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"
#include "model/seasonal.hpp"
#include "model/standardise.hpp"
#include "train/checkpoint.hpp"

namespace climvae {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Latent steps of a training window (whole days of 24 hours, whole steps of Vae::kHoursPerStep).
int window_steps(const WindowConfig& w) { return w.window_days * 24 / Vae::kHoursPerStep; }

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

// One batch of this rank: its windows (Window::cell is the global cell index), their jittered
// starts and their positions in the global order (which key eps).
struct Batch {
  std::vector<Window> windows;
  std::vector<int64_t> starts;
  std::vector<uint64_t> positions;
  size_t size() const { return windows.size(); }
};

// Fills the buffers with the standardised windows of the batch and draws eps from a
// counter-based stream keyed by (seed, epoch, global window position), so that the numbers do
// not depend on how the batch is split over ranks.
void fill_batch(const Store& store, const Batch& batch_windows, int steps, int latent, uint64_t key, BatchBuffers& buf) {
  const int batch = static_cast<int>(batch_windows.size());
  const int hours = steps * Vae::kHoursPerStep;
  buf.resize(batch, steps);
  if (buf.eps.extent(2) != static_cast<size_t>(latent)) buf.eps = View3("climvae::train::eps", batch, steps, latent);
  for (int b = 0; b < batch; ++b) {
    const int c = batch_windows.windows[b].cell - store.first_cell;
    const CellSeries& cell = store.cells[c];
    const int64_t start = batch_windows.starts[b];
    for (int h = 0; h < hours; ++h)
      buf.x_host(b, h) = static_cast<float>(standardise(cell, store.detrended_k(c, start + h)));
    seasonal_features(store.start_hour + start + cell.utc_offset_hours, steps, &buf.season_host(b, 0, 0),
                      season_phase_days(cell.latitude));
  }
  auto cells_host = Kokkos::create_mirror_view(buf.cells);
  for (int b = 0; b < batch; ++b) cells_host(b) = batch_windows.windows[b].cell;  // global index
  Kokkos::deep_copy(buf.cells, cells_host);
  Kokkos::deep_copy(buf.x, buf.x_host);
  Kokkos::deep_copy(buf.season, buf.season_host);
  const auto pos = buf.positions;
  auto pos_host = Kokkos::create_mirror_view(pos);
  for (int b = 0; b < batch; ++b) pos_host(b) = batch_windows.positions[b];
  Kokkos::deep_copy(pos, pos_host);
  Real* e = buf.eps.data();
  const int per_window = steps * latent;
  Kokkos::parallel_for(
      "climvae::train::draw_eps", RangePolicy(0, batch * per_window), KOKKOS_LAMBDA(const int i) {
        const int b = i / per_window, j = i % per_window;
        e[i] = standard_normal(stream_key(key, pos(b)), static_cast<uint64_t>(j));
      });
}

// This rank's windows and where they sit in the global lists. Ranks hold consecutive blocks of
// cells in rank order, so the global lists (ordered by cell) are the ranks' lists one after
// another, whatever the number of ranks.
struct RankWindows {
  WindowSplit mine;
  int64_t train_first = 0, train_total = 0;
  int64_t validation_first = 0, validation_total = 0;
  int64_t skipped_total = 0;
  bool owns_train(int64_t w) const {
    return w >= train_first && w < train_first + static_cast<int64_t>(mine.train.size());
  }
};

RankWindows rank_windows(const Store& store, const WindowConfig& config, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  long long cells = static_cast<long long>(store.cells.size()), first_cell = 0;
  MPI_Exscan(&cells, &first_cell, 1, MPI_LONG_LONG, MPI_SUM, comm);
  if (rank == 0) first_cell = 0;  // MPI_Exscan leaves rank 0's result undefined
  RankWindows r;
  run_on_all_ranks(comm, [&] {
    require(store.first_cell == first_cell, "rank " + std::to_string(rank) + " holds cells from " +
                                                std::to_string(store.first_cell) + " on, expected " +
                                                std::to_string(first_cell) +
                                                ": each rank must hold its share of the store (StoreCells::my_share)");
    r.mine = make_windows(store, config);
  });
  long long counts[3] = {static_cast<long long>(r.mine.train.size()), static_cast<long long>(r.mine.validation.size()),
                         r.mine.skipped_missing};
  long long firsts[3] = {0, 0, 0}, totals[3] = {0, 0, 0};
  MPI_Exscan(counts, firsts, 3, MPI_LONG_LONG, MPI_SUM, comm);
  if (rank == 0) std::fill(firsts, firsts + 3, 0LL);
  MPI_Allreduce(counts, totals, 3, MPI_LONG_LONG, MPI_SUM, comm);
  require(totals[0] > 0, "no complete training window in the store");
  r.train_first = firsts[0], r.train_total = totals[0];
  r.validation_first = firsts[1], r.validation_total = totals[1];
  r.skipped_total = totals[2];
  return r;
}

// Loss over this rank's validation windows (no gradients), summed over the ranks.
LossParts evaluate(Vae& vae, const Store& store, const RankWindows& rw, const TrainConfig& config, BatchBuffers& buf,
                   MPI_Comm comm) {
  const std::vector<Window>& windows = rw.mine.validation;
  const int steps = window_steps(config.windows);
  double sums[3] = {0, 0, 0};
  for (size_t b0 = 0; b0 < windows.size(); b0 += config.batch_size) {
    Batch batch;
    for (size_t i = b0; i < std::min(windows.size(), b0 + config.batch_size); ++i) {
      batch.windows.push_back(windows[i]);
      batch.starts.push_back(windows[i].nominal_start);
      batch.positions.push_back(rw.validation_first + i);
    }
    // Validation uses one fixed eps stream so that epochs are comparable.
    fill_batch(store, batch, steps, vae.config().latent, stream_key(config.seed, 0xFA11DA7EULL), buf);
    const LossParts l = vae.forward_backward(buf.x, buf.season, buf.cells, buf.eps, false);
    sums[0] += l.reconstruction * batch.size();
    sums[1] += l.kl * batch.size();
    sums[2] += batch.size();
  }
  MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_DOUBLE, MPI_SUM, comm);
  LossParts out;
  if (sums[2] > 0) {
    out.reconstruction = sums[0] / sums[2];
    out.kl = sums[1] / sums[2];
  }
  return out;
}

bool loss_is_bad(const LossParts& l, double max_loss) { return !(std::isfinite(l.total()) && l.total() <= max_loss); }

// The message for a step whose loss on this rank's windows is bad: the windows whose loss is
// bad on their own (re-evaluated one by one), or all of the rank's windows if none is.
std::string divergence_report(Vae& vae, const Store& store, const Batch& batch, const LossParts& loss, int epoch,
                              int64_t step, uint64_t eps_key, const TrainConfig& config, BatchBuffers& buf) {
  std::ostringstream m;
  m << "training diverged at epoch " << epoch << ", step " << step << ": the loss of " << batch.size()
    << " window(s) is " << loss.total() << " (reconstruction " << loss.reconstruction << ", KL " << loss.kl
    << "; limit --max-loss " << config.max_loss << "). Windows involved:";
  std::vector<std::string> bad, all;
  for (size_t b = 0; b < batch.size(); ++b) {
    Batch one;
    one.windows = {batch.windows[b]};
    one.starts = {batch.starts[b]};
    one.positions = {batch.positions[b]};
    fill_batch(store, one, window_steps(config.windows), vae.config().latent, eps_key, buf);
    const LossParts l = vae.forward_backward(buf.x, buf.season, buf.cells, buf.eps, false);
    std::ostringstream w;
    w << " " << describe_cell(store, one.windows[0].cell) << " from " << format_iso_hour(store.start_hour + one.starts[0])
      << " (loss " << l.total() << ")";
    all.push_back(w.str());
    if (loss_is_bad(l, config.max_loss)) bad.push_back(w.str());
  }
  const std::vector<std::string>& listed = bad.empty() ? all : bad;
  for (size_t i = 0; i < listed.size() && i < 10; ++i) m << (i ? ";" : "") << listed[i];
  if (listed.size() > 10) m << "; and " << listed.size() - 10 << " more";
  return m.str();
}

std::vector<float> to_host(const View1& v) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<float>(host.data(), host.data() + host.extent(0));
}

void to_device(const std::vector<float>& values, const View1& v) {
  require(values.size() == v.extent(0), "buffer size does not match the network");
  Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> host(values.data(),
                                                                                               values.size());
  Kokkos::deep_copy(v, host);
}

// The options a resumed run must share with the run that wrote the checkpoint (named as on the
// command line), and the sizes that follow from the store.
// The store, as far as rank 0 sees it without a collective: its size and its first cell (another
// site or period of the same shape would otherwise be resumed on silently).
std::string store_fingerprint(const Store& store) {
  char text[200];
  std::snprintf(text, sizeof text, "%d-cells-from-%s-for-%lldh", store.total_cells,
                format_iso_hour(store.start_hour).c_str(), static_cast<long long>(store.num_hours));
  std::string result = text;
  if (!store.cells.empty()) {
    const CellSeries& c = store.cells[0];
    std::snprintf(text, sizeof text, "-first-at-%.4f,%.4f-offset-%.3f-scale-%.3f", c.latitude, c.longitude, c.offset_k,
                  c.scale_k);
    result += text;
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> run_settings(const Vae& vae, const RankWindows& rw,
                                                              const TrainConfig& c, const Store& store) {
  auto text = [](auto v) {
    std::ostringstream s;
    s.precision(17);
    s << v;
    return s.str();
  };
  const WindowConfig& w = c.windows;
  return {{"seed", text(c.seed)},
          {"batch-size", text(c.batch_size)},
          {"learning-rate", text(c.adam.learning_rate)},
          {"window-days", text(w.window_days)},
          {"stride-days", text(w.stride_days)},
          {"jitter-days", text(w.jitter_days)},
          {"jitter-hours", text(w.jitter_hours)},
          {"validation-fraction", text(w.validation_fraction)},
          {"from", text(w.first_hour)},
          {"until", text(w.last_hour)},
          {"early-stop", text(c.early_stop_patience)},
          {"filters", text(vae.config().filters)},
          {"latent", text(vae.config().latent)},
          {"fourier-features", text(vae.config().fourier_features)},
          {"prior", prior_name(vae.config().prior)},
          {"parameters", text(vae.params().layout.total())},
          {"train-windows", text(rw.train_total)},
          {"validation-windows", text(rw.validation_total)},
          {"balance-ranks", c.balance_ranks ? "on" : "off"},
          {"store", store_fingerprint(store)}};
}

// Settings added after checkpoints were first written, with the value an older checkpoint had.
const char* setting_of_older_checkpoint(const std::string& name) { return name == "balance-ranks" ? "off" : nullptr; }

// The training state every rank holds identically: model, optimiser, best parameters, loop state.
struct Trainee {
  Vae& vae;
  Adam& adam;
  View1 best_params;
  TrainState& state;
};

void write_checkpoint(const std::string& path, const std::vector<std::pair<std::string, std::string>>& settings,
                      const Trainee& t, MPI_Comm comm) {
  run_on_root(comm, [&] {
    Checkpoint c;
    c.settings = settings;
    c.state = t.state;
    c.parameters = to_host(t.vae.params().values);
    c.adam_m = to_host(t.adam.first_moment());
    c.adam_v = to_host(t.adam.second_moment());
    c.best_parameters = to_host(t.best_params);
    save_checkpoint(c, path);
  });
}

// Rank 0 reads and checks the checkpoint, every rank receives it.
void resume(const std::string& path, const std::vector<std::pair<std::string, std::string>>& settings, Trainee& t,
            MPI_Comm comm) {
  Checkpoint c;
  run_on_root(comm, [&] {
    c = load_checkpoint(path);
    for (const auto& setting : settings) {
      const std::string& name = setting.first;
      const std::string& value = setting.second;
      const auto found = std::find_if(c.settings.begin(), c.settings.end(), [&](const auto& s) { return s.first == name; });
      if (found == c.settings.end() && name == "store") continue;  // written before it was recorded
      const char* older = setting_of_older_checkpoint(name);
      const std::string had = found != c.settings.end() ? found->second : older ? older : "(none)";
      require(had == value, "checkpoint '", path, "' was written by a run with ", name, " = ", had, ", this run has ",
              value, " (resume with the same options and store)");
    }
  });
  const size_t n = t.vae.params().layout.total();  // equal to the checkpoint's: checked as a setting
  for (auto* buffer : {&c.parameters, &c.adam_m, &c.adam_v, &c.best_parameters}) {
    buffer->resize(n);
    MPI_Bcast(buffer->data(), static_cast<int>(n), MPI_FLOAT, 0, comm);
  }
  MPI_Bcast(&c.state, sizeof(TrainState), MPI_BYTE, 0, comm);
  to_device(c.parameters, t.vae.params().values);
  to_device(c.adam_m, t.adam.first_moment());
  to_device(c.adam_v, t.adam.second_moment());
  to_device(c.best_parameters, t.best_params);
  t.adam.set_steps_taken(c.state.adam_steps);
  t.state = c.state;
}

// The training loop's shared state and its phases: set up (or resume), steps, epoch ends.
struct TrainingRun {
  Vae& vae;
  const Store& store;
  TrainConfig config;
  RankWindows rw;
  MPI_Comm comm;
  int ranks = 1;
  Adam adam;
  TrainState state;
  Trainee trainee;
  std::vector<std::pair<std::string, std::string>> settings;
  BatchBuffers buf;
  TrainResult result;
  double seconds_before = 0;
  Clock::time_point t0;

  TrainingRun(Vae& v, const Store& s, const TrainConfig& given, MPI_Comm c)
      : vae(v),
        store(s),
        config(given),
        rw(rank_windows(s, given.windows, c)),
        comm(c),
        adam(v.params().layout.total(), given.adam),
        trainee{v, adam, View1("climvae::train::best_params", v.params().values.extent(0)), state} {
    MPI_Comm_size(comm, &ranks);
    if (config.epochs == 0) config.epochs = default_epoch_ceiling(rw.train_total, config.batch_size);
    settings = run_settings(vae, rw, config, store);
    if (config.resume_from.empty()) {
      // Every rank starts from rank 0's parameters.
      kx::fence("climvae::train::before_broadcast");
      MPI_Bcast(vae.params().values.data(), num_params(), MPI_FLOAT, 0, comm);
    } else {
      resume(config.resume_from, settings, trainee, comm);
    }
    result.train_windows = static_cast<int>(rw.train_total);
    result.validation_windows = static_cast<int>(rw.validation_total);
    result.skipped_windows = static_cast<int>(rw.skipped_total);
    result.first_epoch = state.epoch;
    result.epoch_ceiling = config.epochs;
    result.monitored_validation = rw.validation_total > 0;
    seconds_before = state.seconds;
    t0 = Clock::now();
  }

  int num_params() const { return static_cast<int>(vae.params().layout.total()); }
  bool early_stopped() const {
    return config.early_stop_patience > 0 && state.epochs_without_improvement >= config.early_stop_patience;
  }
  void finish() {
    state.seconds = seconds_before + seconds_since(t0);
    result.epochs_run = state.epoch - 1;
    result.best_epoch = state.best_epoch;
    result.best_validation = state.best_loss;
    result.steps = state.adam_steps;
    result.seconds = state.seconds;
    result.seconds_this_run = seconds_since(t0);
  }
  void checkpoint() {
    if (!config.checkpoint_path.empty()) write_checkpoint(config.checkpoint_path, settings, trainee, comm);
  }
};

// The epoch's order of the training windows: a permutation of all of them, the same on every
// rank. Position i of the order keys window order[i]'s random numbers.
struct EpochOrder {
  std::vector<int64_t> order;
  std::vector<int64_t> my_positions;  // the positions of this rank's windows, in order (balance_ranks)
};

// Window position i of the epoch's order, for this rank's batch.
void add_window(const TrainingRun& t, const EpochOrder& e, int64_t i, int epoch, Batch& mine) {
  const int64_t w = e.order[i];
  const Window& window = t.rw.mine.train[w - t.rw.train_first];
  mine.windows.push_back(window);
  mine.starts.push_back(jittered_start(t.store, window, t.config.windows, t.config.seed, epoch, static_cast<int>(w)));
  mine.positions.push_back(static_cast<uint64_t>(i));
}

// This rank's windows of the step that covers [b0, b1) of the epoch: the windows of that global
// batch in its cells or, with balance_ranks, slice k of the S steps of its own windows in the
// epoch's order (every rank's slice is its windows / S, within one).
Batch batch_of_rank(const TrainingRun& t, const EpochOrder& e, int64_t b0, int64_t b1, int epoch) {
  Batch mine;
  if (!t.config.balance_ranks) {
    for (int64_t i = b0; i < b1; ++i)
      if (t.rw.owns_train(e.order[i])) add_window(t, e, i, epoch, mine);
    return mine;
  }
  const int64_t batch = t.config.batch_size, steps = (t.rw.train_total + batch - 1) / batch, k = b0 / batch;
  const int64_t n = static_cast<int64_t>(e.my_positions.size());
  for (int64_t j = k * n / steps; j < (k + 1) * n / steps; ++j) add_window(t, e, e.my_positions[j], epoch, mine);
  return mine;
}

// The first `count` values times `factor`.
void scale(const View1& values, int count, Real factor) {
  Real* g = values.data();
  Kokkos::parallel_for(
      "climvae::train::weight_gradients", RangePolicy(0, count), KOKKOS_LAMBDA(const int i) { g[i] *= factor; });
}

// One optimiser step on the global batch [b0, b1); returns whether any rank asked to stop.
bool train_step(TrainingRun& t, const EpochOrder& order, int epoch, uint64_t eps_key) {
  Vae& vae = t.vae;
  const int64_t b0 = t.state.next_window, b1 = std::min<int64_t>(t.rw.train_total, b0 + t.config.batch_size);
  const Batch mine = batch_of_rank(t, order, b0, b1, epoch);
  LossParts l;
  if (mine.size() == 0) {
    Kokkos::deep_copy(vae.params().grads, Real(0));
  } else {
    fill_batch(t.store, mine, window_steps(t.config.windows), vae.config().latent, eps_key, t.buf);
    l = vae.forward_backward(t.buf.x, t.buf.season, t.buf.cells, t.buf.eps, true);
  }
  // One small allreduce per step: the loss sums, and whether any rank saw a bad loss or was
  // asked to stop, so that every rank takes the same decision.
  const bool bad = mine.size() > 0 && loss_is_bad(l, t.config.max_loss);
  const bool stop = t.config.stop_requested && t.config.stop_requested();
  const double n = static_cast<double>(mine.size());
  double step_sums[5] = {l.reconstruction * n, l.kl * n, n, bad ? 1.0 : 0.0, stop ? 1.0 : 0.0};
  MPI_Allreduce(MPI_IN_PLACE, step_sums, 5, MPI_DOUBLE, MPI_SUM, t.comm);
  if (step_sums[3] > 0)
    throw_if_any_rank_failed(t.comm, bad ? divergence_report(vae, t.store, mine, l, epoch, t.state.adam_steps + 1,
                                                             eps_key, t.config, t.buf)
                                         : "");
  // The engine averaged over this rank's share; weight it by its share of the step's windows.
  if (t.ranks > 1 && mine.size() > 0)
    scale(vae.params().grads, t.num_params(), static_cast<Real>(n / step_sums[2]));
  if (t.ranks > 1) {
    const auto ta = Clock::now();
    kx::fence("climvae::train::before_allreduce");
    MPI_Allreduce(MPI_IN_PLACE, vae.params().grads.data(), t.num_params(), MPI_FLOAT, MPI_SUM, t.comm);
    t.result.seconds_allreduce += seconds_since(ta);
  }
  t.adam.step(vae.params().values, vae.params().grads);
  t.state.adam_steps = t.adam.steps_taken();
  for (int k = 0; k < 3; ++k) t.state.loss_sums[k] += step_sums[k];
  t.state.next_window = b1;
  ++t.result.steps_this_run;
  return step_sums[4] > 0;
}

// The end of an epoch: validation, the best parameters so far, the report, a periodic checkpoint.
void end_epoch(TrainingRun& t, int epoch, int64_t first_window, Clock::time_point epoch_started,
               const std::function<void(const EpochReport&)>& on_epoch) {
  TrainState& state = t.state;
  EpochReport report;
  report.epoch = epoch;
  report.epochs = t.config.epochs;
  report.train.reconstruction = state.loss_sums[0] / state.loss_sums[2];
  report.train.kl = state.loss_sums[1] / state.loss_sums[2];
  report.has_validation = t.rw.validation_total > 0;
  if (report.has_validation) report.validation = evaluate(t.vae, t.store, t.rw, t.config, t.buf, t.comm);
  require(!report.has_validation || std::isfinite(report.validation.total()),
          "training diverged at epoch " + std::to_string(epoch) + ": the validation loss is not finite");
  const double monitored = report.has_validation ? report.validation.total() : report.train.total();
  if (monitored < state.best_loss) {
    state.best_loss = monitored;
    state.best_epoch = epoch;
    report.best_so_far = true;
    Kokkos::deep_copy(t.trainee.best_params, t.vae.params().values);
    state.epochs_without_improvement = 0;
  } else {
    ++state.epochs_without_improvement;
  }
  state.epoch = epoch + 1;
  state.next_window = 0;
  std::fill(state.loss_sums, state.loss_sums + 3, 0.0);
  const double run_seconds = seconds_since(t.t0);
  report.seconds_elapsed = t.seconds_before + run_seconds;
  report.windows_per_second = (t.rw.train_total - first_window) / seconds_since(epoch_started);
  report.seconds_remaining = run_seconds / (epoch - t.result.first_epoch + 1) * (t.config.epochs - epoch);
  if (on_epoch) on_epoch(report);
  if (t.config.checkpoint_every > 0 && epoch % t.config.checkpoint_every == 0 && !t.config.checkpoint_path.empty()) {
    state.seconds = t.seconds_before + seconds_since(t.t0);
    t.checkpoint();
  }
}

}  // namespace

int default_epoch_ceiling(int64_t train_windows, int batch_size) {
  const int64_t steps_per_epoch = std::max<int64_t>(1, (train_windows + batch_size - 1) / batch_size);
  const int64_t epochs = (kCeilingSteps + steps_per_epoch - 1) / steps_per_epoch;
  return static_cast<int>(std::clamp<int64_t>(epochs, kMinCeilingEpochs, kMaxCeilingEpochs));
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::ceiling: return "ceiling";
    case StopReason::no_improvement: return "no_improvement";
    case StopReason::signal: return "signal";
  }
  return "";
}

TrainResult train(Vae& vae, const Store& store, const TrainConfig& given,
                  const std::function<void(const EpochReport&)>& on_epoch, MPI_Comm comm) {
  require(given.epochs >= 0, "epochs must not be negative (0: derived from the number of windows)");
  require(given.batch_size >= 1, "batch size must be at least 1");
  require(given.checkpoint_every >= 0, "checkpoint interval must not be negative");
  require(given.early_stop_patience >= 0, "early-stopping patience must not be negative (0: off)");
  TrainingRun t(vae, store, given, comm);
  EpochOrder order;
  order.order.resize(t.rw.train_total);
  while (t.state.epoch <= t.config.epochs && !t.early_stopped()) {
    const int epoch = t.state.epoch;
    const auto epoch_started = Clock::now();
    const int64_t first_window = t.state.next_window;
    std::iota(order.order.begin(), order.order.end(), 0);
    std::mt19937_64 shuffle_rng(stream_key(t.config.seed, static_cast<uint64_t>(epoch)));
    std::shuffle(order.order.begin(), order.order.end(), shuffle_rng);
    order.my_positions.clear();
    if (t.config.balance_ranks)
      for (int64_t i = 0; i < t.rw.train_total; ++i)
        if (t.rw.owns_train(order.order[i])) order.my_positions.push_back(i);
    const uint64_t eps_key = stream_key(t.config.seed ^ 0xE95ULL, static_cast<uint64_t>(epoch));
    while (t.state.next_window < t.rw.train_total) {
      if (!train_step(t, order, epoch, eps_key)) continue;
      t.result.stopped = true;
      t.result.stop_reason = StopReason::signal;
      t.finish();
      t.checkpoint();
      return t.result;
    }
    end_epoch(t, epoch, first_window, epoch_started, on_epoch);
  }
  t.finish();
  t.result.stop_reason = t.early_stopped() ? StopReason::no_improvement : StopReason::ceiling;
  // The last state, so that a finished run can be extended with more epochs.
  t.checkpoint();
  if (t.config.early_stop_patience > 0) Kokkos::deep_copy(vae.params().values, t.trainee.best_params);
  return t.result;
}

}  // namespace climvae
