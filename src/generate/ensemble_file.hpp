// Generated traces as CF-convention NetCDF (CDF-5, PnetCDF), in K, in one of two layouts:
//   grid:  tas(time, realization, lat, lon), all members of a regular lat/lon grid of cells
//          (one cell is a 1 x 1 grid); CDO reads the members as levels;
//   cells: tas(time, cell) with lat(cell), lon(cell), one member per file (as CMIP does), for
//          scattered cells (CDO rejects a member dimension before time and (time, member, cell)).
#pragma once
#include <mpi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace climvae {

enum class EnsembleLayout { grid, cells };

struct EnsembleMeta {
  EnsembleLayout layout = EnsembleLayout::grid;
  double latitude = 0;         // the one cell, when lats and lons are empty (grid layout only)
  double longitude = 0;
  std::vector<double> lats;    // grid: the lat axis; cells: each cell's latitude
  std::vector<double> lons;    // grid: the lon axis; cells: each cell's longitude (same length as lats)
  std::vector<int> cell_ids;   // cells: each cell's index in the model (empty: 0, 1, ...)
  int member_number = 1;       // cells: the 1-based member the file holds (members must be 1)
  int64_t start_hour = 0;      // first time step, hours since 1970-01-01T00:00 UTC
  int64_t num_hours = 0;
  int members = 0;
  uint64_t seed = 0;
  int reference_year = 0;      // climate the model was trained to represent
  int target_year = 0;         // climate of the output (== reference_year when no trend re-applied)
  std::string model_path;
  std::string scenario;        // human-readable description, e.g. "reference climate 2022"
  std::string history;         // command line
  std::map<std::string, std::string> attributes;  // further global attributes (scenario options)

  int64_t num_lats() const { return lats.empty() ? 1 : static_cast<int64_t>(lats.size()); }
  int64_t num_lons() const { return layout == EnsembleLayout::cells || lons.empty() ? 1 : static_cast<int64_t>(lons.size()); }
};

struct Ensemble {
  EnsembleMeta meta;
  std::vector<float> tas_k;    // (time, realization): tas_k[t * members + m]
};

// Writes one ensemble file in pieces, so that ranks can each write their own time chunks and
// member slices. Every member function is collective over comm; when any rank fails, every rank
// throws the same climvae::Error (naming the path) instead of leaving the others waiting.
//   EnsembleWriter writer(path, meta, overwrite, comm);   // creates PATH.tmp-<host>-<pid>, defines CF layout
//   writer.write_block(t0, nt, m0, nm, data);             // any number of times, on every rank
//   writer.commit();                                      // closes and moves PATH.tmp-<host>-<pid> -> PATH
// Without overwrite, commit() refuses a PATH that exists by then (commit_file in file_io.hpp).
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
  // Grid layout only, cell (lat 0, lon 0); post() and flush() write anywhere.
  void write_block(int64_t t0, int64_t nt, int m0, int nm, const float* tas_k);

  // Queues a block (local, non-blocking): times [t0, t0 + nt), members [m0, m0 + nm), grid rows
  // [y, y + ny) and columns [x, x + nx) -- or, in the cells layout, cells [y, y + ny) with m0 = 0,
  // nm = 1, nx = 1 -- values laid out (time, member, y, x). The writer keeps `tas_k` until flush().
  void post(int64_t t0, int64_t nt, int m0, int nm, int64_t y, int64_t x, std::vector<float> tas_k, int64_t ny = 1,
            int64_t nx = 1);
  // Writes every queued block of every rank (collective; one MPI-IO operation per call).
  void flush();
  // Closes the file and moves it into place; after this the writer is done.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_path_; }

 private:
  void discard() noexcept;

  std::string path_;
  std::string temporary_path_;
  bool overwrite_ = false;
  EnsembleMeta meta_;
  MPI_Comm comm_;
  int ncid_ = -1;
  int tas_varid_ = -1;
  bool finished_ = false;
  std::vector<std::vector<float>> pending_;  // buffers of posted blocks, until flush()
  std::string post_error_;                   // first bad post() on this rank, reported by flush()
  long long expected_size_ = 0;              // bytes the complete file has (end of tas)
};

// Writes the whole ensemble atomically (PATH.tmp-<host>-<pid> then commit_file). Refuses an existing path
// unless overwrite. Throws climvae::Error naming the path and the problem.
void write_ensemble(const std::string& path, const Ensemble& ensemble, bool overwrite,
                    MPI_Comm comm = MPI_COMM_WORLD);
// Reads a file written by write_ensemble (or any CF file with tas(time, realization, lat, lon)
// of one cell). Throws climvae::Error naming the file and what is wrong.
Ensemble read_ensemble(const std::string& path, MPI_Comm comm = MPI_COMM_WORLD);

// Every cell and member of one file in either layout: a grid file of any size (cells row by
// row: lat index, then lon index) or a cells file (one member). Everything is read into memory.
struct EnsembleCells {
  EnsembleMeta meta;                // as read_ensemble; members = the members this file holds
  std::vector<double> cell_lats;    // per cell
  std::vector<double> cell_lons;
  std::vector<int> member_numbers;  // 1-based realization of each member in the file
  std::vector<float> tas_k;         // (time, member, cell): tas_k[(t * members + m) * cells + c], NaN where missing
  size_t cells() const { return cell_lats.size(); }
};
EnsembleCells read_ensemble_cells(const std::string& path, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
