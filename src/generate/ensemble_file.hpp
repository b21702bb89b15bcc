// Generated traces as CF-convention NetCDF (CDF-5, PnetCDF): tas(time, realization, lat, lon) in K.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace climvae {

struct EnsembleMeta {
  double latitude = 0;
  double longitude = 0;
  int64_t start_hour = 0;      // first time step, hours since 1970-01-01T00:00 UTC
  int64_t num_hours = 0;
  int members = 0;
  uint64_t seed = 0;
  int reference_year = 0;      // climate the model was trained to represent
  int target_year = 0;         // climate of the output (== reference_year when no trend re-applied)
  std::string model_path;
  std::string scenario;        // human-readable description, e.g. "reference climate 2022"
  std::string history;         // command line
};

struct Ensemble {
  EnsembleMeta meta;
  std::vector<float> tas_k;    // (time, realization): tas_k[t * members + m]
};

// Writes the whole ensemble atomically (PATH.tmp-<pid> then rename). Refuses an existing path
// unless overwrite. Throws climvae::Error naming the path and the problem.
void write_ensemble(const std::string& path, const Ensemble& ensemble, bool overwrite,
                    MPI_Comm comm = MPI_COMM_WORLD);
// Reads a file written by write_ensemble (or any CF file with tas(time, realization, lat, lon)
// of one cell). Throws climvae::Error naming the file and what is wrong.
Ensemble read_ensemble(const std::string& path, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
