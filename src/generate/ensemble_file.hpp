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

// Writes one ensemble file in pieces, so that ranks can each write their own time chunks and
// member slices. Every member function is collective over comm; when any rank fails, every rank
// throws the same climvae::Error (naming the path) instead of leaving the others waiting.
//   EnsembleWriter writer(path, meta, overwrite, comm);   // creates PATH.tmp-<pid>, defines CF layout
//   writer.write_block(t0, nt, m0, nm, data);             // any number of times, on every rank
//   writer.commit();                                      // closes and renames PATH.tmp-<pid> -> PATH
// A writer destroyed without commit() closes and removes its temporary file.
class EnsembleWriter {
 public:
  EnsembleWriter(const std::string& path, const EnsembleMeta& meta, bool overwrite,
                 MPI_Comm comm = MPI_COMM_WORLD);
  ~EnsembleWriter();
  EnsembleWriter(const EnsembleWriter&) = delete;
  EnsembleWriter& operator=(const EnsembleWriter&) = delete;

  // Writes tas for times [t0, t0 + nt) and members [m0, m0 + nm) from tas_k[(t - t0) * nm + (m - m0)]
  // (kelvin; NaN is stored as _FillValue). A rank with nothing to write passes nt = 0 or nm = 0.
  void write_block(int64_t t0, int64_t nt, int m0, int nm, const float* tas_k);
  // Closes the file and moves it into place; after this the writer is done.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void discard() noexcept;

  std::string path_;
  std::string temporary_path_;
  EnsembleMeta meta_;
  MPI_Comm comm_;
  int ncid_ = -1;
  int tas_varid_ = -1;
  bool finished_ = false;
};

// Writes the whole ensemble atomically (PATH.tmp-<pid> then rename). Refuses an existing path
// unless overwrite. Throws climvae::Error naming the path and the problem.
void write_ensemble(const std::string& path, const Ensemble& ensemble, bool overwrite,
                    MPI_Comm comm = MPI_COMM_WORLD);
// Reads a file written by write_ensemble (or any CF file with tas(time, realization, lat, lon)
// of one cell). Throws climvae::Error naming the file and what is wrong.
Ensemble read_ensemble(const std::string& path, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
