// climvae evaluate: how faithfully a generated ensemble reproduces the observed climate of one
// store cell (monthly means/spread/distributions, diurnal cycles, autocorrelation), and with
// --report the extended statistics beside a classical generator, as CSV files and an HTML page.
// Given several cells (a grid file, or files per member or per cell), also whether the cells
// share their weather: the daily-anomaly correlation of every pair, observed and generated.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/store.hpp"
#include "common/calendar.hpp"
#include "eval/classical_generator.hpp"
#include "eval/climate.hpp"
#include "eval/spatial.hpp"
#include "eval/statistics.hpp"
#include "engine/random.hpp"
#include "generate/ensemble_file.hpp"
#include "generate/scenario.hpp"

namespace {

constexpr double kZeroCelsiusInKelvin = 273.15;
const char* const kSummary =
    "compare generated traces with the observed store (fidelity table, CSV, JSON, HTML report)";
constexpr int kSampleHours = 14 * 24;  // the report's "two weeks of hourly data"
constexpr int kSampleDays = 365;       // and its "year of daily means"
constexpr int kMaxCellsListedPairwise = 20;  // more cells: the pair table is shown binned by distance
constexpr int kDistanceBins = 10;
constexpr double kSameCellDegrees = 1e-3;    // a generated cell is the store cell this close to it

// The observed series with its trend moved to the climate the generated file represents.
climvae::eval::CelsiusSeries observed_series(const climvae::Store& store, int cell, int year) {
  climvae::eval::CelsiusSeries series;
  series.start_hour = store.start_hour;
  series.utc_offset_hours = store.cells[cell].utc_offset_hours;
  series.values_c.resize(static_cast<size_t>(store.num_hours));
  for (int64_t i = 0; i < store.num_hours; ++i)
    series.values_c[i] = store.at_year_k(cell, i, year) - kZeroCelsiusInKelvin;  // NaN stays NaN
  return series;
}

// The generated files, cell by cell: each file holds cells x members (a grid file, a one-member
// cells file, or a one-cell file); together they must give every cell the same members.
struct GeneratedCells {
  climvae::EnsembleMeta meta;  // the first file's, with members = the members per cell
  std::vector<double> lats, lons;
  std::vector<std::vector<climvae::eval::CelsiusSeries>> members;  // [cell][member], utc_offset_hours 0
};

GeneratedCells read_generated(const std::vector<std::string>& paths, MPI_Comm comm) {
  GeneratedCells out;
  std::vector<std::map<int, std::pair<climvae::eval::CelsiusSeries, std::string>>> by_member;  // [cell] member -> series, file
  std::map<std::pair<double, double>, size_t> index_of;  // (lat, lon) -> cell
  for (const std::string& path : paths) {
    const climvae::EnsembleCells file = climvae::read_ensemble_cells(path, comm);
    const auto& meta = file.meta;
    if (out.lats.empty()) out.meta = meta;
    climvae::require(meta.start_hour == out.meta.start_hour && meta.num_hours == out.meta.num_hours,
                     "--generated '" + path + "' covers " + climvae::format_iso_hour(meta.start_hour) + " + " +
                         std::to_string(meta.num_hours) + " hours, '" + paths[0] + "' " +
                         climvae::format_iso_hour(out.meta.start_hour) + " + " + std::to_string(out.meta.num_hours));
    climvae::require(meta.target_year == out.meta.target_year,
                     "--generated '" + path + "' represents the climate of " + std::to_string(meta.target_year) +
                         ", '" + paths[0] + "' that of " + std::to_string(out.meta.target_year));
    const size_t cells = file.cells();
    for (size_t c = 0; c < cells; ++c) {
      const auto [position, is_new] = index_of.emplace(std::make_pair(file.cell_lats[c], file.cell_lons[c]), out.lats.size());
      const size_t index = position->second;
      if (is_new) {
        out.lats.push_back(file.cell_lats[c]), out.lons.push_back(file.cell_lons[c]);
        by_member.emplace_back();
      }
      for (int m = 0; m < meta.members; ++m) {
        const int number = file.member_numbers[m];
        const auto found = by_member[index].find(number);
        climvae::require(found == by_member[index].end(),
                         "--generated: member " + std::to_string(number) + " of the cell at " +
                             std::to_string(file.cell_lats[c]) + " N " + std::to_string(file.cell_lons[c]) +
                             " E is in both '" + (found == by_member[index].end() ? "" : found->second.second) +
                             "' and '" + path + "'");
        climvae::eval::CelsiusSeries series;
        series.start_hour = meta.start_hour;
        series.values_c.resize(static_cast<size_t>(meta.num_hours));
        for (int64_t t = 0; t < meta.num_hours; ++t)
          series.values_c[t] =
              static_cast<double>(file.tas_k[(static_cast<size_t>(t) * meta.members + m) * cells + c]) - kZeroCelsiusInKelvin;
        by_member[index].emplace(number, std::make_pair(std::move(series), path));
      }
    }
  }
  for (size_t c = 0; c < by_member.size(); ++c) {
    climvae::require(by_member[c].size() == by_member[0].size(),
                     "--generated: the cell at " + std::to_string(out.lats[c]) + " N " + std::to_string(out.lons[c]) +
                         " E has " + std::to_string(by_member[c].size()) + " members, the first cell " +
                         std::to_string(by_member[0].size()) + " (give every member file of the run)");
    out.members.emplace_back();
    auto first = by_member[0].begin();
    for (auto& [number, entry] : by_member[c]) {
      climvae::require(number == (first++)->first, "--generated: the cells do not hold the same member numbers");
      out.members.back().push_back(std::move(entry.first));
    }
  }
  out.meta.members = static_cast<int>(out.members.empty() ? 0 : out.members[0].size());
  return out;
}

// The store cell at (lat, lon), or -1.
int store_cell_at(const climvae::Store& store, double lat, double lon) {
  for (size_t c = 0; c < store.cells.size(); ++c)
    if (std::abs(store.cells[c].latitude - lat) < kSameCellDegrees && std::abs(store.cells[c].longitude - lon) < kSameCellDegrees)
      return static_cast<int>(c);
  return -1;
}

// Pair correlations of the generated cells (store_cells[i]: the store cell of generated cell i).
std::vector<climvae::eval::PairCorrelation> pair_correlations(const climvae::Store& store, int year,
                                                              const std::vector<int>& store_cells,
                                                              const GeneratedCells& generated) {
  namespace ev = climvae::eval;
  std::vector<std::vector<ev::CelsiusSeries>> observed;
  for (int c : store_cells) observed.push_back({observed_series(store, c, year)});
  const auto observed_r = ev::pairwise_daily_anomaly_correlations(observed);
  const auto generated_r = ev::pairwise_daily_anomaly_correlations(generated.members);
  std::vector<ev::PairCorrelation> pairs;
  for (size_t a = 0, i = 0; a < store_cells.size(); ++a)
    for (size_t b = a + 1; b < store_cells.size(); ++b, ++i) {
      ev::PairCorrelation p;
      p.cell_a = store_cells[a], p.cell_b = store_cells[b];
      p.distance_km = ev::great_circle_km(generated.lats[a], generated.lons[a], generated.lats[b], generated.lons[b]);
      p.observed = observed_r[i], p.generated = generated_r[i], p.classical = NAN;
      pairs.push_back(p);
    }
  return pairs;
}

// The classical generator's pair correlations: fitted to each cell's observed series and run with
// a stream of its own per cell (independent cells), as many members and hours as generated.
void add_classical_correlations(std::vector<climvae::eval::PairCorrelation>& pairs, const climvae::Store& store,
                                int year, const std::vector<int>& store_cells, const GeneratedCells& generated) {
  namespace ev = climvae::eval;
  std::vector<std::vector<ev::CelsiusSeries>> classical;
  for (int c : store_cells) {
    const auto model = ev::fit_classical_generator(observed_series(store, c, year));
    classical.push_back(ev::generate_classical(model, generated.meta.start_hour, store.cells[c].utc_offset_hours,
                                               generated.meta.num_hours, generated.meta.members,
                                               climvae::stream_key(generated.meta.seed, static_cast<uint64_t>(c))));
  }
  const auto classical_r = ev::pairwise_daily_anomaly_correlations(classical);
  for (size_t i = 0; i < pairs.size(); ++i) pairs[i].classical = classical_r[i];
}

// The pair correlations and their distance bins; lats and lons of every store cell.
struct Spatial {
  std::vector<climvae::eval::PairCorrelation> pairs;
  std::vector<climvae::eval::DistanceBin> bins;
  std::vector<double> lats, lons;
};

// Atomic write (PATH.tmp-<host>-<pid>, then commit_file): an interrupted run leaves no half file, and
// an existing file is replaced only with --overwrite.
void write_file(const std::string& path, const std::string& option, bool overwrite,
                const std::function<void(std::ostream&)>& write) {
  climvae::write_file_atomically(path, "--" + option + " file", overwrite, write);
}

// The last `length` values of `series` that start at local midnight on month/day (the first
// `length` values when no such window exists): the report's sample traces.
std::vector<double> sample_window(const climvae::eval::CelsiusSeries& series, int month, int day, int length) {
  const auto& v = series.values_c;
  size_t start = 0;
  for (size_t t = 0; t + length <= v.size(); ++t) {
    const climvae::CivilDate d =
        climvae::civil_from_hours(series.start_hour + static_cast<int64_t>(t) + series.utc_offset_hours);
    if (d.month == month && d.day == day && d.hour == 0) start = t;
  }
  std::vector<double> window(static_cast<size_t>(length), NAN);
  for (size_t i = 0; i < window.size() && start + i < v.size(); ++i) window[i] = v[start + i];
  return window;
}

std::vector<double> daily_means(const std::vector<double>& hourly) {
  std::vector<double> days(hourly.size() / 24);
  for (size_t d = 0; d < days.size(); ++d) {
    double sum = 0;
    for (int h = 0; h < 24; ++h) sum += hourly[d * 24 + h];  // NaN stays NaN
    days[d] = sum / 24;
  }
  return days;
}

// `index,observed,vae,classical` rows of three equally long samples.
void write_samples(std::ostream& out, const std::string& index, const std::vector<std::vector<double>>& columns) {
  out << index << ",observed,vae,classical\n";
  for (size_t i = 0; i < columns[0].size(); ++i)
    out << i << ',' << climvae::eval::number_text(columns[0][i]) << ',' << climvae::eval::number_text(columns[1][i])
        << ',' << climvae::eval::number_text(columns[2][i]) << '\n';
}

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Resamples of the observed record's years for the skill table's record noise: enough for its
// size to about 10 % (the error of a root mean square from n draws is about 1 / sqrt(2n)).
constexpr int kRecordResamples = 50;

// The observed series, the VAE ensemble and a classical generator fitted to `fitted_on` (the
// observed series, or the training period of the VAE: --classical-store) with the same members,
// hours and seed, with their extended statistics and the skill table.
struct SkillRun {
  climvae::eval::ClassicalGenerator classical_model;
  std::vector<climvae::eval::CelsiusSeries> classical;
  climvae::eval::SpellThresholds thresholds;
  int observed_years = 0;
  climvae::eval::ClimateStatistics obs, vae, cls;
  std::vector<climvae::eval::SkillRow> skill;
};

SkillRun skill_run(const climvae::eval::CelsiusSeries& observed, const climvae::eval::CelsiusSeries& fitted_on,
                   const std::string& fitted_on_store, const std::vector<climvae::eval::CelsiusSeries>& members,
                   uint64_t seed) {
  namespace ev = climvae::eval;
  SkillRun r;
  const auto& first = members.front();
  try {
    r.classical_model = ev::fit_classical_generator(fitted_on);
  } catch (const climvae::Error& e) {  // name the store the fit was given (--store or --classical-store)
    throw climvae::Error("store '" + fitted_on_store + "': " + e.what());
  }
  r.classical = ev::generate_classical(r.classical_model, first.start_hour, first.utc_offset_hours,
                                       static_cast<int64_t>(first.values_c.size()), static_cast<int>(members.size()),
                                       seed);
  const auto observed_days = ev::daily_values(observed);
  r.thresholds = ev::spell_thresholds(observed_days);
  r.observed_years = static_cast<int>(ev::annual_extremes({observed_days}, true, 0).annual.size());
  const auto climatology = ev::climatology_of(observed);
  r.obs = ev::compute_climate_statistics({observed}, r.thresholds, climatology, 0);
  r.vae = ev::compute_climate_statistics(members, r.thresholds, climatology, r.observed_years);
  r.cls = ev::compute_climate_statistics(r.classical, r.thresholds, climatology, r.observed_years);
  r.skill = ev::skill_summary(r.obs, r.vae, r.cls, ev::year_resamples(observed, r.thresholds, climatology, kRecordResamples));
  return r;
}

// The series the classical generator is fitted on with --classical-store: that store's cell at the
// place of the evaluated one, its trend moved to `year` like the observed series.
climvae::eval::CelsiusSeries classical_fit_series(const std::string& path, const climvae::CellSeries& evaluated, int year) {
  // Read by rank 0 alone (the others have finished): a collective read would wait for them.
  const climvae::Store store = climvae::read_store(path, MPI_COMM_SELF);
  const int c = store_cell_at(store, evaluated.latitude, evaluated.longitude);
  climvae::require(c >= 0, "--classical-store '" + path + "' has no cell at " + std::to_string(evaluated.latitude) +
                               " N " + std::to_string(evaluated.longitude) + " E, the evaluated cell's place");
  return observed_series(store, c, year);
}

void print_skill(const SkillRun& r, size_t members) {
  namespace ev = climvae::eval;
  std::cout << "\nclassical generator: harmonic mean and sd, AR(1) anomalies with phi = " << r.classical_model.phi
            << "; " << members << " members\n";
  std::cout << "\nskill (error against the observed; lower is better)\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-32s %12s %12s %12s  %s\n", "statistic", "vae", "classical", "record noise",
                "closer");
  std::cout << line;
  for (const auto& row : r.skill) {
    std::snprintf(line, sizeof line, "%-32s %12s %12s %12s  %s%s\n", row.statistic.c_str(),
                  ev::number_text(row.vae_error).c_str(), ev::number_text(row.classical_error).c_str(),
                  ev::number_text(row.record_noise).c_str(), row.better().c_str(),
                  row.within_record_noise() ? " (both within the noise)" : "");
    std::cout << line;
  }
  std::cout << ev::closer_line(ev::count_closer(r.skill)) << "\n";
}

// --report DIR: the extended statistics of a SkillRun as CSV files, the provenance, and the HTML
// page with figures drawn by scripts/report.py.
void write_report(const std::string& dir, bool overwrite, const std::string& python, const std::string& script,
                  const climvae::eval::CelsiusSeries& observed,
                  const std::vector<climvae::eval::CelsiusSeries>& members, const climvae::eval::Comparison& fidelity,
                  const SkillRun& run, const std::optional<Spatial>& spatial,
                  const std::vector<std::pair<std::string, std::string>>& provenance) {
  namespace ev = climvae::eval;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  climvae::require(!error && std::filesystem::is_directory(dir),
                   "cannot create --report directory '" + dir + "': " + error.message());
  const auto in_dir = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };
  // Refused before anything is written, so that a report is never half old, half new.
  for (const char* name : {"statistics.csv", "skill.csv", "fidelity.csv", "fidelity_classical.csv", "hourly_sample.csv",
                           "daily_sample.csv", "spatial_pairs.csv", "spatial_bins.csv", "provenance.txt", "index.html"})
    climvae::require(overwrite || !std::filesystem::exists(in_dir(name)),
                     "--report: '" + in_dir(name) + "' exists (give --overwrite to replace the report)");
  // The old page goes first: a run that fails half-way leaves no page that looks complete
  // beside figures and tables of two different runs.
  std::filesystem::remove(in_dir("index.html"), error);
  climvae::require(!error, "--report: cannot remove the old '" + in_dir("index.html") + "': " + error.message());
  const auto& first = members.front();
  const auto& [classical_model, classical, thresholds, observed_years, obs, vae, cls, skill] = run;
  const auto classical_fidelity = ev::compare(obs.basic, cls.basic);

  write_file(in_dir("statistics.csv"), "report", overwrite, [&](std::ostream& out) {
    ev::write_statistics_csv(out, {{"observed", &obs}, {"vae", &vae}, {"classical", &cls}}, thresholds);
  });
  write_file(in_dir("skill.csv"), "report", overwrite, [&](std::ostream& out) { ev::write_skill_csv(out, skill); });
  write_file(in_dir("fidelity.csv"), "report", overwrite, [&](std::ostream& out) { ev::write_csv(out, fidelity); });
  write_file(in_dir("fidelity_classical.csv"), "report", overwrite,
             [&](std::ostream& out) { ev::write_csv(out, classical_fidelity); });
  const std::vector<std::vector<double>> hourly{sample_window(observed, 7, 1, kSampleHours),
                                                sample_window(first, 7, 1, kSampleHours),
                                                sample_window(classical.front(), 7, 1, kSampleHours)};
  write_file(in_dir("hourly_sample.csv"), "report", overwrite, [&](std::ostream& out) { write_samples(out, "hour", hourly); });
  std::vector<std::vector<double>> daily;
  for (const auto* s : {&observed, &first, &classical.front()})
    daily.push_back(daily_means(sample_window(*s, 1, 1, kSampleDays * 24)));
  write_file(in_dir("daily_sample.csv"), "report", overwrite, [&](std::ostream& out) { write_samples(out, "day", daily); });
  if (spatial) {
    write_file(in_dir("spatial_pairs.csv"), "report", overwrite,
               [&](std::ostream& out) { ev::write_pairs_csv(out, spatial->pairs, spatial->lats, spatial->lons); });
    write_file(in_dir("spatial_bins.csv"), "report", overwrite, [&](std::ostream& out) { ev::write_bins_csv(out, spatial->bins); });
  }
  write_file(in_dir("provenance.txt"), "report", overwrite, [&](std::ostream& out) {
    for (const auto& [key, value] : provenance) out << key << ": " << value << '\n';
    out << "observed_years: " << observed_years << "\nclassical_phi: " << classical_model.phi << '\n'
        << "classical_fidelity: " << classical_fidelity.passed() << " of " << classical_fidelity.checks() << '\n';
  });

  const std::string command = shell_quoted(python) + " " + shell_quoted(script) + " " + shell_quoted(dir);
  climvae::require(std::system(command.c_str()) == 0,
                   "--report: the figure script failed (" + command + "); the statistics files are in '" + dir + "'");
  // A script that exits 0 without drawing the page (another script) was reported as written.
  climvae::require(std::filesystem::is_regular_file(in_dir("index.html"), error),
                   "--report: the figure script (" + command + ") wrote no '" + in_dir("index.html") +
                       "' (is --report-script climvae's scripts/report.py?); the statistics files are in '" + dir + "'");
  std::cout << "wrote report " << in_dir("index.html") << "\n";
}

namespace po = climvae::cli::po;

// --report's directory and script, checked before the work (they were found only after the
// statistics and the classical generator's run): a file in the directory's place, no script.
void check_report_options(const po::variables_map& vm) {
  if (!vm.count("report")) return;
  const std::string dir = vm["report"].as<std::string>(), script = vm["report-script"].as<std::string>();
  std::error_code error;
  climvae::require(!std::filesystem::exists(dir, error) || std::filesystem::is_directory(dir, error),
                   "--report '" + dir + "' exists and is not a directory");
  climvae::require_regular_input(script, "--report-script");
  climvae::require(std::filesystem::exists(script, error), "--report-script '" + script + "' does not exist");
}

po::options_description evaluate_options() {
  po::options_description options("climvae evaluate");
  options.add_options()
      ("store", po::value<std::string>()->required(), "observed cell store (from climvae prepare)")
      ("generated", po::value<std::vector<std::string>>()->multitoken()->required(),
       "generated ensemble (from climvae generate): one file, or several (one per member or per cell) of one run")
      ("csv", po::value<std::string>(), "also write the comparison as CSV to this file")
      ("json", po::value<std::string>(), "also write the comparison as JSON to this file")
      ("spatial-csv", po::value<std::string>(), "several cells: write the pair correlations as CSV to this file")
      ("spatial-json", po::value<std::string>(), "several cells: write the pair correlations and distance bins as JSON")
      ("skill-csv", po::value<std::string>(),
       "also run the classical generator and write the skill table (VAE and classical errors) as CSV to this file")
      ("classical-store", po::value<std::string>(),
       "fit the classical generator on this store's cell at the evaluated cell's place (the VAE's training "
       "store: both generators then know the same period; default: --store, the evaluated series itself)")
      ("cell", po::value<int>()->default_value(0),
       "store cell whose fidelity is evaluated (0-based; with several generated cells: default the first of them)")
      ("report", po::value<std::string>(),
       "write extended statistics beside a classical generator (CSV) and an HTML report to this directory")
      ("report-script", po::value<std::string>()->default_value(CLIMVAE_REPORT_SCRIPT),
       "the Python script that draws the report's figures and page")
      ("python", po::value<std::string>()->default_value("/usr/bin/python3"),
       "Python with matplotlib that runs --report-script (Debian: python3-matplotlib)")
      ("overwrite", po::bool_switch(), "replace existing --csv, --json, --skill-csv, --spatial-csv, --spatial-json and --report files");
  return options;
}

// A writer's temporary (PATH.tmp-<host>-<pid>) may be incomplete even when it reads as NetCDF.
void refuse_temporaries(const std::vector<std::string>& generated_paths) {
  for (const std::string& path : generated_paths) {
    climvae::require(!climvae::is_temporary_path(path),
                     "--generated '" + path + "' is the temporary file of a run that was writing it (" +
                         "complete files have no .tmp-<host>-<pid> suffix)");
  }
}

// Some values, and none an air temperature cannot be (what generate refuses to write): a file
// of another variable or unit, or a broken one, gives nonsense statistics otherwise.
void require_some_value(const GeneratedCells& generated, const std::string& generated_text) {
  constexpr double kKelvin = 273.15;
  bool any_value = false;
  for (const auto& cell : generated.members)
    for (const auto& member : cell)
      for (double v : member.values_c) {
        if (std::isnan(v)) continue;  // missing
        if (v >= climvae::kMinPlausibleK - kKelvin && v <= climvae::kMaxPlausibleK - kKelvin) {
          any_value = true;
          continue;
        }
        char value[32];
        std::snprintf(value, sizeof value, "%.6g", v + kKelvin);
        climvae::detail::fail("--generated '", generated_text, "' holds ", value, " K, outside the plausible ",
                              static_cast<int>(climvae::kMinPlausibleK), "..", static_cast<int>(climvae::kMaxPlausibleK),
                              " K of an air temperature");
      }
  climvae::require(any_value, "--generated '" + generated_text + "' holds no values (every value is missing)");
}

// The store cell evaluated in full and, with several generated cells, the store cell of each.
struct CellChoice {
  int cell = 0;                 // store cell evaluated in full
  size_t generated_index = 0;   // its place among the generated cells
  std::vector<int> store_cells;  // several generated cells: the store cell of each, ascending
};

// One generated cell: it is --cell's (a note when its location differs). Several: each is the
// store cell at its location (`generated` is put in store order), and --cell picks the one
// evaluated in full.
CellChoice choose_cells(const po::variables_map& vm, const climvae::Store& store, const std::string& store_path,
                        GeneratedCells& generated) {
  CellChoice choice;
  int& cell = choice.cell;
  cell = vm["cell"].as<int>();
  climvae::require(cell >= 0 && cell < static_cast<int>(store.cells.size()),
                   "--cell " + std::to_string(cell) + " is outside store '" + store_path + "', which has " +
                       std::to_string(store.cells.size()) + " cells");
  if (generated.lats.size() <= 1) return choice;
  std::vector<int> store_cells;
  for (size_t g = 0; g < generated.lats.size(); ++g) {
    const int c = store_cell_at(store, generated.lats[g], generated.lons[g]);
    climvae::require(c >= 0, "--generated: no cell of store '" + store_path + "' is at " +
                                 std::to_string(generated.lats[g]) + " N " + std::to_string(generated.lons[g]) + " E");
    store_cells.push_back(c);
  }
  // Pairs and tables in store order, whatever order the files hold the cells in.
  std::vector<size_t> order(store_cells.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return store_cells[a] < store_cells[b]; });
  GeneratedCells sorted;
  sorted.meta = generated.meta;
  for (size_t g : order) {
    climvae::require(choice.store_cells.empty() || choice.store_cells.back() != store_cells[g],
                     "--generated: two generated cells are both store cell " + std::to_string(store_cells[g]));
    choice.store_cells.push_back(store_cells[g]);
    sorted.lats.push_back(generated.lats[g]), sorted.lons.push_back(generated.lons[g]);
    sorted.members.push_back(std::move(generated.members[g]));
  }
  generated = std::move(sorted);
  if (vm["cell"].defaulted()) cell = choice.store_cells[0];
  const auto found = std::find(choice.store_cells.begin(), choice.store_cells.end(), cell);
  climvae::require(found != choice.store_cells.end(), "--cell " + std::to_string(cell) + " was not generated");
  choice.generated_index = static_cast<size_t>(found - choice.store_cells.begin());
  return choice;
}

void print_heading(const std::string& store_path, const climvae::CellSeries& observed_cell, int cell, int year,
                   const std::string& generated_text, const GeneratedCells& generated, size_t generated_index) {
  const bool several = generated.lats.size() > 1;
  std::cout << "observed:  " << store_path << " cell " << cell << " (" << observed_cell.latitude << " N, "
            << observed_cell.longitude << " E, UTC" << (observed_cell.utc_offset_hours < 0 ? "" : "+")
            << observed_cell.utc_offset_hours << "), trend moved to " << year << "\n"
            << "generated: " << generated_text << " (" << generated.meta.members << " members x "
            << generated.meta.num_hours << " hours at " << generated.lats[generated_index] << " N, "
            << generated.lons[generated_index] << " E"
            << (several ? "; " + std::to_string(generated.lats.size()) + " cells in all" : std::string()) << ")\n";
  if (!several && (std::abs(generated.lats[0] - observed_cell.latitude) > 1e-6 ||
                   std::abs(generated.lons[0] - observed_cell.longitude) > 1e-6))
    std::cout << "note: the generated file's location differs from store cell " << cell << " (see --cell)\n";
  std::cout << "\n";
}

// Several cells: the pair correlations (with the classical generator's for --report), binned by
// distance, printed.
Spatial spatial_of(const climvae::Store& store, int year, const std::vector<int>& store_cells,
                   const GeneratedCells& generated, bool with_classical) {
  Spatial spatial;
  spatial.pairs = pair_correlations(store, year, store_cells, generated);
  if (with_classical) add_classical_correlations(spatial.pairs, store, year, store_cells, generated);
  spatial.bins = climvae::eval::bin_by_distance(spatial.pairs, kDistanceBins);
  for (const auto& c : store.cells) spatial.lats.push_back(c.latitude), spatial.lons.push_back(c.longitude);
  std::cout << "\n";
  climvae::eval::print_spatial_table(std::cout, spatial.pairs, spatial.bins,
                                     kMaxCellsListedPairwise * (kMaxCellsListedPairwise - 1) / 2);
  return spatial;
}

// --csv, --json, --spatial-csv, --spatial-json.
void write_comparison_files(const po::variables_map& vm, bool overwrite, const climvae::eval::Comparison& comparison,
                            const std::optional<Spatial>& spatial) {
  if (vm.count("csv"))
    write_file(vm["csv"].as<std::string>(), "csv", overwrite,
               [&](std::ostream& out) { climvae::eval::write_csv(out, comparison); });
  if (vm.count("json"))
    write_file(vm["json"].as<std::string>(), "json", overwrite,
               [&](std::ostream& out) { climvae::eval::write_json(out, comparison); });
  if (vm.count("spatial-csv"))
    write_file(vm["spatial-csv"].as<std::string>(), "spatial-csv", overwrite,
               [&](std::ostream& out) { climvae::eval::write_pairs_csv(out, spatial->pairs, spatial->lats, spatial->lons); });
  if (vm.count("spatial-json"))
    write_file(vm["spatial-json"].as<std::string>(), "spatial-json", overwrite,
               [&](std::ostream& out) { climvae::eval::write_spatial_json(out, spatial->pairs, spatial->bins); });
}

// The report's provenance.txt lines: where every input came from.
std::vector<std::pair<std::string, std::string>> provenance_of(const climvae::Store& store, const std::string& store_path,
                                                               const GeneratedCells& generated,
                                                               const std::string& generated_text, int cell, int year,
                                                               const std::string& command) {
  const climvae::EnsembleMeta& meta = generated.meta;
  const climvae::CellSeries& observed_cell = store.cells[cell];
  return {{"model", meta.model_path},
          {"generated", generated_text},
          {"store", store_path},
          {"seed", std::to_string(meta.seed)},
          {"scenario", meta.scenario},
          {"members", std::to_string(meta.members) + " x " + std::to_string(meta.num_hours) + " hours from " +
                          climvae::format_iso_hour(meta.start_hour)},
          {"data", store.source},
          {"cell", std::to_string(cell) + " (" + std::to_string(observed_cell.latitude) + " N, " +
                       std::to_string(observed_cell.longitude) + " E)"},
          {"cells_compared", std::to_string(generated.lats.size())},
          {"observed_moved_to_year", std::to_string(year)},
          {"prepare_command", store.history},
          {"generate_command", meta.history},
          {"evaluate_command", command},
          {"created", climvae::utc_now_text()}};
}

int run(int argc, char** argv) {
  po::options_description options = evaluate_options();
  po::variables_map vm;
  if (!climvae::cli::parse("evaluate", kSummary, options, argc, argv, vm)) return 0;
  const std::string store_path = vm["store"].as<std::string>();
  const std::vector<std::string> generated_paths = vm["generated"].as<std::vector<std::string>>();
  std::string generated_text;
  for (const std::string& path : generated_paths) generated_text += (generated_text.empty() ? "" : " ") + path;
  const bool overwrite = vm["overwrite"].as<bool>();
  // Each rank checks and reads the files of its own arguments alone (MPI_COMM_SELF: an MPMD
  // launch may give ranks different files, and a collective open of different files, or a
  // collective one rank skips after a failure, hangs), then the ranks agree on the outcome:
  // a bad input on any rank fails every rank with that rank's message.
  climvae::Store store;
  GeneratedCells generated;
  climvae::run_on_all_ranks(MPI_COMM_WORLD, [&] {
    // Outputs checked before the work: their directories exist, none is a device or the input.
    std::vector<std::pair<std::string, std::string>> outputs;
    for (const char* option : {"csv", "json", "skill-csv", "spatial-csv", "spatial-json"}) {
      if (!vm.count(option)) continue;
      const std::string path = vm[option].as<std::string>();
      climvae::cli::require_output(path, std::string("--") + option, overwrite);
      outputs.emplace_back(std::string("--") + option, path);
    }
    for (const std::string& input : generated_paths) {
      auto paths = outputs;
      paths.emplace_back("--generated", input);
      climvae::cli::require_distinct(paths);
    }
    outputs.emplace_back("--store", store_path);
    climvae::cli::require_distinct(outputs);
    refuse_temporaries(generated_paths);
    check_report_options(vm);
    store = climvae::read_store(store_path, MPI_COMM_SELF);
    generated = read_generated(generated_paths, MPI_COMM_SELF);
    require_some_value(generated, generated_text);
  });
  if (!climvae::cli::is_root()) return 0;  // the statistics are cheap: rank 0 does them alone
  climvae::require(generated.meta.members > 0, "--generated '" + generated_text + "' holds no members");
  const bool several = generated.lats.size() > 1;
  for (const char* option : {"spatial-csv", "spatial-json"})
    climvae::require(several || !vm.count(option), std::string("--") + option + " needs several generated cells");
  const CellChoice choice = choose_cells(vm, store, store_path, generated);
  const int cell = choice.cell;

  // Files from other tools may carry no target year: compare with the store's own climate then.
  const int year = generated.meta.target_year != 0 ? generated.meta.target_year : store.reference_year;
  const auto& observed_cell = store.cells[cell];
  const auto observed_hourly = observed_series(store, cell, year);
  std::vector<climvae::eval::CelsiusSeries> members = generated.members[choice.generated_index];
  for (auto& member : members) member.utc_offset_hours = observed_cell.utc_offset_hours;
  const auto observed = climvae::eval::compute_statistics(observed_hourly);
  const auto generated_statistics =
      climvae::eval::compute_statistics(members, climvae::eval::climatology_of(observed_hourly));
  const auto comparison = climvae::eval::compare(observed, generated_statistics);
  print_heading(store_path, observed_cell, cell, year, generated_text, generated, choice.generated_index);
  climvae::eval::print_table(std::cout, comparison);
  std::optional<Spatial> spatial;
  if (several) spatial = spatial_of(store, year, choice.store_cells, generated, vm.count("report") > 0);
  write_comparison_files(vm, overwrite, comparison, spatial);

  if (!vm.count("report") && !vm.count("skill-csv")) return 0;
  const auto classical_fit = vm.count("classical-store")
                                 ? classical_fit_series(vm["classical-store"].as<std::string>(), observed_cell, year)
                                 : observed_hourly;
  const std::string fit_store = vm.count("classical-store") ? vm["classical-store"].as<std::string>() : store_path;
  const SkillRun skill = skill_run(observed_hourly, classical_fit, fit_store, members, generated.meta.seed);
  print_skill(skill, members.size());
  if (vm.count("skill-csv"))
    write_file(vm["skill-csv"].as<std::string>(), "skill-csv", overwrite,
               [&](std::ostream& out) { climvae::eval::write_skill_csv(out, skill.skill); });
  if (vm.count("report"))
    write_report(vm["report"].as<std::string>(), overwrite, vm["python"].as<std::string>(), vm["report-script"].as<std::string>(),
                 observed_hourly, members, comparison, skill, spatial,
                 provenance_of(store, store_path, generated, generated_text, cell, year,
                               climvae::cli::command_line(argc, argv)));
  return 0;
}

}  // namespace

static const climvae::cli::Registration registration{"evaluate", run, kSummary};
