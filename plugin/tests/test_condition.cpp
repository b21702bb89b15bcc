// Conditioning on observed hours (14 days of Paris, July 2021): known hours come back exactly,
// a two-day gap is filled with values closer to the truth than unconditioned samples and joined
// to its edges without jumps, a continuation starts where the observations end, and results
// depend only on the request. Usage: test_condition MODEL OBSERVED.txt
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "climvae.hpp"

using climvae::plugin::Model;

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += !ok;
}

double mean_abs(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  std::vector<float> truth;
  std::ifstream in(argv[2]);
  for (float v; in >> v;) truth.push_back(v);
  const int64_t hours = static_cast<int64_t>(truth.size());  // 336, degC
  const Model model(argv[1]);

  climvae_request r = climvae::plugin::default_request();
  r.cell = 0;
  r.start_hour = climvae::plugin::parse_time("2021-07-01T00");
  r.hours = hours;
  r.members = 10;
  r.seed = 5;
  r.units = CLIMVAE_UNITS_CELSIUS;
  r.target_year = 2021;  // the observations' own year
  r.scenario = CLIMVAE_SCENARIO_TREND;

  // Typical hour-to-hour change of the observations.
  std::vector<double> steps;
  for (int64_t t = 1; t < hours; ++t) steps.push_back(std::fabs(truth[t] - truth[t - 1]));
  const double hourly = mean_abs(steps);

  // (a) A gap of 48 hours in the middle.
  const int64_t g0 = 150, g1 = 198;
  std::vector<float> known = truth;
  for (int64_t t = g0; t < g1; ++t) known[t] = std::nanf("");
  const std::vector<float> filled = model.condition(r, known);
  const std::vector<float> prior = model.generate(r);
  bool exact = true, finite = true;
  std::vector<double> err_filled, err_prior, edge_jumps;
  for (int m = 0; m < r.members; ++m) {
    const float* f = &filled[m * hours];
    const float* p = &prior[m * hours];
    for (int64_t t = 0; t < hours; ++t) {
      if (t < g0 || t >= g1) exact = exact && f[t] == truth[t];
      finite = finite && std::isfinite(f[t]) && f[t] > -10 && f[t] < 45;
    }
    for (int64_t t = g0; t < g1; ++t) {
      err_filled.push_back(std::fabs(f[t] - truth[t]));
      err_prior.push_back(std::fabs(p[t] - truth[t]));
    }
    edge_jumps.push_back(std::fabs(f[g0] - f[g0 - 1]));
    edge_jumps.push_back(std::fabs(f[g1] - f[g1 - 1]));
  }
  check(exact, "gap: the known hours come back unchanged in every member");
  check(finite, "gap: filled hours are finite and between -10 and 45 degC");
  char line[200];
  std::snprintf(line, sizeof line, "gap: mean error %.2f degC conditioned < %.2f degC unconditioned",
                mean_abs(err_filled), mean_abs(err_prior));
  check(mean_abs(err_filled) < mean_abs(err_prior), line);
  std::snprintf(line, sizeof line, "gap: mean jump at the gap's edges %.2f degC <= 3 x the observed hourly change %.2f",
                mean_abs(edge_jumps), hourly);
  check(mean_abs(edge_jumps) <= 3 * hourly, line);
  double spread = 0;
  for (int64_t t = g0; t < g1; ++t) spread += std::fabs(filled[t] - filled[hours + t]);
  check(spread > 0, "gap: members fill the gap differently");

  // (b) Continue: the first 240 hours known, the last 96 generated.
  const int64_t known_hours = 240;
  const std::vector<float> first(truth.begin(), truth.begin() + known_hours);
  const std::vector<float> cont = model.condition(r, first);
  std::vector<double> jumps;
  for (int m = 0; m < r.members; ++m) jumps.push_back(std::fabs(cont[m * hours + known_hours] - truth[known_hours - 1]));
  std::snprintf(line, sizeof line, "continue: mean jump after the last known hour %.2f degC <= 3 x %.2f",
                mean_abs(jumps), hourly);
  check(mean_abs(jumps) <= 3 * hourly, line);

  // (c) Member m depends only on (seed, cell, start, m).
  climvae_request one = r;
  one.members = 1;
  const std::vector<float> again = model.condition(one, known);
  check(std::equal(again.begin(), again.end(), filled.begin()), "member 0 is the same alone or among 10");

  // (d) Gaps filled in place: `out` is the caller's `known` buffer (its first `hours` values).
  std::vector<float> in_place(static_cast<size_t>(hours * r.members));
  std::copy(known.begin(), known.end(), in_place.begin());
  const climvae_status s = climvae_condition(model.get(), &r, in_place.data(), hours, in_place.data(),
                                             static_cast<int64_t>(in_place.size()));
  check(s == CLIMVAE_OK && in_place == filled, "in place: every member equals its result with separate buffers");

  // (e) The C++ wrapper: a bad length named as such (not a NULL buffer), and a request beyond the
  // limits refused before the wrapper allocates anything (no overflow, no bad_alloc).
  auto status_of = [&](const climvae_request& q, const std::vector<float>* given) {
    try {
      given ? model.condition(q, *given) : model.generate(q);
    } catch (const climvae::plugin::Error& e) {
      return e.status();
    } catch (const std::exception&) {
      return CLIMVAE_ERR_INTERNAL;
    }
    return CLIMVAE_OK;
  };
  climvae_request bad = r;
  bad.hours = 0;
  check(status_of(bad, nullptr) == CLIMVAE_ERR_BAD_LENGTH, "wrapper: 0 hours is CLIMVAE_ERR_BAD_LENGTH");
  const std::vector<float> none;
  check(status_of(r, &none) == CLIMVAE_ERR_BAD_LENGTH,
        "wrapper: no known hours is CLIMVAE_ERR_BAD_LENGTH");
  bad.hours = int64_t(1) << 40;
  check(status_of(bad, nullptr) == CLIMVAE_ERR_TOO_LARGE, "wrapper: 2^40 hours is CLIMVAE_ERR_TOO_LARGE");
  bad.hours = int64_t(1) << 62;
  bad.members = 4;
  check(status_of(bad, &known) == CLIMVAE_ERR_TOO_LARGE, "wrapper: 2^62 hours x 4 members is CLIMVAE_ERR_TOO_LARGE");
  bad.hours = 21474;
  bad.members = 100000;  // within 2^31 values, beyond the handle's memory limit
  check(status_of(bad, nullptr) == CLIMVAE_ERR_TOO_LARGE, "wrapper: beyond the memory limit is CLIMVAE_ERR_TOO_LARGE");
  std::printf("test_condition: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
