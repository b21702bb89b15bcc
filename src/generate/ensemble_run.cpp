// Work: the (cell, member) pairs of a group of members, cell-major, split evenly over the ranks
// (data/store's cell_share), each rank's share cut into runs of one cell and consecutive
// members (one generate_trace_chunk call: members of a cell share their decode batch). Every
// time chunk: each rank generates its runs' hours and queues them (EnsembleWriter::post), then
// all ranks write together (flush: one collective MPI-IO operation per file and chunk).
#include "generate/ensemble_run.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sys/stat.h>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/store.hpp"
#include "generate/ensemble_file.hpp"
#include "generate/generator.hpp"
#include "generate/scenario.hpp"

namespace climvae {

namespace {

constexpr int kFilesAtOnce = 16;                 // member files open together (one member group)
constexpr int64_t kMinChunkHours = 128 * 24;     // keeps the decode margin under ~10 % of the work

struct Run {
  int position;  // in the sorted cell list
  int m0, nm;    // members [m0, m0 + nm)
};

std::vector<Run> runs_of_rank(int cells, int g0, int group_members, int rank, int ranks) {
  const CellRange share = cell_share(cells * group_members, rank, ranks);
  std::vector<Run> runs;
  for (int u = share.first; u < share.first + share.count;) {
    const int position = u / group_members;
    const int end = std::min(share.first + share.count, (position + 1) * group_members);
    runs.push_back({position, g0 + u % group_members, end - u});
    u = end;
  }
  return runs;
}

// The runs cut at every multiple of `members_at_once` (a member index) and ordered by those slices,
// then by cell: the cells of a few members one after another, so that the shared weather's normals
// of a member, the same for every cell, are drawn once (generator.hpp). The work is the same.
std::vector<Run> member_major(const std::vector<Run>& runs, int members_at_once) {
  if (members_at_once == INT_MAX) return runs;
  std::vector<Run> pieces;
  for (const Run& run : runs)
    for (int m = run.m0; m < run.m0 + run.nm;) {
      const int end = std::min(run.m0 + run.nm, (m / members_at_once + 1) * members_at_once);
      pieces.push_back({run.position, m, end - m});
      m = end;
    }
  std::stable_sort(pieces.begin(), pieces.end(),
                   [&](const Run& a, const Run& b) { return a.m0 / members_at_once < b.m0 / members_at_once; });
  return pieces;
}

bool path_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double max_over_ranks(double value, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}

std::string compact_hour(int64_t hour) {
  const CivilDate d = civil_from_hours(hour);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02d%02d%02d", d.year, d.month, d.day, d.hour);
  return text;
}

// Every rank checks the same request, so all agree. Returns the cells sorted, as the files list them.
std::vector<int> checked_cells(const ModelFile& model, const EnsembleJob& job, MPI_Comm comm) {
  validate_scenario(job.scenario);
  std::vector<int> cells = job.cells;
  std::sort(cells.begin(), cells.end());
  run_on_all_ranks(comm, [&] {
    require(!cells.empty(), "no cells to generate");
    const auto twice = std::adjacent_find(cells.begin(), cells.end());  // named: '1,2,1' is a typo to find
    require(twice == cells.end(), "--cells: cell " + (twice == cells.end() ? std::string() : std::to_string(*twice)) +
                                      " is listed twice");
    require(job.members >= 1 && job.members <= 1000000, "--members must be between 1 and 1000000");
    require(int64_t(cells.size()) * job.members < INT_MAX, "too many cells x members in one run");
    require(!job.output.empty(), "no output file given");
    for (int c : cells) {
      TraceRequest r;
      r.cell = c;
      r.start_hour = job.start_hour;
      r.hours = job.hours;
      r.members = job.members;
      r.scenario = job.scenario;
      validate_request(model, r);
    }
  });
  return cells;
}

// The output files, in member order (one grid file, or one file per member), none of them in
// the way (unless overwrite).
std::vector<std::string> output_files(const EnsembleJob& job, bool as_grid, MPI_Comm comm) {
  std::vector<std::string> files;
  if (as_grid) {
    files.push_back(job.output);
  } else {
    for (int m = 1; m <= job.members; ++m) files.push_back(member_file_name(job.output, m, job.start_hour, job.hours));
  }
  run_on_root(comm, [&] {  // before any member is generated
    for (const auto& f : files) {
      require_output_location(f, "output");
      require(job.overwrite || !path_exists(f), "output '" + f + "' exists already (choose another path or allow --overwrite)");
    }
  });
  return files;
}

EnsembleMeta meta_of(const ModelFile& model, const EnsembleJob& job, const std::vector<int>& cells, const CellGrid& grid,
                     bool as_grid) {
  EnsembleMeta meta;
  meta.start_hour = job.start_hour;
  meta.num_hours = job.hours;
  meta.seed = job.seed;
  meta.reference_year = model.reference_year;
  // A transient run is labelled with the year of its middle.
  meta.target_year = job.scenario.transient ? civil_from_hours(job.start_hour + job.hours / 2).year
                     : job.scenario.slice_year == 0 ? model.reference_year : job.scenario.slice_year;
  meta.model_path = job.model_path;
  meta.scenario = job.scenario.describe(model.reference_year);
  meta.history = job.history;
  meta.attributes = job.attributes;
  meta.members = as_grid ? job.members : 1;
  if (as_grid) {
    meta.lats = grid.lats;
    meta.lons = grid.lons;
  } else {
    meta.layout = EnsembleLayout::cells;
    for (int c : cells) {
      meta.lats.push_back(model.cells[c].latitude);
      meta.lons.push_back(model.cells[c].longitude);
    }
    meta.cell_ids = cells;
  }
  return meta;
}

// What every member group of one run shares.
struct EnsembleRun {
  Vae& vae;
  const ModelFile& model;
  const EnsembleJob& job;
  const std::vector<int>& cells;  // sorted
  const CellGrid& grid;
  bool as_grid;
  int64_t ny, nx;                 // a file's (y, x): the grid, or (position in `cells`, 0)
  int64_t chunk;                  // hours per time chunk
  MPI_Comm comm;
  int rank, ranks;
  double generate_seconds = 0, write_seconds = 0;

  // Where cell `position` (in `cells`) and member m sit in the files: the file, m's index in it, (y, x).
  int file_index(int m, int g0) const { return as_grid ? 0 : m - g0; }
  int index_in_file(int m) const { return as_grid ? m : 0; }
  int64_t y_of(int position) const { return as_grid ? grid.y[position] : position; }
  int64_t x_of(int position) const { return as_grid ? grid.x[position] : 0; }
};

// The open files of members [g0, g0 + gm) (one grid file, or one file per member) and this
// rank's work in them.
struct MemberGroup {
  int g0 = 0;
  std::vector<std::unique_ptr<EnsembleWriter>> writers;
  // With at least one member per rank, each rank takes whole members of every cell: its part
  // of a file is then one block per chunk, contiguous at every time step (fast to write).
  bool by_members = false;
  std::vector<Run> runs;
  int my_m0 = 0, my_nm = 0;  // by_members: this rank's members
  EnsembleWriter& file_of(const EnsembleRun& e, int m) { return *writers[e.file_index(m, g0)]; }
};

MemberGroup open_group(const EnsembleRun& e, EnsembleMeta meta, const std::vector<std::string>& files, size_t first_file,
                       int g0, int gm) {
  MemberGroup g;
  g.g0 = g0;
  for (int f = 0; f < (e.as_grid ? 1 : gm); ++f) {
    meta.member_number = g0 + f + 1;
    g.writers.push_back(std::make_unique<EnsembleWriter>(files[first_file + f], meta, e.job.overwrite, e.comm));
  }
  const int ncells = static_cast<int>(e.cells.size());
  g.by_members = gm >= e.ranks;
  if (g.by_members) {
    const CellRange mine = cell_share(gm, e.rank, e.ranks);
    for (int p = 0; p < ncells && mine.count > 0; ++p) g.runs.push_back({p, g0 + mine.first, mine.count});
  } else {
    g.runs = runs_of_rank(ncells, g0, gm, e.rank, e.ranks);
  }
  g.my_m0 = g.runs.empty() ? g0 : g.runs.front().m0;
  g.my_nm = g.runs.empty() ? 0 : g.runs.front().nm;
  return g;
}

// Hours [t0, t0 + nt) of a run's members, (time, member).
std::vector<float> generate_run(const EnsembleRun& e, const Run& run, int64_t t0, int64_t nt) {
  TraceRequest r;
  r.cell = e.cells[run.position];
  r.start_hour = e.job.start_hour;
  r.hours = e.job.hours;
  r.members = run.nm;
  r.first_member = run.m0;
  r.seed = e.job.seed;
  r.scenario = e.job.scenario;
  r.add_noise = e.job.add_noise;
  r.spatial = e.job.spatial;
  std::vector<float> values = generate_trace_chunk(e.vae, e.model, r, t0, nt);
  check_generated_values(values.data(), values.size(), "cell " + std::to_string(r.cell));
  return values;
}

// by_members: the rank's runs gathered into one block per file, (time, member, y, x), posted once.
void post_member_blocks(const EnsembleRun& e, MemberGroup& g, int64_t t0, int64_t nt) {
  if (g.my_nm == 0) return;
  const int per_block = e.as_grid ? g.my_nm : 1;  // members in one block (one file)
  const int64_t plane = e.ny * e.nx;
  std::vector<std::vector<float>> blocks(g.my_nm / per_block, std::vector<float>(size_t(nt) * per_block * plane));
  for (const Run& run : member_major(g.runs, shared_weather_members_at_once(e.model, e.job.spatial, nt))) {
    const std::vector<float> values = generate_run(e, run, t0, nt);
    const int64_t cell_at = e.y_of(run.position) * e.nx + e.x_of(run.position);
    for (int64_t h = 0; h < nt; ++h)
      for (int b = 0; b < run.nm; ++b) {
        const int i = run.m0 - g.my_m0 + b;  // the member's place among the rank's
        blocks[i / per_block][(h * per_block + i % per_block) * plane + cell_at] = values[h * run.nm + b];
      }
  }
  for (size_t k = 0; k < blocks.size(); ++k) {
    const int m = g.my_m0 + static_cast<int>(k) * per_block;
    g.file_of(e, m).post(t0, nt, e.index_in_file(m), per_block, 0, 0, std::move(blocks[k]), e.ny, e.nx);
  }
}

// Otherwise: each run posted as it comes, the members that share a file at once.
void post_runs(const EnsembleRun& e, MemberGroup& g, int64_t t0, int64_t nt) {
  for (const Run& run : member_major(g.runs, shared_weather_members_at_once(e.model, e.job.spatial, nt))) {
    std::vector<float> values = generate_run(e, run, t0, nt);
    const int64_t y = e.y_of(run.position), x = e.x_of(run.position);
    if (e.as_grid || run.nm == 1) {
      g.file_of(e, run.m0).post(t0, nt, e.index_in_file(run.m0), run.nm, y, x, std::move(values));
      continue;
    }
    for (int b = 0; b < run.nm; ++b) {  // member b's column of the (time, member) block
      std::vector<float> column(static_cast<size_t>(nt));
      for (int64_t h = 0; h < nt; ++h) column[h] = values[h * run.nm + b];
      g.file_of(e, run.m0 + b).post(t0, nt, e.index_in_file(run.m0 + b), 1, y, x, std::move(column));
    }
  }
}

// Why the run stops now, or "" to go on.
std::string stop_message(const EnsembleJob& job) {
  const std::string signal = job.stop_requested ? job.stop_requested() : "";
  return signal.empty() ? "" : "stopped by " + signal + " before the ensemble was complete; the files it had written "
                               "were removed (an ensemble is written whole or not at all)";
}

// Members [g0, g0 + gm): their files created, written chunk by chunk, and committed.
void write_group(EnsembleRun& e, const EnsembleMeta& meta, const std::vector<std::string>& files, size_t& committed,
                 int g0, int gm) {
  auto t = std::chrono::steady_clock::now();
  MemberGroup g = open_group(e, meta, files, committed, g0, gm);
  e.write_seconds += seconds_since(t);
  for (int64_t t0 = 0; t0 < e.job.hours; t0 += e.chunk) {
    throw_if_any_rank_failed(e.comm, stop_message(e.job));  // between chunks: no write in flight
    const int64_t nt = std::min(e.chunk, e.job.hours - t0);
    t = std::chrono::steady_clock::now();
    const std::string failed = error_message_of([&] {
      if (g.by_members) post_member_blocks(e, g, t0, nt);
      else post_runs(e, g, t0, nt);
    });
    e.generate_seconds += seconds_since(t);
    throw_if_any_rank_failed(e.comm, failed);
    t = std::chrono::steady_clock::now();
    for (auto& w : g.writers) w->flush();
    e.write_seconds += seconds_since(t);
  }
  t = std::chrono::steady_clock::now();
  for (auto& w : g.writers) {
    w->commit();
    ++committed;
  }
  e.write_seconds += seconds_since(t);
}

}  // namespace

CellGrid grid_of(const ModelFile& model, const std::vector<int>& cells) {
  CellGrid g;
  for (int c : cells) {
    g.lats.push_back(model.cells[c].latitude);
    g.lons.push_back(model.cells[c].longitude);
  }
  for (auto* axis : {&g.lats, &g.lons}) {
    std::sort(axis->begin(), axis->end());
    axis->erase(std::unique(axis->begin(), axis->end()), axis->end());
  }
  std::vector<char> taken(g.lats.size() * g.lons.size(), 0);
  g.regular = taken.size() == cells.size();
  for (int c : cells) {
    const auto y = std::lower_bound(g.lats.begin(), g.lats.end(), model.cells[c].latitude) - g.lats.begin();
    const auto x = std::lower_bound(g.lons.begin(), g.lons.end(), model.cells[c].longitude) - g.lons.begin();
    g.y.push_back(y);
    g.x.push_back(x);
    if (taken[size_t(y) * g.lons.size() + x]++) g.regular = false;  // two cells at one point
  }
  return g;
}

std::string member_file_name(const std::string& output, int member, int64_t start_hour, int64_t hours) {
  const bool nc = output.size() > 3 && output.compare(output.size() - 3, 3, ".nc") == 0;
  return (nc ? output.substr(0, output.size() - 3) : output) + "_r" + std::to_string(member) + "i1p1f1_" +
         compact_hour(start_hour) + "-" + compact_hour(start_hour + hours - 1) + ".nc";
}

EnsembleTiming run_ensemble(Vae& vae, const ModelFile& model, const EnsembleJob& job, MPI_Comm comm) {
  const auto started = std::chrono::steady_clock::now();
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const std::vector<int> cells = checked_cells(model, job, comm);
  const CellGrid grid = grid_of(model, cells);
  run_on_all_ranks(comm, [&] {
    require(job.layout != OutputLayout::grid || grid.regular,
            "the " + std::to_string(cells.size()) +
                " cells do not form a regular lat/lon grid; write one file per member instead (--layout members)");
  });
  const bool as_grid = job.layout == OutputLayout::grid || (job.layout == OutputLayout::automatic && grid.regular);
  EnsembleTiming timing;
  timing.layout = as_grid ? OutputLayout::grid : OutputLayout::member_files;

  // Time chunks: the largest share of (cell, member) pairs times the chunk stays within budget.
  const int ncells = static_cast<int>(cells.size());
  const int group = as_grid ? job.members : std::min(job.members, kFilesAtOnce);
  const int64_t largest_share = (int64_t(ncells) * group + ranks - 1) / ranks;
  int64_t chunk = job.chunk_hours > 0
                      ? job.chunk_hours
                      : std::max<int64_t>(kMinChunkHours, job.memory_budget_bytes / (sizeof(float) * largest_share));
  timing.chunk_hours = chunk = std::min(chunk, job.hours);
  // The shortest chunk may still not fit (many members x cells on few ranks): refused before
  // anything is allocated or created, not an allocation the machine cannot give.
  const double chunk_mib = double(chunk) * double(largest_share) * sizeof(float) / (1 << 20);
  run_on_all_ranks(comm, [&] {
    require(chunk_mib <= double(job.memory_budget_bytes) / (1 << 20),
            std::to_string(largest_share) + " (cell, member) traces per rank x " + std::to_string(chunk) +
                " hours per chunk need " + std::to_string(int64_t(std::ceil(chunk_mib))) + " MiB per rank, more than " +
                "--memory-mib " + std::to_string(job.memory_budget_bytes >> 20) +
                ": raise --memory-mib, use more ranks, fewer members or cells, or a shorter --chunk-hours");
  });
  timing.files = output_files(job, as_grid, comm);

  const EnsembleMeta meta = meta_of(model, job, cells, grid, as_grid);
  EnsembleRun e{vae, model, job, cells, grid, as_grid, as_grid ? int64_t(grid.lats.size()) : ncells,
                as_grid ? int64_t(grid.lons.size()) : 1, chunk, comm, rank, ranks};
  size_t committed = 0;  // member files already in place (removed again if a later group fails)
  try {
    for (int g0 = 0; g0 < job.members; g0 += group)
      write_group(e, meta, timing.files, committed, g0, std::min(group, job.members - g0));
  } catch (...) {
    // Member files are a set: none stays behind when the run fails half-way.
    if (rank == 0)
      for (size_t f = 0; f < committed; ++f) std::remove(timing.files[f].c_str());
    throw;
  }
  timing.generate_seconds = max_over_ranks(e.generate_seconds, comm);
  timing.write_seconds = max_over_ranks(e.write_seconds, comm);
  timing.total_seconds = max_over_ranks(seconds_since(started), comm);
  return timing;
}

}  // namespace climvae
