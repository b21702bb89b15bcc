// Weak scaling of data-parallel training: every rank holds the same number of cells and
// computes 32 windows per step on average (global batch 32 x ranks). Prints windows/s per rank
// and the share of the run spent in the gradient allreduce (which includes waiting for the
// slowest rank of each step). Run at 1 and 2 ranks: bench/run_scaling.sh
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/calendar.hpp"
#include "engine/random.hpp"
#include "train/trainer.hpp"

using namespace climvae;

namespace {

// `cells` synthetic cells (seasonal and diurnal cycles plus noise) starting at global index first.
Store synthetic_share(int first, int cells, int days) {
  Store s;
  s.start_hour = parse_iso_hour("2015-01-01");
  s.num_hours = 24LL * days;
  s.reference_year = 2016;
  s.first_cell = first;
  for (int k = first; k < first + cells; ++k) {
    CellSeries c;
    c.latitude = 50 - k;
    c.offset_k = 285;
    c.scale_k = 7;
    for (int64_t i = 0; i < s.num_hours; ++i)
      c.tas_k.push_back(static_cast<float>(285 - 8 * std::cos(2 * M_PI * i / 8760.0) -
                                           4 * std::cos(2 * M_PI * (i % 24 - 3) / 24.0) + standard_normal(k, i)));
    s.cells.push_back(c);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    const int cells_per_rank = argc > 1 ? std::atoi(argv[1]) : 2;
    const int epochs = argc > 2 ? std::atoi(argv[2]) : 3;
    const bool balance = argc > 3 && std::string(argv[3]) == "balanced";
    const Store share = synthetic_share(rank * cells_per_rank, cells_per_rank, 3 * 365);
    TrainConfig tc;
    tc.epochs = epochs;
    tc.batch_size = 32 * ranks;  // weak scaling: 32 windows per rank and step on average
    tc.balance_ranks = balance;  // ... or exactly 32 (TrainConfig::balance_ranks)
    Vae vae;
    vae.initialize(1);
    train(vae, share, tc, nullptr, MPI_COMM_WORLD);  // warm-up: first allocations
    const TrainResult r = train(vae, share, tc, nullptr, MPI_COMM_WORLD);
    double allreduce_max = r.seconds_allreduce;
    MPI_Allreduce(MPI_IN_PLACE, &allreduce_max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) {
      const double windows = static_cast<double>(r.train_windows) * r.epochs_run;
      std::printf("ranks %d  cells/rank %d  global batch %d%s  steps %lld  train windows/epoch %d\n", ranks,
                  cells_per_rank, tc.batch_size, balance ? " (balanced over ranks)" : "",
                  static_cast<long long>(r.steps_this_run), r.train_windows);
      std::printf("time %.2f s (incl. validation)  windows/s per rank %.0f  step time %.1f ms  allreduce share %.1f %% "
                  "(%.2f ms per step, incl. waiting)\n",
                  r.seconds_this_run, windows / r.seconds_this_run / ranks, 1e3 * r.seconds_this_run / r.steps_this_run,
                  100 * allreduce_max / r.seconds_this_run, 1e3 * allreduce_max / r.steps_this_run);
    }
  }
  MPI_Finalize();
  return 0;
}
