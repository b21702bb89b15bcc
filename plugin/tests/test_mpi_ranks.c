/* An MPI host: every rank opens the model with climvae_open_shared and asks for its own cell on
 * its own; the traces equal those of a plain climvae_open (no collective call inside a request).
 * A rank that cannot open the model makes every rank's open fail instead of leaving one behind,
 * and a rank that passes no communicator makes the others fail after CLIMVAE_MPI_TIMEOUT.
 * Usage: mpiexec -n 2 test_mpi_ranks MODEL */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "climvae.h"

enum { kHours = 24 * 30, kMembers = 3 };

static void generate(climvae_model* h, int cell, float* out) {
  climvae_request r;
  climvae_request_defaults(&r);
  r.cell = cell;
  r.hours = kHours;
  r.members = kMembers;
  r.seed = 11;
  CHECK(climvae_parse_time("2030-06-01T00:00", &r.start_hour) == CLIMVAE_OK);
  const climvae_status s = climvae_generate(h, &r, out, kHours * kMembers);
  if (s != CLIMVAE_OK) fprintf(stderr, "generate: %s: %s\n", climvae_status_name(s), climvae_last_error(h));
  CHECK(s == CLIMVAE_OK);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (argc != 2) MPI_Abort(MPI_COMM_WORLD, 2);
  const int32_t world = (int32_t)MPI_Comm_c2f(MPI_COMM_WORLD);

  climvae_model* shared = NULL;
  climvae_status s = climvae_open_shared(argv[1], CLIMVAE_ABI_VERSION, world, &shared);
  if (s != CLIMVAE_OK) fprintf(stderr, "rank %d: open_shared: %s\n", rank, climvae_last_error(NULL));
  CHECK(s == CLIMVAE_OK && shared != NULL);
  climvae_model_info info;
  CHECK(climvae_model_info_get(shared, &info) == CLIMVAE_OK);
  const int cell = rank % info.cells;

  /* Rank 0 asks twice while the other rank asks once: requests are not collective. */
  static float mine[kHours * kMembers], again[kHours * kMembers], alone[kHours * kMembers];
  generate(shared, cell, mine);
  if (rank == 0) generate(shared, cell, again);
  climvae_model* single = NULL;
  CHECK(climvae_open(argv[1], CLIMVAE_ABI_VERSION, &single) == CLIMVAE_OK);
  generate(single, cell, alone);
  int differ = 0;
  for (int i = 0; i < kHours * kMembers; ++i) differ += mine[i] != alone[i] || !isfinite(mine[i]);
  CHECK(differ == 0);
  if (rank == 0)
    for (int i = 0; i < kHours * kMembers; ++i) CHECK(again[i] == mine[i]);
  CHECK(climvae_close(single) == CLIMVAE_OK);
  CHECK(climvae_close(shared) == CLIMVAE_OK);

  /* The last rank gives a path that does not exist: it reports the file, the others MPI. */
  climvae_model* h = (climvae_model*)0x1;
  const int bad = rank == ranks - 1;
  s = climvae_open_shared(bad ? "/nonexistent/rank.model" : argv[1], CLIMVAE_ABI_VERSION, world, &h);
  CHECK(h == NULL);
  CHECK(s == (bad ? CLIMVAE_ERR_MODEL_FILE : (ranks > 1 ? CLIMVAE_ERR_MPI : CLIMVAE_ERR_MODEL_FILE)));
  printf("rank %d of %d: cell %d, %d values equal to a plain open; failed shared open: %s (%s)\n", rank, ranks, cell,
         kHours * kMembers - differ, climvae_status_name(s), climvae_last_error(NULL));

  /* A handle that is no communicator fails on each rank alone, not MPI_ERRORS_ARE_FATAL's abort. */
  expect("no communicator", climvae_open_shared(argv[1], CLIMVAE_ABI_VERSION, 12345, &h), CLIMVAE_ERR_MPI, NULL,
         "comm 12345 is not a communicator");
  expect("MPI_COMM_NULL", climvae_open_shared(argv[1], CLIMVAE_ABI_VERSION, (int32_t)MPI_Comm_c2f(MPI_COMM_NULL), &h),
         CLIMVAE_ERR_MPI, NULL, "is not a communicator");
  CHECK(h == NULL);

  /* One rank passes a handle that is no communicator while the others pass a real one: they wait
   * CLIMVAE_MPI_TIMEOUT seconds, not for ever, and fail with CLIMVAE_ERR_MPI. Then the late rank
   * joins the reduction they abandoned (on a communicator of their own), so that MPI finalizes. */
  if (ranks > 1) {
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    setenv("CLIMVAE_MPI_TIMEOUT", "2", 1);
    const int late = rank == ranks - 1;
    const double started = MPI_Wtime();
    s = climvae_open_shared(argv[1], CLIMVAE_ABI_VERSION, late ? 12345 : (int32_t)MPI_Comm_c2f(dup), &h);
    const double waited = MPI_Wtime() - started;
    if (late) {
      expect("late rank: no communicator", s, CLIMVAE_ERR_MPI, NULL, "comm 12345 is not a communicator");
    } else {
      expect("others: bounded wait", s, CLIMVAE_ERR_MPI, NULL, "reached climvae_open_shared within 2 s");
      CHECK(waited >= 2 && waited < 60);
    }
    CHECK(h == NULL);
    MPI_Barrier(MPI_COMM_WORLD);
    if (late) {  /* as the library does: Open MPI matches a non-blocking collective only with another */
      int one = 1, all = 0;
      MPI_Request joined;
      MPI_Iallreduce(&one, &all, 1, MPI_INT, MPI_MIN, dup, &joined);
      MPI_Wait(&joined, MPI_STATUS_IGNORE);
    }
    setenv("CLIMVAE_MPI_TIMEOUT", "soon", 1);
    expect("a timeout that is no number", climvae_open_shared(argv[1], CLIMVAE_ABI_VERSION, world, &h),
           CLIMVAE_ERR_BAD_ARGUMENT, NULL, "CLIMVAE_MPI_TIMEOUT must be a positive number of seconds, got 'soon'");
  }

  int failures = check_failures, total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
