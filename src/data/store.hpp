// The cell store: what `climvae prepare` writes and `climvae train`/`evaluate` read.
// A CDF-5 NetCDF file (PnetCDF) holding, per grid cell, the hourly 2 m temperature series on a
// shared UTC time axis plus the preprocessing constants that make it stationary and standard.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace climvae {

struct CellSeries {
  double latitude = 0;        // degrees north
  double longitude = 0;       // degrees east, -180..180
  int utc_offset_hours = 0;   // local solar time = UTC + offset (round(lon/15) unless given)
  double trend_k_per_year = 0;  // linear warming removed relative to the reference year
  double offset_k = 0;        // standardisation: z = (detrended - offset) / scale
  double scale_k = 1;
  int land = -1;              // land-sea flag: 1 land, 0 sea, -1 unknown (stores before it: -1)
  std::vector<float> tas_k;   // hourly 2 m temperature in kelvin, UTC, NaN where missing
};

struct Store {
  int64_t start_hour = 0;     // first sample, hours since 1970-01-01T00:00 UTC
  int64_t num_hours = 0;      // length of every cell's series
  int reference_year = 0;     // the climate the detrended series represents
  std::string source;         // input file(s) the store was made from
  std::string history;        // command that made it
  std::vector<CellSeries> cells;  // cells first_cell .. first_cell + cells.size() - 1 of the store
  int first_cell = 0;             // global index of cells[0] (non-zero when read as a rank's share)
  int total_cells = 0;            // number of cells in the whole store

  // tas of cell c at index i with the trend removed to the reference year (kelvin).
  double detrended_k(int c, int64_t i) const;
  // tas of cell c at index i with the trend moved to `year` instead (kelvin).
  double at_year_k(int c, int64_t i, int year) const;
};

// Atomic write: to PATH.tmp-<host>-<pid>, then commit_file() (an existing PATH is replaced only with
// `replace`, even one that appears while the store is written). Rank 0 writes its `store` (the other ranks'
// argument is not used); collective over comm, and an error on rank 0 is thrown on every rank.
// Layout: CDF-5, dimensions (cell, time); tas(cell, time) float K with _FillValue NaN; time(time)
// int64 hours since 1970; lat, lon, utc_offset_hours, trend, offset, scale, land (cell); global
// reference_year, source, history, climvae_store_version = 1 (`land` is optional when reading).
void write_store(const Store& store, const std::string& path, bool replace, MPI_Comm comm = MPI_COMM_WORLD);
// The same file written in parallel: every rank passes its share (cells first_cell ..
// first_cell + cells.size() - 1 of total_cells, shares contiguous and covering every cell);
// the time axis, reference year, source and history are rank 0's. Collective; each rank's
// series go out in one collective call. An error on any rank is thrown on every rank and
// leaves no file at `path`.
void write_store_share(const Store& share, const std::string& path, bool replace, MPI_Comm comm = MPI_COMM_WORLD);
// Contiguous block of cells owned by one rank: cells are split evenly, the first
// (total % ranks) ranks taking one more.
struct CellRange {
  int first = 0, count = 0;
};
CellRange cell_share(int total_cells, int rank, int ranks);

enum class StoreCells { all, my_share };

// Reads every cell on every rank (StoreCells::all) or, collectively, each rank's cell_share. Throws climvae::Error (on every rank) naming the file and the
// missing/bad variable, or saying the file is not NetCDF, is netCDF-4 or is truncated.
Store read_store(const std::string& path, MPI_Comm comm = MPI_COMM_WORLD, StoreCells which = StoreCells::all);

// The constants of every cell of the store (tas_k left empty), in store order, on every rank,
// from each rank's share. Collective.
std::vector<CellSeries> all_cell_constants(const Store& share, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace climvae
