// climvae generate: sample an ensemble of synthetic hourly traces (members x cells, spread over
// the MPI ranks) under a warming scenario into CF NetCDF.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "data/units.hpp"
#include "generate/ensemble_run.hpp"
#include "generate/generator.hpp"
#include "generate/scenario.hpp"
#include "model/model_file.hpp"

namespace climvae::cli {
namespace {

volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_generate_stop_signal(int signal) { stop_signal = signal; }

// SIGTERM (scancel, Slurm's time limit, mpirun passing on a kill) and SIGINT stop the run at the
// next time chunk, which removes its files: no ensemble is left with members missing. A second
// signal kills at once (the handler resets itself).
std::function<std::string()> stop_on_signals() {
  struct sigaction action = {};
  action.sa_handler = on_generate_stop_signal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return [] { return std::string(stop_signal == SIGTERM ? "SIGTERM" : stop_signal == SIGINT ? "SIGINT" : ""); };
}

// The comma-separated numbers of an option's text; Error naming the option for any other field.
std::vector<double> numbers_of(const std::string& text, const std::string& option) {
  std::vector<double> values;
  std::istringstream in(text);
  std::string field;
  while (std::getline(in, field, ',')) {
    char* end = nullptr;
    const double v = std::strtod(field.c_str(), &end);
    require(!field.empty() && *end == '\0' && std::isfinite(v),
            option + ": '" + field + "' is not a number (in '" + text + "')");
    values.push_back(v);
  }
  return values;
}

// Cells of the model from --cells "0,3,7" and/or --bbox "lat_min,lat_max,lon_min,lon_max"
// (both empty: every cell). Throws Error naming the option for an unknown cell or a bad box.
std::vector<int> cells_of_options(const ModelFile& model, const std::string& list, const std::string& box) {
  const int n = static_cast<int>(model.cells.size());
  std::vector<int> cells;
  if (list.empty()) {
    for (int c = 0; c < n; ++c) cells.push_back(c);
  } else {
    for (double v : numbers_of(list, "--cells")) {
      std::ostringstream shown;
      shown << v;
      require(v == std::floor(v) && v >= 0 && v < n,
              "--cells: cell " + shown.str() + " is not in the model (it has cells 0.." + std::to_string(n - 1) + ")");
      cells.push_back(static_cast<int>(v));
    }
  }
  if (!box.empty()) {
    const std::vector<double> b = numbers_of(box, "--bbox");
    require(b.size() == 4 && b[0] <= b[1] && b[2] <= b[3],
            "--bbox: expected 'lat_min,lat_max,lon_min,lon_max' with min <= max, got '" + box + "'");
    cells.erase(std::remove_if(cells.begin(), cells.end(),
                               [&](int c) {
                                 const ModelCell& m = model.cells[c];
                                 return m.latitude < b[0] || m.latitude > b[1] || m.longitude < b[2] || m.longitude > b[3];
                               }),
                cells.end());
    require(!cells.empty(), "--bbox: no cell of the model lies in '" + box + "'");
  }
  return cells;
}

struct ScenarioOptions {
  int target_year = 0;
  std::string rate, table, pattern_rate;
  bool transient = false;
  double offset_k = 0;
};

// The scenario from the options, and its options as global attributes of the output.
Scenario scenario_of(const ScenarioOptions& o, std::map<std::string, std::string>& attributes) {
  require(o.rate.empty() || o.table.empty(), "--warming-rate and --warming-table exclude each other");
  require(o.pattern_rate.empty() || !o.table.empty(), "--pattern-rate scales a --warming-table; give one");
  require(!o.transient || o.target_year == 0, "--transient follows each hour's own year; leave out --target-year");
  require(o.target_year != 0 || o.transient || (o.rate.empty() && o.table.empty()),
          "--warming-rate and --warming-table warm relative to the model's reference year: give --target-year "
          "(a time slice) or --transient, or they change nothing");
  Scenario s;
  s.slice_year = o.target_year;
  s.transient = o.transient;
  s.offset_k = o.offset_k;
  std::string path = "none";
  if (!o.table.empty()) {
    s.path = Scenario::Path::table;
    s.table_k = read_warming_table(o.table);
    if (!o.pattern_rate.empty()) {
      s.table_pattern_rate_k_per_year = parse_trend_rate_k_per_year(o.pattern_rate);
      require(s.table_pattern_rate_k_per_year > 0, "--pattern-rate must be positive, got '" + o.pattern_rate + "'");
      attributes["climvae_pattern_rate_K_per_year"] = std::to_string(s.table_pattern_rate_k_per_year);
    }
    std::ostringstream rows;
    for (const auto& [year, k] : s.table_k) rows << (rows.tellp() > 0 ? " " : "") << year << ":" << k;
    attributes["climvae_warming_table"] = o.table;
    attributes["climvae_warming_table_K"] = rows.str();
    path = "table";
  } else if (!o.rate.empty()) {
    s.path = Scenario::Path::rate;
    s.rate_k_per_year = parse_trend_rate_k_per_year(o.rate);
    attributes["climvae_warming_rate_K_per_year"] = std::to_string(s.rate_k_per_year);
    path = "rate";
  } else if (o.target_year != 0 || o.transient) {
    s.path = Scenario::Path::learned_trend;
    path = "learned_trend";
  }
  attributes["climvae_warming_path"] = path;
  attributes["climvae_warming_mode"] = o.transient ? "transient" : "time slice";
  if (o.offset_k != 0) attributes["climvae_warming_offset_K"] = std::to_string(o.offset_k);
  validate_scenario(s);
  return s;
}

// A learned trend is a straight line through the training years; further than this from the
// reference year it is an extrapolation, which is said aloud (issue 11: two years' -1.6 K/year
// turned 2050 into -45 K).
constexpr int kTrendReachYears = 10;

// The note printed when the learned trend is extended beyond kTrendReachYears, "" otherwise.
std::string trend_extrapolation_note(const Scenario& s, const ModelFile& model, const std::vector<int>& cells,
                                     int64_t start_hour, int64_t hours) {
  if (s.path != Scenario::Path::learned_trend || cells.empty()) return "";
  const int first = civil_from_hours(start_hour).year, last = civil_from_hours(start_hour + hours - 1).year;
  const int year = s.transient ? (std::abs(last - model.reference_year) > std::abs(first - model.reference_year) ? last
                                                                                                                  : first)
                               : s.slice_year;
  if (std::abs(year - model.reference_year) <= kTrendReachYears) return "";
  double low = 1e300, high = -1e300;
  for (int c : cells) {
    const double k = scenario_warming_k(s, model, c, year + 0.5) - s.offset_k;
    low = std::min(low, k), high = std::max(high, k);
  }
  std::ostringstream note;
  note.precision(3);
  note << "note: the learned trend is extended linearly " << std::abs(year - model.reference_year)
       << " years from the reference year " << model.reference_year << " to " << year << " (" << low;
  if (high != low) note << " .. " << high;
  note << " K); a straight line through the training years is not a projection: give --warming-rate or "
       << "--warming-table for a scenario";
  return note.str();
}

OutputLayout layout_of(const std::string& text) {
  if (text == "auto") return OutputLayout::automatic;
  if (text == "grid") return OutputLayout::grid;
  if (text == "members") return OutputLayout::member_files;
  throw Error("--layout must be auto, grid or members, got '" + text + "'");
}

int run(int argc, char** argv) {
  po::options_description o("Options");
  std::string model_path, start, cells, cell, bbox, layout;
  EnsembleJob job;
  ScenarioOptions sc;
  size_t budget_mib = 512;
  o.add_options()
      ("model", po::value(&model_path)->required(), "model file written by 'climvae train'")
      ("start", po::value(&start)->required(), "first hour, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:00")
      ("hours", po::value(&job.hours)->required(), "number of hourly values per member (any length)")
      ("members", po::value(&job.members)->default_value(1), "number of ensemble members")
      ("seed", po::value(&job.seed)->default_value(0), "random seed; a member depends only on (seed, member, cell, start)")
      ("output", po::value(&job.output)->required(),
       "CF NetCDF file to write; with one file per member, NAME.nc gives NAME_r<m>i1p1f1_<from>-<to>.nc")
      ("cells", po::value(&cells), "cells of the model to sample, e.g. 0,3,7 (default: all)")
      ("cell", po::value(&cell), "one cell of the model (same as --cells N)")
      ("bbox", po::value(&bbox), "only cells inside lat_min,lat_max,lon_min,lon_max (degrees)")
      ("layout", po::value(&layout)->default_value("auto"),
       "grid: one file tas(time, realization, lat, lon) (the cells must form a regular lat/lon grid); "
       "members: one file per member tas(time, cell); auto: grid when the cells allow it")
      ("target-year", po::value(&sc.target_year)->default_value(0),
       "time slice: the climate of this year (learned per-cell trend unless --warming-rate/--warming-table)")
      ("warming-rate", po::value(&sc.rate), "warming per year relative to the reference year, e.g. 0.3K/decade")
      ("warming-table", po::value(&sc.table), "CSV 'year,offset_K' of annual warming relative to the reference year")
      ("pattern-rate", po::value(&sc.pattern_rate),
       "scale the table per cell by the cell's learned trend over this rate (e.g. 0.2K/decade)")
      ("transient", po::bool_switch(), "warm each hour by its own year's value (a 2030-2060 trace warms along the path)")
      ("warming-offset", real_value(&sc.offset_k, 0), "constant warming in K added on top")
      ("add-noise", po::bool_switch(), "add the learned hourly observation noise to the decoded mean")
      ("spatial", po::value<std::string>()->default_value("on"),
       "on: cells of one member share their weather through the model's spatial factors; off: every cell "
       "independent (as models without spatial factors)")
      ("chunk-hours", po::value(&job.chunk_hours)->default_value(0), "hours generated and written at a time (0: from --memory-mib)")
      ("memory-mib", po::value(&budget_mib)->default_value(512), "values in flight per rank, MiB (sets the time chunk)")
      ("overwrite", po::bool_switch(), "replace existing output files");
  po::variables_map vm;
  if (!parse("generate", "Sample synthetic hourly 2 m temperature from a trained model into CF NetCDF.", o, argc, argv, vm))
    return 0;
  // A file size limit (ulimit -f) must fail the write with an error, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  job.stop_requested = stop_on_signals();
  sc.transient = vm["transient"].as<bool>();
  job.add_noise = vm["add-noise"].as<bool>();
  const std::string spatial = vm["spatial"].as<std::string>();
  require(spatial == "on" || spatial == "off", "--spatial must be 'on' or 'off', got '" + spatial + "'");
  job.spatial = spatial == "on";
  job.overwrite = vm["overwrite"].as<bool>();
  job.start_hour = parse_iso_hour(start);
  require(job.hours >= 1, "--hours must be at least 1, got " + std::to_string(job.hours));
  require(job.members >= 1 && job.members <= 100000, "--members must be between 1 and 100000");
  require(job.chunk_hours >= 0, "--chunk-hours must not be negative");
  require(budget_mib >= 1 && budget_mib <= size_t(kMaxMemoryMiB),
          "--memory-mib must be 1.." + std::to_string(kMaxMemoryMiB) + " (1 PiB)");
  require(cell.empty() || cells.empty(), "give --cell or --cells, not both");
  // An empty list given (a shell variable that was not set) is not "every cell".
  for (const char* name : {"cells", "cell"})
    require(!vm.count(name) || !vm[name].as<std::string>().empty(),
            std::string("--") + name + " is empty: give cell numbers (e.g. 0,3,7), or leave it out for every cell");
  job.memory_budget_bytes = budget_mib << 20;
  job.layout = layout_of(layout);
  job.scenario = scenario_of(sc, job.attributes);

  require_distinct({{"--model", model_path}, {"--output", job.output}});
  const ModelFile model = load_model(model_path);
  Vae vae(model.config);
  load_parameters(vae, model.parameters);
  job.cells = cells_of_options(model, cell.empty() ? cells : cell, bbox);
  job.model_path = model_path;
  job.history = command_line(argc, argv);
  const std::string note = trend_extrapolation_note(job.scenario, model, job.cells, job.start_hour, job.hours);
  if (is_root() && !note.empty()) std::cerr << note << std::endl;
  const EnsembleTiming t = run_ensemble(vae, model, job);
  if (is_root()) {
    std::cout << "wrote " << job.members << " member(s) x " << job.hours << " hours x " << job.cells.size()
              << " cell(s) from " << format_iso_hour(job.start_hour) << " UTC ("
              << job.scenario.describe(model.reference_year) << ") to "
              << (t.files.size() == 1 ? t.files[0] : std::to_string(t.files.size()) + " files " + t.files[0] + " ...")
              << std::endl;
    std::cout << "  " << t.total_seconds << " s: generation " << t.generate_seconds << " s, writing " << t.write_seconds
              << " s, time chunks of " << t.chunk_hours << " hours" << std::endl;
  }
  return 0;
}

const Registration registration{"generate", run, "sample synthetic traces from a model into CF NetCDF"};

}  // namespace
}  // namespace climvae::cli
