// climvae evaluate: how faithfully a generated ensemble reproduces the observed climate of one
// store cell (monthly means/spread/distributions, diurnal cycles, autocorrelation), and with
// --report the extended statistics beside a classical generator, as CSV files and an HTML page.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "data/store.hpp"
#include "common/calendar.hpp"
#include "eval/classical_generator.hpp"
#include "eval/climate.hpp"
#include "eval/statistics.hpp"
#include "generate/ensemble_file.hpp"

namespace {

constexpr double kZeroCelsiusInKelvin = 273.15;
const char* const kSummary =
    "compare generated traces with the observed store (fidelity table, CSV, JSON, HTML report)";
constexpr int kSampleHours = 14 * 24;  // the report's "two weeks of hourly data"
constexpr int kSampleDays = 365;       // and its "year of daily means"

// The observed series with its trend moved to the climate the generated file represents.
climvae::eval::HourlySeries observed_series(const climvae::Store& store, int cell, int year) {
  climvae::eval::HourlySeries series;
  series.start_hour = store.start_hour;
  series.utc_offset_hours = store.cells[cell].utc_offset_hours;
  series.values_c.resize(static_cast<size_t>(store.num_hours));
  for (int64_t i = 0; i < store.num_hours; ++i)
    series.values_c[i] = store.at_year_k(cell, i, year) - kZeroCelsiusInKelvin;  // NaN stays NaN
  return series;
}

std::vector<climvae::eval::HourlySeries> generated_members(const climvae::Ensemble& ensemble, int utc_offset_hours) {
  const auto& meta = ensemble.meta;
  std::vector<climvae::eval::HourlySeries> members(static_cast<size_t>(meta.members));
  for (int m = 0; m < meta.members; ++m) {
    auto& member = members[m];
    member.start_hour = meta.start_hour;
    member.utc_offset_hours = utc_offset_hours;
    member.values_c.resize(static_cast<size_t>(meta.num_hours));
    for (int64_t t = 0; t < meta.num_hours; ++t)
      member.values_c[t] = static_cast<double>(ensemble.tas_k[t * meta.members + m]) - kZeroCelsiusInKelvin;
  }
  return members;
}

// Atomic write (PATH.tmp-<pid>, then commit_file): an interrupted run leaves no half file, and
// an existing file is replaced only with --overwrite.
void write_file(const std::string& path, const std::string& option, bool overwrite,
                const std::function<void(std::ostream&)>& write) {
  climvae::write_file_atomically(path, "--" + option + " file", overwrite, write);
}

// The last `length` values of `series` that start at local midnight on month/day (the first
// `length` values when no such window exists): the report's sample traces.
std::vector<double> sample_window(const climvae::eval::HourlySeries& series, int month, int day, int length) {
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

// --report DIR: extended statistics of the observed series, the VAE ensemble and a classical
// generator fitted to the observed series (same members, hours and seed), their CSV files, the
// provenance, and the HTML page with figures drawn by scripts/report.py.
void write_report(const std::string& dir, bool overwrite, const std::string& python, const std::string& script,
                  const climvae::eval::HourlySeries& observed,
                  const std::vector<climvae::eval::HourlySeries>& members, const climvae::eval::Comparison& fidelity,
                  uint64_t seed, const std::vector<std::pair<std::string, std::string>>& provenance) {
  namespace ev = climvae::eval;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  climvae::require(!error && std::filesystem::is_directory(dir),
                   "cannot create --report directory '" + dir + "': " + error.message());
  const auto in_dir = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };
  // Refused before anything is written, so that a report is never half old, half new.
  for (const char* name : {"statistics.csv", "skill.csv", "fidelity.csv", "fidelity_classical.csv", "hourly_sample.csv",
                           "daily_sample.csv", "provenance.txt", "index.html"})
    climvae::require(overwrite || !std::filesystem::exists(in_dir(name)),
                     "--report: '" + in_dir(name) + "' exists (give --overwrite to replace the report)");
  const auto& first = members.front();
  const auto classical_model = ev::fit_classical_generator(observed);
  std::cout << "\nclassical generator: harmonic mean and sd, AR(1) anomalies with phi = " << classical_model.phi
            << "; " << members.size() << " members\n";
  const auto classical = ev::generate_classical(classical_model, first.start_hour, first.utc_offset_hours,
                                                static_cast<int64_t>(first.values_c.size()),
                                                static_cast<int>(members.size()), seed);

  const auto observed_days = ev::daily_values(observed);
  const auto thresholds = ev::spell_thresholds(observed_days);
  const int observed_years = static_cast<int>(ev::annual_extremes({observed_days}, true, 0).annual.size());
  const auto obs = ev::compute_climate_statistics({observed}, thresholds, 0);
  const auto vae = ev::compute_climate_statistics(members, thresholds, observed_years);
  const auto cls = ev::compute_climate_statistics(classical, thresholds, observed_years);
  const auto skill = ev::skill_summary(obs, vae, cls);
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
  write_file(in_dir("provenance.txt"), "report", overwrite, [&](std::ostream& out) {
    for (const auto& [key, value] : provenance) out << key << ": " << value << '\n';
    out << "observed_years: " << observed_years << "\nclassical_phi: " << classical_model.phi << '\n'
        << "classical_fidelity: " << classical_fidelity.passed() << " of " << classical_fidelity.checks() << '\n';
  });

  std::cout << "\nskill (error against the observed; lower is better)\n";
  char line[160];
  for (const auto& r : skill) {
    std::snprintf(line, sizeof line, "%-32s %12s %12s  %s\n", r.statistic.c_str(),
                  ev::number_text(r.vae_error).c_str(), ev::number_text(r.classical_error).c_str(), r.better().c_str());
    std::cout << line;
  }
  const std::string command = shell_quoted(python) + " " + shell_quoted(script) + " " + shell_quoted(dir);
  climvae::require(std::system(command.c_str()) == 0,
                   "--report: the figure script failed (" + command + "); the statistics files are in '" + dir + "'");
  std::cout << "wrote report " << in_dir("index.html") << "\n";
}

int run(int argc, char** argv) {
  namespace po = climvae::cli::po;
  po::options_description options("climvae evaluate");
  options.add_options()
      ("store", po::value<std::string>()->required(), "observed cell store (from climvae prepare)")
      ("generated", po::value<std::string>()->required(), "generated ensemble (from climvae generate)")
      ("csv", po::value<std::string>(), "also write the comparison as CSV to this file")
      ("json", po::value<std::string>(), "also write the comparison as JSON to this file")
      ("cell", po::value<int>()->default_value(0), "store cell the ensemble was generated for (0-based)")
      ("report", po::value<std::string>(),
       "write extended statistics beside a classical generator (CSV) and an HTML report to this directory")
      ("report-script", po::value<std::string>()->default_value(CLIMVAE_REPORT_SCRIPT),
       "the Python script that draws the report's figures and page")
      ("python", po::value<std::string>()->default_value("/usr/bin/python3"),
       "Python with matplotlib that runs --report-script (Debian: python3-matplotlib)")
      ("overwrite", "replace existing --csv, --json and --report files");
  po::variables_map vm;
  if (!climvae::cli::parse("evaluate", kSummary, options, argc, argv, vm)) return 0;

  const std::string store_path = vm["store"].as<std::string>();
  const std::string generated_path = vm["generated"].as<std::string>();
  const int cell = vm["cell"].as<int>();
  const bool overwrite = vm.count("overwrite") > 0;

  const climvae::Store store = climvae::read_store(store_path);
  climvae::require(cell >= 0 && cell < static_cast<int>(store.cells.size()),
                   "--cell " + std::to_string(cell) + " is outside store '" + store_path + "', which has " +
                       std::to_string(store.cells.size()) + " cells");
  // A writer's temporary (PATH.tmp-<pid>) may be incomplete even when it reads as NetCDF.
  const size_t tmp = generated_path.rfind(".tmp-");
  climvae::require(tmp == std::string::npos || generated_path.find_first_not_of("0123456789", tmp + 5) != std::string::npos,
                   "--generated '" + generated_path + "' is the temporary file of a run that was writing it (" +
                       "complete files have no .tmp-<pid> suffix)");
  const climvae::Ensemble ensemble = climvae::read_ensemble(generated_path);
  climvae::require(std::any_of(ensemble.tas_k.begin(), ensemble.tas_k.end(), [](float v) { return std::isfinite(v); }),
                   "--generated '" + generated_path + "' holds no values (every value is missing or not finite)");
  if (!climvae::cli::is_root()) return 0;  // the statistics are cheap: rank 0 does them alone

  // Files from other tools may carry no target year: compare with the store's own climate then.
  const int year = ensemble.meta.target_year != 0 ? ensemble.meta.target_year : store.reference_year;
  const auto& observed_cell = store.cells[cell];
  const auto observed_hourly = observed_series(store, cell, year);
  const auto members = generated_members(ensemble, observed_cell.utc_offset_hours);
  climvae::require(!members.empty(), "--generated '" + generated_path + "' holds no members");
  const auto observed = climvae::eval::compute_statistics(observed_hourly);
  const auto generated = climvae::eval::compute_statistics(members);
  const auto comparison = climvae::eval::compare(observed, generated);

  std::cout << "observed:  " << store_path << " cell " << cell << " (" << observed_cell.latitude << " N, "
            << observed_cell.longitude << " E, UTC" << (observed_cell.utc_offset_hours < 0 ? "" : "+")
            << observed_cell.utc_offset_hours << "), trend moved to " << year << "\n"
            << "generated: " << generated_path << " (" << ensemble.meta.members << " members x "
            << ensemble.meta.num_hours << " hours at " << ensemble.meta.latitude << " N, "
            << ensemble.meta.longitude << " E)\n";
  if (std::abs(ensemble.meta.latitude - observed_cell.latitude) > 1e-6 ||
      std::abs(ensemble.meta.longitude - observed_cell.longitude) > 1e-6)
    std::cout << "note: the generated file's location differs from store cell " << cell << " (see --cell)\n";
  std::cout << "\n";
  climvae::eval::print_table(std::cout, comparison);

  if (vm.count("csv"))
    write_file(vm["csv"].as<std::string>(), "csv", overwrite,
               [&](std::ostream& out) { climvae::eval::write_csv(out, comparison); });
  if (vm.count("json"))
    write_file(vm["json"].as<std::string>(), "json", overwrite,
               [&](std::ostream& out) { climvae::eval::write_json(out, comparison); });
  if (vm.count("report"))
    write_report(vm["report"].as<std::string>(), overwrite, vm["python"].as<std::string>(), vm["report-script"].as<std::string>(),
                 observed_hourly, members,
                 comparison, ensemble.meta.seed,
                 {{"model", ensemble.meta.model_path},
                  {"generated", generated_path},
                  {"store", store_path},
                  {"seed", std::to_string(ensemble.meta.seed)},
                  {"scenario", ensemble.meta.scenario},
                  {"members", std::to_string(ensemble.meta.members) + " x " + std::to_string(ensemble.meta.num_hours) +
                                  " hours from " + climvae::format_iso_hour(ensemble.meta.start_hour)},
                  {"data", store.source},
                  {"cell", std::to_string(cell) + " (" + std::to_string(observed_cell.latitude) + " N, " +
                               std::to_string(observed_cell.longitude) + " E)"},
                  {"observed_moved_to_year", std::to_string(year)},
                  {"prepare_command", store.history},
                  {"generate_command", ensemble.meta.history},
                  {"evaluate_command", climvae::cli::command_line(argc, argv)},
                  {"created", climvae::utc_now_text()}});
  return 0;
}

}  // namespace

static const climvae::cli::Registration registration{"evaluate", run, kSummary};
