// climvae evaluate: how faithfully a generated ensemble reproduces the observed climate of one
// store cell (monthly means/spread/distributions, diurnal cycles, autocorrelation).
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/error.hpp"
#include "data/store.hpp"
#include "eval/statistics.hpp"
#include "generate/ensemble_file.hpp"

namespace {

constexpr double kZeroCelsiusInKelvin = 273.15;
const char* const kSummary = "compare generated traces with the observed store (fidelity table, CSV, JSON)";

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

template <typename Write>
void write_file(const std::string& path, const std::string& option, Write write) {
  std::ofstream out(path);
  climvae::require(out.good(), "cannot write --" + option + " file '" + path + "'");
  write(out);
  out.close();
  climvae::require(!out.fail(), "writing --" + option + " file '" + path + "' failed");
}

int run(int argc, char** argv) {
  namespace po = climvae::cli::po;
  po::options_description options("climvae evaluate");
  options.add_options()
      ("store", po::value<std::string>()->required(), "observed cell store (from climvae prepare)")
      ("generated", po::value<std::string>()->required(), "generated ensemble (from climvae generate)")
      ("csv", po::value<std::string>(), "also write the comparison as CSV to this file")
      ("json", po::value<std::string>(), "also write the comparison as JSON to this file")
      ("cell", po::value<int>()->default_value(0), "store cell the ensemble was generated for (0-based)");
  po::variables_map vm;
  if (!climvae::cli::parse("evaluate", kSummary, options, argc, argv, vm)) return 0;

  const std::string store_path = vm["store"].as<std::string>();
  const std::string generated_path = vm["generated"].as<std::string>();
  const int cell = vm["cell"].as<int>();

  const climvae::Store store = climvae::read_store(store_path);
  climvae::require(cell >= 0 && cell < static_cast<int>(store.cells.size()),
                   "--cell " + std::to_string(cell) + " is outside store '" + store_path + "', which has " +
                       std::to_string(store.cells.size()) + " cells");
  const climvae::Ensemble ensemble = climvae::read_ensemble(generated_path);
  if (!climvae::cli::is_root()) return 0;  // the statistics are cheap: rank 0 does them alone

  // Files from other tools may carry no target year: compare with the store's own climate then.
  const int year = ensemble.meta.target_year != 0 ? ensemble.meta.target_year : store.reference_year;
  const auto& observed_cell = store.cells[cell];
  const auto observed = climvae::eval::compute_statistics(observed_series(store, cell, year));
  const auto generated =
      climvae::eval::compute_statistics(generated_members(ensemble, observed_cell.utc_offset_hours));
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
    write_file(vm["csv"].as<std::string>(), "csv",
               [&](std::ostream& out) { climvae::eval::write_csv(out, comparison); });
  if (vm.count("json"))
    write_file(vm["json"].as<std::string>(), "json",
               [&](std::ostream& out) { climvae::eval::write_json(out, comparison); });
  return 0;
}

}  // namespace

static const climvae::cli::Registration registration{"evaluate", run, kSummary};
