// climvae train: fit the VAE to a cell store and save a model file; checkpoints, --resume, and
// a clean stop on SIGUSR1 (Slurm's --signal=USR1@SECONDS before the time limit).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "fit_weather.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/store.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "train/checkpoint.hpp"
#include "train/climate_check.hpp"
#include "train/trainer.hpp"

namespace climvae::cli {
namespace {

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// Exit status of a run stopped by SIGUSR1 (EX_TEMPFAIL: try again, i.e. resume).
constexpr int kExitStopped = 75;

volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int) { stop_signal = 1; }

constexpr const char* kLogHeader =
    "epoch,train_reconstruction,train_kl,train_total,validation_reconstruction,validation_kl,validation_total,"
    "windows_per_second,seconds\n";

// Opens the CSV log for the run's first epoch report. A resumed run keeps the lines of the
// epochs before `first_epoch` (those after it came from a run past its checkpoint) and appends.
std::ofstream open_log(const std::string& path, bool resumed, int first_epoch) {
  std::string kept = kLogHeader;
  std::ifstream old(path);
  if (resumed && old.good()) {
    std::string line;
    std::getline(old, line);
    while (std::getline(old, line))
      if (std::atoi(line.c_str()) < first_epoch) kept += line + "\n";
  }
  std::ofstream log(path, std::ios::trunc);
  log << kept;
  require(log.good(), "cannot write log file '" + path + "'");
  return log;
}

// Why the run ended and which weights the model holds, for the closing summary.
std::string stop_text(const TrainResult& result, const TrainConfig& tc, const std::string& monitored) {
  const std::string kept = tc.early_stop_patience > 0
                               ? "; kept the weights of epoch " + std::to_string(result.best_epoch) + " (best " +
                                     monitored + " loss)"
                               : "; kept the last weights (--early-stop 0)";
  if (result.stop_reason == StopReason::no_improvement)
    return "no " + monitored + " improvement for " + std::to_string(tc.early_stop_patience) + " epochs" + kept;
  return "reached the epoch ceiling " + std::to_string(result.epoch_ceiling) +
         (tc.epochs > 0 ? " (--epochs)"
                        : " (derived: about " + std::to_string(kCeilingSteps) + " optimiser steps, " +
                              std::to_string(kMinCeilingEpochs) + ".." + std::to_string(kMaxCeilingEpochs) +
                              " epochs)") + kept;
}

// The command line, as the phases below use it.
struct TrainOptions {
  std::string store_path, output, log_path, from, until;
  TrainConfig tc;
  int embedding = -1;
  std::string prior = "temporal";
  std::string spatial_factors = "auto";
};

po::options_description train_options(TrainOptions& t) {
  po::options_description o("Options");
  o.add_options()
      ("store", po::value(&t.store_path)->required(), "cell store written by 'climvae prepare'")
      ("output", po::value(&t.output)->required(), "model file to write")
      ("epochs", po::value(&t.tc.epochs)->default_value(0),
       "most passes over the training windows (0: about 20,000 optimiser steps, 300..3000 epochs)")
      ("batch-size", po::value(&t.tc.batch_size)->default_value(32), "windows per optimiser step")
      ("balance-ranks", po::bool_switch(&t.tc.balance_ranks),
       "every rank takes its share of each step from its own cells, so no rank waits for another (faster on "
       "many ranks; the batches, and so the model, then depend on the number of ranks)")
      ("learning-rate", real_value(&t.tc.adam.learning_rate, 1e-3), "Adam learning rate")
      ("seed", po::value(&t.tc.seed)->default_value(42), "seed of initial weights, shuffling, jitter and sampling")
      ("window-days", po::value(&t.tc.windows.window_days)->default_value(64), "training window length (multiple of 4)")
      ("stride-days", po::value(&t.tc.windows.stride_days)->default_value(16), "days between window starts")
      ("jitter-days", po::value(&t.tc.windows.jitter_days)->default_value(2),
       "shift each window start by up to +-N whole days every epoch (keeps the diurnal phase)")
      ("jitter-hours", po::value(&t.tc.windows.jitter_hours)->default_value(0),
       "extra shift of up to +-N hours (the seed used 12; it blurs the generated diurnal cycle)")
      ("validation-fraction", real_value(&t.tc.windows.validation_fraction, 0.2), "last part of the period held out")
      ("early-stop", po::value(&t.tc.early_stop_patience)->default_value(100),
       "stop after N epochs without validation improvement (training loss without a validation split) "
       "and keep the best weights (0: off, keep the last)")
      ("prior", po::value(&t.prior)->default_value(t.prior),
       "temporal: each 96-hour latent step follows the previous one (a seasonal AR(1)); seasonal: the seed's "
       "independent steps")
      ("calibrate", po::value<std::string>()->default_value("on"),
       "on: fit per cell how much of the decoded weather to keep and the noise (with the observed persistence "
       "from an hour to ten days) that restores the rest, and per month the mean, variance and tails the "
       "decoded mean misses, all applied at generation (docs/model.md); off: the decoded mean alone, as the seed")
      ("spatial-factors", po::value(&t.spatial_factors)->default_value(t.spatial_factors),
       "factors shared by the cells' weather, fitted after training so that cells of one generated member are "
       "correlated as in the data (auto: as many, up to min(16, cells x latent), as the data support; 0: "
       "independent cells)")
      ("embedding", po::value(&t.embedding),
       "learned values per cell conditioning the seasonal prior (default: 0 for one cell, 4 for several)")
      ("from", po::value(&t.from), "use the store from this date (YYYY-MM-DD, UTC)")
      ("until", po::value(&t.until), "use the store up to the end of this date")
      ("log", po::value(&t.log_path), "write a CSV line per epoch to this file (appended to on --resume)")
      ("checkpoint", po::value(&t.tc.checkpoint_path),
       "write the training state to this file at the end, every --checkpoint-every epochs and on SIGUSR1")
      ("checkpoint-every", po::value(&t.tc.checkpoint_every)->default_value(0), "epochs between checkpoints (0: only at the end and on SIGUSR1)")
      ("resume", po::value(&t.tc.resume_from), "continue the run saved in this checkpoint (same options and store)")
      ("max-loss", real_value(&t.tc.max_loss, 1e3),
       "stop with an error naming the step and cells when a batch's loss exceeds this or is not finite")
      ("overwrite", po::bool_switch(), "replace an existing model file and --checkpoint file");
  return o;
}

// Existing files are replaced only with --overwrite (the checkpoint being resumed always); the
// period to train on.
void check_outputs_and_period(const po::variables_map& vm, TrainOptions& t) {
  TrainConfig& tc = t.tc;
  const bool overwrite = vm["overwrite"].as<bool>(), resumed = !tc.resume_from.empty();
  // The checkpoint being resumed may be its own --checkpoint; nothing else may share a path.
  require_distinct({{"--store", t.store_path}, {"--output", t.output}, {"--checkpoint", tc.checkpoint_path},
                    {"--log", t.log_path}});
  require_distinct({{"--store", t.store_path}, {"--output", t.output}, {"--log", t.log_path}, {"--resume", tc.resume_from}});
  require_output(t.output, "--output", overwrite);
  spatial_factors_option(t.spatial_factors);  // checked before training, not after
  if (!tc.checkpoint_path.empty()) {
    // The checkpoint of the run being continued may be replaced; any other existing file only with --overwrite.
    const bool continues = tc.checkpoint_path == tc.resume_from;
    require_output_location(tc.checkpoint_path, "--checkpoint");
    require(overwrite || continues || !file_exists(tc.checkpoint_path),
            "--checkpoint '" + tc.checkpoint_path + "' exists (use --overwrite to replace it, or --resume it)");
    if (overwrite || continues) allow_checkpoint_replacement(tc.checkpoint_path);
  }
  if (!t.log_path.empty()) {  // a resumed run appends to its log
    require_output_location(t.log_path, "--log");
    require(overwrite || resumed || !file_exists(t.log_path),
            "--log '" + t.log_path + "' exists (use --overwrite to replace it, or --resume to append to it)");
  }
  if (!t.from.empty()) tc.windows.first_hour = parse_iso_hour(t.from);
  if (!t.until.empty()) tc.windows.last_hour = parse_iso_hour(t.until) + 23;
}

// Values the trainer would take and only later turn into a 'diverged' error or a default.
void check_numbers(const po::variables_map& vm, const TrainOptions& t) {
  const double rate = t.tc.adam.learning_rate, max_loss = t.tc.max_loss;
  require(rate > 0 && rate <= 1, "--learning-rate must be above 0 and at most 1, got " + shortest_text(rate));
  require(max_loss > 0, "--max-loss must be a positive number (inf: no limit), got " + shortest_text(max_loss));
  // -1 is the unset default; any negative given would silently mean it.
  require(!vm.count("embedding") || (t.embedding >= 0 && t.embedding <= 64),
          "--embedding must be 0..64, got " + std::to_string(t.embedding));
}

VaeConfig network_of(const TrainOptions& t, int cells) {
  VaeConfig network;
  network.cells = cells;
  network.embedding = t.embedding >= 0 ? t.embedding : (cells > 1 ? 4 : 0);
  require(network.embedding <= 64, "--embedding must be 0..64");
  network.prior = parse_prior_kind(t.prior);
  return network;
}

void print_start(const TrainOptions& t, const Vae& vae, size_t cells) {
  const TrainConfig& tc = t.tc;
  std::cout << "training on " << cells << " cell(s) of '" << t.store_path << "', "
            << (tc.epochs > 0 ? "at most " + std::to_string(tc.epochs) : std::string("a data-derived ceiling of"))
            << " epochs, "
            << (tc.early_stop_patience > 0
                    ? "early stop after " + std::to_string(tc.early_stop_patience) + " epochs without improvement of the " +
                          (tc.windows.validation_fraction > 0 ? "validation loss"
                                                              : "training loss (no validation split)")
                    : std::string("no early stop"))
            << ", batch " << tc.batch_size << ", " << vae.params().layout.total() << " parameters"
            << (tc.resume_from.empty() ? "" : ", resuming from '" + tc.resume_from + "'") << std::endl;
}

// The training loop, each epoch printed on rank 0 and written to --log.
TrainResult train_with_report(Vae& vae, const Store& store, const TrainOptions& t) {
  std::ofstream log;
  return train(vae, store, t.tc, [&](const EpochReport& r) {
    if (!is_root()) return;
    if (!t.log_path.empty() && !log.is_open()) log = open_log(t.log_path, !t.tc.resume_from.empty(), r.epoch);
    std::printf("epoch %4d/%d  recon %8.4f  kl %7.4f  loss %8.4f", r.epoch, r.epochs, r.train.reconstruction, r.train.kl,
                r.train.total());
    if (r.has_validation) std::printf("  val %8.4f%s", r.validation.total(), r.best_so_far ? "*" : " ");
    std::printf("  %6.0f windows/s  elapsed %s  ETA %s\n", r.windows_per_second, clock_text(r.seconds_elapsed).c_str(),
                clock_text(r.seconds_remaining).c_str());
    std::fflush(stdout);
    if (log.is_open())
      log << r.epoch << ',' << r.train.reconstruction << ',' << r.train.kl << ',' << r.train.total() << ','
          << r.validation.reconstruction << ',' << r.validation.kl << ',' << r.validation.total() << ','
          << r.windows_per_second << ',' << r.seconds_elapsed << std::endl;  // flushed: followed live
  });
}

// Rank 0: the run's provenance into the model, the file written, the closing summary.
void save_and_report(ModelFile& model, const TrainResult& result, const TrainOptions& t, const Store& store,
                     bool overwrite, const std::string& prior_note) {
  model.provenance = {{"store", t.store_path},
                      {"store_source", store.source},
                      {"epochs_run", std::to_string(result.epochs_run)},
                      {"best_epoch", std::to_string(result.best_epoch)},
                      {"best_validation_loss", std::to_string(result.best_validation)},
                      {"monitored_loss", result.monitored_validation ? "validation" : "training"},
                      {"stop_reason", stop_reason_name(result.stop_reason)},
                      {"seed", std::to_string(t.tc.seed)},
                      {"train_windows", std::to_string(result.train_windows)},
                      {"validation_windows", std::to_string(result.validation_windows)},
                      {"climvae_version", CLIMVAE_VERSION_STRING},
                      {"created", utc_now_text()}};
  if (!prior_note.empty()) model.provenance["prior_fallback"] = prior_note;
  save_model(model, t.output, overwrite);
  const std::string monitored = result.monitored_validation ? "validation" : "training";
  std::cout << "trained " << result.epochs_run << " epochs in " << clock_text(result.seconds) << " on "
            << result.train_windows << " training / " << result.validation_windows << " validation windows ("
            << result.skipped_windows << " skipped for missing hours); best " << monitored << " loss "
            << result.best_validation << " at epoch " << result.best_epoch << "\nstopped: "
            << stop_text(result, t.tc, monitored) << "\nwrote " << t.output << std::endl;
}

int run(int argc, char** argv) {
  TrainOptions t;
  po::options_description o = train_options(t);
  po::variables_map vm;
  if (!parse("train", "Train the VAE on a cell store (64-day windows, Adam) and save a model file.", o, argc, argv, vm))
    return 0;
  check_outputs_and_period(vm, t);
  check_numbers(vm, t);
  std::signal(SIGUSR1, on_stop_signal);
  t.tc.stop_requested = [] { return stop_signal != 0; };

  const Store store = read_store(t.store_path, MPI_COMM_WORLD, StoreCells::my_share);  // this rank's cells
  const std::vector<CellSeries> cells = all_cell_constants(store);
  VaeConfig network = network_of(t, static_cast<int>(cells.size()));
  const std::string calibration_choice = vm["calibrate"].as<std::string>();
  require(calibration_choice == "on" || calibration_choice == "off",
          "--calibrate must be 'on' or 'off', got '" + calibration_choice + "'");
  auto vae = std::make_unique<Vae>(network);
  vae->initialize(t.tc.seed);
  if (is_root()) print_start(t, *vae, cells.size());
  TrainResult result = train_with_report(*vae, store, t);
  // Every rank assembles the model (cells' constants from all ranks); rank 0 writes it.
  ModelFile model;
  model.reference_year = store.reference_year;
  for (const auto& c : cells)
    model.cells.push_back({c.latitude, c.longitude, c.utc_offset_hours, c.trend_k_per_year, c.offset_k, c.scale_k,
                           season_phase_days(c.latitude)});
  model.config = vae->config();
  model.parameters = parameters_of(*vae);
  // The temporal prior's own traces checked against the training climate (train/climate_check.hpp)
  // before anything is fitted on them. By default a model that leaves it is trained again with the
  // seed's seasonal prior, whose every step is held to the data. A prior asked for is kept, and so
  // is a run stopped at an --epochs ceiling before it converged (it may only be undertrained),
  // each with a warning.
  std::string prior_note;
  if (!result.stopped && network.prior == PriorKind::temporal) {
    const std::string departure = generated_climate_departure(*vae, model, store, MPI_COMM_WORLD);
    const bool converged = result.stop_reason == StopReason::no_improvement || vm["epochs"].defaulted();
    if (!departure.empty() && (!vm["prior"].defaulted() || !converged)) {
      if (is_root())
        std::cout << "warning: the temporal prior's traces leave the training climate: " << departure << "; "
                  << (converged ? "--prior seasonal trains a model whose traces stay in it"
                                : "the run stopped at its --epochs ceiling: more epochs, or --prior seasonal")
                  << std::endl;
    } else if (!departure.empty()) {
      prior_note = "the temporal prior's traces left the training climate (" + departure + ")";
      if (is_root())
        std::cout << prior_note << ": training again with the seed's seasonal prior (--prior seasonal)" << std::endl;
      network.prior = PriorKind::seasonal;
      vae = std::make_unique<Vae>(network);
      vae->initialize(t.tc.seed);
      t.tc.resume_from.clear();  // a fresh run; its checkpoints replace the first run's
      result = train_with_report(*vae, store, t);
      model.config = vae->config();
      model.parameters = parameters_of(*vae);
    }
  }
  if (result.stopped) {
    if (is_root())
      std::cout << "stopped by SIGUSR1 after " << result.steps << " steps (epoch " << result.epochs_run + 1 << " of "
                << result.epoch_ceiling << " in progress); "
                << (t.tc.checkpoint_path.empty() ? "no --checkpoint given, nothing saved"
                                                 : "wrote checkpoint " + t.tc.checkpoint_path + " (continue with --resume " +
                                                       t.tc.checkpoint_path + ")")
                << std::endl;
    return kExitStopped;
  }
  fit_weather(model, *vae, store, spatial_factors_option(t.spatial_factors), calibration_choice == "on");
  if (is_root()) save_and_report(model, result, t, store, vm["overwrite"].as<bool>(), prior_note);
  return 0;
}

const Registration registration{"train", run, "train the VAE on a cell store and save a model file"};

}  // namespace
}  // namespace climvae::cli
