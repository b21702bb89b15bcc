// Warming scenarios: the model represents its reference year's climate (the trend was removed
// to that year in training); a scenario adds warming back on top of generated traces.
//   - learned trend: each cell's own fitted trend (K/year) times (year - reference year);
//   - rate:          a user-given K/year, the same for every cell;
//   - table:         annual offsets (K relative to the reference year, e.g. a scenario's global
//                    mean temperature path), linear between listed years, optionally scaled per
//                    cell by the cell's learned trend over `table_pattern_rate_k_per_year`.
// A time slice evaluates the path at one year for the whole trace; a transient run evaluates it
// at each hour's own date, so a 2030-2060 trace warms along the path.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "model/model_file.hpp"

namespace climvae {

struct Scenario {
  enum class Path { none, learned_trend, rate, table };
  Path path = Path::none;
  double rate_k_per_year = 0;                 // Path::rate
  std::map<int, double> table_k;              // Path::table: year -> K relative to the reference year
  double table_pattern_rate_k_per_year = 0;   // > 0: scale table offsets by cell trend / this rate
  bool transient = false;                     // false: time slice at slice_year
  int slice_year = 0;                         // 0: the model's reference year
  double offset_k = 0;                        // constant warming added on top of the path

  // One line for logs and the `scenario` attribute of output files.
  std::string describe(int reference_year) const;
};

// Physical bounds (docs/user-guide.md, "What climvae refuses"). Beyond them a result is no
// climate any more: a constant offset beyond 30 K, a rate beyond 1 K/year (observed warming is
// about 0.02), a year outside 1..9999, or any generated value outside 150..350 K (colder than
// any air ever measured near the surface, or hotter than boiling at altitude).
constexpr double kMaxWarmingOffsetK = 30;         // |offset_k| and |table offsets|
constexpr double kMaxWarmingRateKPerYear = 1;     // |rate_k_per_year|
constexpr double kMinPatternRateKPerYear = 1e-3;  // table_pattern_rate_k_per_year, when given,
constexpr double kMaxPatternRateKPerYear = 1;     //   lies in this range
constexpr int kFirstScenarioYear = 1, kLastScenarioYear = 9999;
constexpr double kMinPlausibleK = 150, kMaxPlausibleK = 350;

// The one check of a scenario's values (command line, plugin and BMI alike): throws Error naming
// the value and its bounds for anything outside the bounds above, NaN and infinities included.
void validate_scenario(const Scenario& s);

// The final check before generated values are written or returned: throws Error naming `what`,
// the index and the value of the first one that is not finite or outside kMinPlausibleK..kMaxPlausibleK.
void check_generated_values(const float* tas_k, size_t count, const std::string& what);

// Warming (K) relative to the model's reference year for `cell` at fractional year `year`
// (2030.5 is mid-2030). Throws Error for a year outside a table's range.
double scenario_warming_k(const Scenario& s, const ModelFile& model, int cell, double year);

// Adds the scenario's warming to traces laid out (time, member), first hour `start_hour` (UTC).
void apply_scenario(const Scenario& s, const ModelFile& model, int cell, int64_t start_hour, int64_t hours,
                    int members, float* tas_k);

// Reads a warming table: CSV lines `year,offset_k` (a header line and # comments allowed).
// Throws Error naming the file and line for anything else, unsorted or duplicated years.
std::map<int, double> read_warming_table(const std::string& path);

}  // namespace climvae
