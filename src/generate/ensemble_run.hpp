// Ensembles at scale: members x cells of a model spread over MPI ranks, generated and written
// in time chunks (memory bounded by a budget, not by the length of the traces), as one grid
// file tas(time, realization, lat, lon) when the cells form a regular lat/lon grid, or one file
// per member tas(time, cell) (CMIP-like names) for scattered cells. Values depend only on the
// request: bit-identical whatever the number of ranks, the chunk length or the order of work.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "generate/scenario.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

enum class OutputLayout { automatic, grid, member_files };

struct EnsembleJob {
  std::vector<int> cells;         // cells of the model, any order (the files list them sorted)
  int64_t start_hour = 0;         // UTC, hours since 1970-01-01T00:00
  int64_t hours = 0;
  int members = 1;
  uint64_t seed = 0;
  Scenario scenario;
  bool add_noise = false;
  bool spatial = true;  // cells share their weather through the model's spatial factors
  OutputLayout layout = OutputLayout::automatic;
  std::string output;             // grid: the file; member files: NAME.nc gives NAME_r<m>i1p1f1_<from>-<to>.nc
  bool overwrite = false;
  std::string model_path, history;                // recorded in the files
  std::map<std::string, std::string> attributes;  // further global attributes (scenario options)
  size_t memory_budget_bytes = size_t(512) << 20;  // values in flight per rank and time chunk
  int64_t chunk_hours = 0;        // 0: as long as the budget allows (at least 128 days)
  // Asked between time chunks (the ranks agree): a non-empty answer, such as "SIGTERM", stops the
  // run with an error naming it, removing what the run wrote (the command's SIGTERM and SIGINT).
  std::function<std::string()> stop_requested;
};

struct EnsembleTiming {
  std::vector<std::string> files;  // written, in member order
  OutputLayout layout = OutputLayout::grid;
  int64_t chunk_hours = 0;
  double generate_seconds = 0;     // the slowest rank's time in generation
  double write_seconds = 0;        // the slowest rank's time in creating, writing and closing files
  double total_seconds = 0;
};

// Generates and writes the ensemble; collective over comm. Throws climvae::Error on every rank
// (naming the option, cell or file) for a bad request, an existing output without overwrite or a
// failed write, leaving no file that looks complete.
EnsembleTiming run_ensemble(Vae& vae, const ModelFile& model, const EnsembleJob& job, MPI_Comm comm = MPI_COMM_WORLD);

// The grid the cells form: sorted distinct latitudes and longitudes, and each cell's (y, x);
// `regular` when every lat x lon pair is exactly one of the cells.
struct CellGrid {
  bool regular = false;
  std::vector<double> lats, lons;
  std::vector<int64_t> y, x;  // per cell of the list given
};
CellGrid grid_of(const ModelFile& model, const std::vector<int>& cells);

// NAME_r<member>i1p1f1_<YYYYMMDDHH>-<YYYYMMDDHH>.nc for output NAME.nc (member 1-based).
std::string member_file_name(const std::string& output, int member, int64_t start_hour, int64_t hours);

}  // namespace climvae
