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

  // Every rank checks the same request, so all agree; the files list cells sorted.
  validate_scenario(job.scenario);
  std::vector<int> cells = job.cells;
  std::sort(cells.begin(), cells.end());
  EnsembleTiming timing;
  run_on_all_ranks(comm, [&] {
    require(!cells.empty(), "no cells to generate");
    require(std::adjacent_find(cells.begin(), cells.end()) == cells.end(), "a cell is listed twice");
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
  const CellGrid grid = grid_of(model, cells);
  run_on_all_ranks(comm, [&] {
    require(job.layout != OutputLayout::grid || grid.regular,
            "the " + std::to_string(cells.size()) +
                " cells do not form a regular lat/lon grid; write one file per member instead (--layout members)");
  });
  const bool as_grid = job.layout == OutputLayout::grid || (job.layout == OutputLayout::automatic && grid.regular);
  timing.layout = as_grid ? OutputLayout::grid : OutputLayout::member_files;
  if (as_grid) {
    timing.files.push_back(job.output);
  } else {
    for (int m = 1; m <= job.members; ++m) timing.files.push_back(member_file_name(job.output, m, job.start_hour, job.hours));
  }
  run_on_root(comm, [&] {
    if (job.overwrite) return;
    for (const auto& f : timing.files)
      require(!path_exists(f), "output '" + f + "' exists already (choose another path or allow --overwrite)");
  });

  // Time chunks: the largest share of (cell, member) pairs times the chunk stays within budget.
  const int ncells = static_cast<int>(cells.size());
  const int group = as_grid ? job.members : std::min(job.members, kFilesAtOnce);
  const int64_t largest_share = (int64_t(ncells) * group + ranks - 1) / ranks;
  int64_t chunk = job.chunk_hours > 0 ? job.chunk_hours
                                      : std::max<int64_t>(kMinChunkHours, job.memory_budget_bytes / (sizeof(float) * largest_share));
  chunk = std::min(chunk, job.hours);
  timing.chunk_hours = chunk;

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
  if (as_grid) {
    meta.lats = grid.lats;
    meta.lons = grid.lons;
  } else {
    meta.layout = EnsembleLayout::cells;
    meta.members = 1;
    for (int c : cells) {
      meta.lats.push_back(model.cells[c].latitude);
      meta.lons.push_back(model.cells[c].longitude);
    }
    meta.cell_ids = cells;
  }

  double generate_seconds = 0, write_seconds = 0;
  size_t committed = 0;  // member files already in place (removed again if a later group fails)
  try {
    for (int g0 = 0; g0 < job.members; g0 += group) {
      const int gm = std::min(group, job.members - g0);
      auto t = std::chrono::steady_clock::now();
      std::vector<std::unique_ptr<EnsembleWriter>> writers;
      for (int f = 0; f < (as_grid ? 1 : gm); ++f) {
        meta.members = as_grid ? job.members : 1;
        meta.member_number = g0 + f + 1;
        writers.push_back(std::make_unique<EnsembleWriter>(timing.files[committed + f], meta, job.overwrite, comm));
      }
      write_seconds += seconds_since(t);
      // With at least one member per rank, each rank takes whole members of every cell: its part
      // of the file is then one block per chunk, contiguous at every time step (fast to write).
      const bool by_members = gm >= ranks;
      std::vector<Run> runs;
      if (by_members) {
        const CellRange mine = cell_share(gm, rank, ranks);
        for (int p = 0; p < ncells && mine.count > 0; ++p) runs.push_back({p, g0 + mine.first, mine.count});
      } else {
        runs = runs_of_rank(ncells, g0, gm, rank, ranks);
      }
      const int my_m0 = runs.empty() ? g0 : runs.front().m0, my_nm = runs.empty() ? 0 : runs.front().nm;
      const int64_t ny = as_grid ? int64_t(grid.lats.size()) : ncells, nx = as_grid ? int64_t(grid.lons.size()) : 1;
      for (int64_t t0 = 0; t0 < job.hours; t0 += chunk) {
        const int64_t nt = std::min(chunk, job.hours - t0);
        t = std::chrono::steady_clock::now();
        const std::string failed = error_message_of([&] {
          // by_members: the rank's block (time, member, y, x) or one (time, cell) block per member file.
          std::vector<std::vector<float>> blocks(by_members ? (as_grid ? 1 : my_nm) : 0);
          for (auto& b : blocks) b.resize(size_t(nt) * (as_grid ? my_nm : 1) * ny * nx);
          for (const Run& run : runs) {
            TraceRequest r;
            r.cell = cells[run.position];
            r.start_hour = job.start_hour;
            r.hours = job.hours;
            r.members = run.nm;
            r.first_member = run.m0;
            r.seed = job.seed;
            r.scenario = job.scenario;
            r.add_noise = job.add_noise;
            r.spatial = job.spatial;
            std::vector<float> values = generate_trace_chunk(vae, model, r, t0, nt);
            check_generated_values(values.data(), values.size(), "cell " + std::to_string(r.cell));
            if (by_members) {
              const int64_t cell_at = as_grid ? grid.y[run.position] * nx + grid.x[run.position] : run.position;
              for (int64_t h = 0; h < nt; ++h)
                for (int b = 0; b < run.nm; ++b) {
                  const float v = values[h * run.nm + b];
                  if (as_grid) blocks[0][(h * run.nm + b) * ny * nx + cell_at] = v;
                  else blocks[b][h * ncells + cell_at] = v;
                }
              continue;
            }
            if (as_grid) {
              writers[0]->post(t0, nt, run.m0, run.nm, grid.y[run.position], grid.x[run.position], std::move(values));
              continue;
            }
            for (int b = 0; b < run.nm; ++b) {  // member b's column of the (time, member) block
              std::vector<float> column(static_cast<size_t>(nt));
              for (int64_t h = 0; h < nt; ++h) column[h] = values[h * run.nm + b];
              writers[run.m0 + b - g0]->post(t0, nt, 0, 1, run.position, 0, std::move(column));
            }
          }
          if (by_members && as_grid && my_nm > 0) writers[0]->post(t0, nt, my_m0, my_nm, 0, 0, std::move(blocks[0]), ny, nx);
          if (by_members && !as_grid)
            for (int b = 0; b < my_nm; ++b) writers[my_m0 + b - g0]->post(t0, nt, 0, 1, 0, 0, std::move(blocks[b]), ny, 1);
        });
        generate_seconds += seconds_since(t);
        throw_if_any_rank_failed(comm, failed);
        t = std::chrono::steady_clock::now();
        for (auto& w : writers) w->flush();
        write_seconds += seconds_since(t);
      }
      t = std::chrono::steady_clock::now();
      for (auto& w : writers) {
        w->commit();
        ++committed;
      }
      write_seconds += seconds_since(t);
    }
  } catch (...) {
    // Member files are a set: none stays behind when the run fails half-way.
    if (rank == 0)
      for (size_t f = 0; f < committed; ++f) std::remove(timing.files[f].c_str());
    throw;
  }
  timing.generate_seconds = max_over_ranks(generate_seconds, comm);
  timing.write_seconds = max_over_ranks(write_seconds, comm);
  timing.total_seconds = max_over_ranks(seconds_since(started), comm);
  return timing;
}

}  // namespace climvae
