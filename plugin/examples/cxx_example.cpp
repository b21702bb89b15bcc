// The C++ RAII wrapper: open (closed at scope exit), find the cell nearest Berlin, 5 members of
// a week in 2050 under the learned trend, and an error as an exception. Usage: cxx_example MODEL
#include <algorithm>
#include <cstdio>

#include "climvae.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    const climvae::plugin::Model model(argv[1]);
    climvae_request r = climvae::plugin::default_request();
    r.cell = model.find_cell(52.52, 13.40);
    r.start_hour = climvae::plugin::parse_time("2050-01-10");
    r.hours = 24 * 7;
    r.members = 5;
    r.units = CLIMVAE_UNITS_CELSIUS;
    r.scenario = CLIMVAE_SCENARIO_TREND;
    r.target_year = 2050;
    const std::vector<float> t = model.generate(r);
    const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
    std::printf("cell %d (reference year %d): %d members x %lld h, %.1f .. %.1f degC\n", r.cell,
                model.info().reference_year, r.members, static_cast<long long>(r.hours), *lo, *hi);
    r.cell = 99;
    model.generate(r);
  } catch (const climvae::plugin::Error& e) {
    std::printf("caught %s: %s\n", climvae_status_name(e.status()), e.what());
    return e.status() == CLIMVAE_ERR_UNKNOWN_CELL ? 0 : 1;
  }
  return 1;
}
