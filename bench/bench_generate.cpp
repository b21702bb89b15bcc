// Ensemble generation in trace-years per second per core, in one run:
// (a) the Kokkos engine (generate_traces: prior, sampling, decode, standardisation undone) and
//     (b) the LibTorch twin (prior, sampling, decode) on the same model, trace length and batch,
//     on rank 0 alone, one thread; (a) again with a calibration (the default generation: noise
//     and quantile map for every hour), which the LibTorch twin does not have;
// (c) end to end: climvae's run_ensemble over every rank (members x cells, time chunks, CF
//     NetCDF through PnetCDF), with the share of the time spent writing.
//
// Usage: mpirun -np N bench_generate [--years Y (10)] [--members M (32)] [--cells C (4)]
//                                   [--seconds S (3)] [--output DIR (/tmp)]
// (bench/run_generate.sh runs it at 1 and 2 ranks with the tuned LibTorch settings.)
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <unistd.h>

#include "bench_options.hpp"
#include "bench_timing.hpp"
#include "kernel_paths.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "generate/ensemble_run.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "reference/torch_vae.hpp"

namespace {

using namespace climvae;

struct Options {
  int years = 10, members = 32, cells = 4;
  double seconds = 3.0;
  std::string output = "/tmp";
  bool help_only = false;  // --help: usage printed, nothing to run
};

Options parse(int argc, char** argv) {
  Options o;
  o.help_only = !bench::parse_options(
      argc, argv, "bench_generate",
      {{"--years", &o.years}, {"--members", &o.members}, {"--cells", &o.cells}, {"--seconds", &o.seconds},
       {"--output", &o.output}},
      "Usage: mpirun -np N bench_generate [--years Y (10)] [--members M (32)] [--cells C (4)]\n"
      "                                  [--seconds S (3)] [--output DIR (/tmp)]\n");
  require(o.years >= 1 && o.members >= 1 && o.cells >= 1 && o.seconds > 0, "bench_generate: options must be positive");
  return o;
}

using climvae::bench::rate;

// A model of `cells` cells on a grid (two rows), randomly initialised network.
ModelFile bench_model(int cells) {
  Vae vae;
  vae.initialize(3);
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  m.reference_year = 2022;
  const int columns = (cells + 1) / 2;
  for (int c = 0; c < cells; ++c)
    m.cells.push_back({48.0 + (c / columns) * 0.25, 2.0 + (c % columns) * 0.25, 0, 0.03, 285.0, 6.0});
  return m;
}

// A calibration shaped like Paris' (model/calibration.hpp): the weather partition, two-stage noise
// with its skew by hour, the diurnal mode and a monthly quantile map. The default generation runs
// it for every hour of every member; the network alone is (a).
Calibration bench_calibration() {
  const double pi = 3.14159265358979;
  Calibration c;
  c.mean_correction.assign(12, 0.02f);
  c.noise_sd.assign(12, 0.5f);
  c.noise_phi = 0.98;
  c.anomaly_scale = 0.54;
  c.noise_stages = 2;
  c.noise_short_share = 0.25;
  c.noise_short_phi = 0.7;
  c.generated_climatology.resize(12 * 24);
  for (int i = 0; i < 12 * 24; ++i) c.generated_climatology[i] = static_cast<float>(0.8 * std::sin(2 * pi * (i % 24 - 9) / 24));
  c.noise_diurnal_share = 0.1;
  c.noise_diurnal_phi = 0.9;
  for (int h = 0; h < 24; ++h) {
    c.diurnal_shape.push_back(static_cast<float>(std::sqrt(2.0) * std::sin(2 * pi * (h - 9) / 24)));
    c.smooth_skew.push_back(static_cast<float>(0.1 + 0.2 * std::sin(2 * pi * (h - 8) / 24)));
  }
  const double z[kQuantiles] = {-3.09, -2.33, -1.64, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 1.64, 2.33, 3.09};
  for (int m = 0; m < 12; ++m)
    for (int q = 0; q < kQuantiles; ++q) {
      c.quantiles_generated.push_back(static_cast<float>(z[q]));
      c.quantiles_observed.push_back(static_cast<float>(z[q] * (z[q] > 0 ? 1.1 : 0.95)));
    }
  return c;
}

int run(const Options& o) {
  if (o.help_only) return 0;
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  torch::set_num_threads(1);
  const ModelFile model = bench_model(o.cells);
  Vae vae(model.config);
  load_parameters(vae, model.parameters);
  const int64_t hours = hours_from_civil({2030 + o.years, 1, 1, 0}) - hours_from_civil({2030, 1, 1, 0});
  const double trace_years = hours / 8766.0;  // Julian years, so that the figure does not depend on leap days
  const int steps = static_cast<int>((hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep);
  const int batch = std::min(o.members, generation_batch_size(model.config, steps));

  if (rank == 0) {
    std::printf("bench_generate: %d-year traces (%lld hours, k = %d), batch %d, %d rank(s), Kokkos %s, one thread each\n",
                o.years, static_cast<long long>(hours), steps, batch, ranks, ExecSpace::name());
    bench::print_kernel_paths(vae);
    TraceRequest r;
    r.start_hour = hours_from_civil({2030, 1, 1, 0});
    r.hours = hours;
    r.members = batch;
    r.seed = 1;
    const double kokkos = batch * trace_years * rate(o.seconds, [&] { generate_traces(vae, model, r); });
    ModelFile calibrated = model;
    for (ModelCell& cell : calibrated.cells) cell.calibration = bench_calibration();
    const double kokkos_calibrated = batch * trace_years * rate(o.seconds, [&] { generate_traces(vae, calibrated, r); });

    reference::TorchVae torch_model(model.config);
    torch_model.load_keras_flat(model.parameters, vae.params().layout);
    std::vector<float> season(size_t(batch) * steps * kSeasonalFeatures);
    for (int b = 0; b < batch; ++b) seasonal_features(r.start_hour, steps, season.data() + size_t(b) * steps * kSeasonalFeatures);
    const torch::Tensor tseason = torch::from_blob(season.data(), {batch, steps, kSeasonalFeatures}, torch::kFloat32).clone();
    const int nz = model.config.latent;
    torch::NoGradGuard no_grad;
    const double libtorch = batch * trace_years * rate(o.seconds, [&] {
                              const torch::Tensor p = torch_model.prior(tseason);
                              const torch::Tensor z = p.narrow(2, 0, nz) +
                                                      torch::exp(0.5 * p.narrow(2, nz, nz)) * torch::randn({batch, steps, nz});
                              const torch::Tensor x = torch_model.decode(z) * 6.0 + 285.0;
                            });
    std::printf("(a) Kokkos generate_traces    %9.1f trace-years/s per core\n", kokkos);
    std::printf("(b) LibTorch prior+decode     %9.1f trace-years/s per core   Kokkos/LibTorch = %.2f\n", libtorch,
                kokkos / libtorch);
    std::printf("(a) with a calibration        %9.1f trace-years/s per core   (the default generation; the\n"
                "    calibration's noise and quantile map take %.0f %% of its time)\n",
                kokkos_calibrated, 100 * (1 - kokkos_calibrated / kokkos));
  }

  // (c) End to end over all ranks: every cell, every member, written as a grid file.
  EnsembleJob job;
  for (int c = 0; c < o.cells; ++c) job.cells.push_back(c);
  job.start_hour = hours_from_civil({2030, 1, 1, 0});
  job.hours = hours;
  job.members = o.members;
  job.seed = 1;
  job.overwrite = true;
  long pid = static_cast<long>(::getpid());
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  job.output = o.output + "/bench_generate_" + std::to_string(pid) + ".nc";
  job.model_path = "(bench)";
  MPI_Barrier(MPI_COMM_WORLD);  // rank 0 ran (a) and (b) alone: start (c) together
  const EnsembleTiming t = run_ensemble(vae, model, job);
  if (rank == 0) {
    const double total_years = double(o.cells) * o.members * trace_years;
    const double gigabytes = double(o.cells) * o.members * hours * sizeof(float) / 1e9;
    std::printf("(c) end to end, %d cells x %d members x %d years = %.0f trace-years (%.2f GB) in %.2f s on %d rank(s):\n",
                o.cells, o.members, o.years, total_years, gigabytes, t.total_seconds, ranks);
    std::printf("    %9.1f trace-years/s, %9.1f per core; generation %.2f s, writing %.2f s = %.1f %% of the time "
                "(target <= 33 %%), %.0f MB/s; time chunks of %lld hours\n",
                total_years / t.total_seconds, total_years / t.total_seconds / ranks, t.generate_seconds,
                t.write_seconds, 100 * t.write_seconds / t.total_seconds, gigabytes * 1e3 / t.write_seconds,
                static_cast<long long>(t.chunk_hours));
    std::remove(job.output.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    int kokkos_argc = 1;
    Kokkos::ScopeGuard kokkos(kokkos_argc, argv);
    try {
      status = run(parse(argc, argv));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_generate: error: %s\n", e.what());
      status = 1;
    }
  }
  if (status != 0) MPI_Abort(MPI_COMM_WORLD, status);
  MPI_Finalize();
  return status;
}
