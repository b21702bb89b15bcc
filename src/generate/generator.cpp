#include "generate/generator.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"
#include "model/seasonal.hpp"

namespace climvae {

namespace {

constexpr uint64_t kSharedWeatherStream = 0x5BA7EDULL;

int64_t floor_to_day(int64_t hour) { return hour - ((hour % 24) + 24) % 24; }

// The calibration noise (model/calibration.hpp) of hours [first_hour, first_hour + out.size()) of
// member `member`'s trace. Its normals mix, like the latent innovations, factors shared by the
// cells of the member (keyed by UTC hour, loaded as the model's most shared latent feature) with
// the cell's own.
void calibration_noise_of(const ModelFile& model, const TraceRequest& r, int member, uint64_t member_key,
                          int64_t first_hour, std::vector<float>& out) {
  const Calibration& cal = model.cells[r.cell].calibration;
  const int factors = r.spatial ? model.spatial_factors : 0;
  const float* l = factors > 0 ? model.cell_loadings(r.cell) + model.noise_feature * factors : nullptr;
  double communality = 0;
  for (int k = 0; k < factors; ++k) communality += double(l[k]) * l[k];
  const double own_weight = std::sqrt(std::max(0.0, 1.0 - communality));
  const uint64_t own_key = stream_key(member_key, 0xCA11B8A7EULL);
  const uint64_t shared_key = stream_key(stream_key(r.seed, kSharedWeatherStream ^ 0xCA11B8A7EULL), uint64_t(member));
  const auto normal = [&](int64_t t) {  // t: hours from the trace's start
    double e = own_weight * standard_normal(own_key, static_cast<uint64_t>(t));
    const uint64_t utc = static_cast<uint64_t>(r.start_hour + t);
    for (int k = 0; k < factors; ++k) e += l[k] * standard_normal(shared_key, utc * uint64_t(factors) + uint64_t(k));
    return e;
  };
  calibration_noise(cal.noise_phi, first_hour, static_cast<int64_t>(out.size()), normal, out.data());
}

}  // namespace

int generation_batch_size(const VaeConfig& config, int steps, size_t budget_bytes) {
  // Two widest decoder activations (32k x filters) dominate the workspace of one member.
  const size_t per_member = size_t(steps) * Vae::kHoursPerStep / 3 * config.filters * sizeof(Real) * 4;
  return static_cast<int>(std::clamp<size_t>(budget_bytes / std::max<size_t>(per_member, 1), 1, 32));
}

void validate_request(const ModelFile& model, const TraceRequest& r) {
  require(r.hours >= 1, "number of hours must be at least 1, got " + std::to_string(r.hours));
  require(r.members >= 1, "number of members must be at least 1, got " + std::to_string(r.members));
  require(r.first_member >= 0, "first member must not be negative, got " + std::to_string(r.first_member));
  require(r.cell >= 0 && r.cell < static_cast<int>(model.cells.size()),
          "cell " + std::to_string(r.cell) + " is not in the model (it has " + std::to_string(model.cells.size()) + ")");
  require(r.hours <= 24LL * 366 * 1000, "number of hours is absurdly large: " + std::to_string(r.hours));
  // The calendar (and the time axis of our files) covers years 1..9999.
  const int64_t first = hours_from_civil({1, 1, 1, 0}), last = hours_from_civil({9999, 12, 31, 23});
  require(r.start_hour >= first && r.start_hour + r.hours - 1 <= last,
          "the traces (" + std::to_string(r.hours) + " hours from hour " + std::to_string(r.start_hour) +
              " since 1970) leave the calendar's years 1-9999");
  // A scenario path that does not cover the traces' years fails here rather than mid-run.
  if (r.scenario.transient) {
    scenario_warming_k(r.scenario, model, r.cell, fractional_year(r.start_hour));
    scenario_warming_k(r.scenario, model, r.cell, fractional_year(r.start_hour + r.hours - 1));
  } else {
    scenario_warming_k(r.scenario, model, r.cell,
                       (r.scenario.slice_year == 0 ? model.reference_year : r.scenario.slice_year) + 0.5);
  }
}

std::vector<float> generate_traces(Vae& vae, const ModelFile& model, const TraceRequest& r) {
  return generate_trace_chunk(vae, model, r, 0, r.hours);
}

std::vector<float> generate_trace_chunk(Vae& vae, const ModelFile& model, const TraceRequest& r, int64_t first_hour,
                                        int64_t chunk_hours) {
  validate_request(model, r);
  require(first_hour >= 0 && chunk_hours >= 1 && first_hour + chunk_hours <= r.hours,
          "chunk of hours [" + std::to_string(first_hour) + ", " + std::to_string(first_hour + chunk_hours) +
              ") is not inside the trace of " + std::to_string(r.hours) + " hours");
  const ModelCell& cell = model.cells[r.cell];
  const int latent = vae.config().latent;

  // The model learned windows that start at local solar midnight: decode from the local
  // midnight at or before the requested start and drop the hours before it.
  const int64_t local_start = r.start_hour + cell.utc_offset_hours;
  const int64_t origin = floor_to_day(local_start);
  const int64_t skip = local_start - origin;
  const int64_t total_steps = (skip + r.hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep;
  // Latent steps [s0, s1) are decoded: the chunk plus the margin; s0 is a multiple of 4 so that
  // every position meets the same arithmetic as in a decode of the whole trace.
  const int64_t h0 = skip + first_hour, h1 = skip + first_hour + chunk_hours;  // decoded hours
  const int64_t s0 = std::max<int64_t>(0, (h0 / Vae::kHoursPerStep - kChunkMarginSteps) / 4 * 4);
  const int64_t s1 = std::min(total_steps, (h1 + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep + kChunkMarginSteps);
  const int steps = static_cast<int>(s1 - s0);
  const int64_t hours_decoded = int64_t(steps) * Vae::kHoursPerStep;
  const int64_t first_decoded = h0 - s0 * Vae::kHoursPerStep;  // chunk's first hour in the decoded piece

  // The prior is sampled over steps [p0, s1): the temporal prior's chains start at the trace's
  // first step, so a chunk replays them from there (10 numbers a step) to continue exactly where
  // the whole trace is; the seasonal prior's steps are independent.
  const int64_t p0 = vae.config().prior == PriorKind::temporal ? 0 : s0;
  const int sampled = static_cast<int>(s1 - p0);
  std::vector<float> features(size_t(s1) * kSeasonalFeatures);
  seasonal_features(origin, static_cast<int>(s1), features.data(), cell.season_shift_days);
  const int batch = std::min(r.members, generation_batch_size(vae.config(), steps));
  View3 season("climvae::generate::season", batch, sampled, kSeasonalFeatures);
  {
    auto host = Kokkos::create_mirror_view(season);
    for (int b = 0; b < batch; ++b)
      std::copy(features.begin() + p0 * kSeasonalFeatures, features.end(), &host(b, 0, 0));
    Kokkos::deep_copy(season, host);
  }
  CellIndices cells("climvae::generate::cells", batch);  // every member samples this cell's prior
  Kokkos::deep_copy(cells, r.cell);
  View3 eps("climvae::generate::eps", batch, sampled, latent);
  const int factors = r.spatial ? model.spatial_factors : 0;
  View1 loadings("climvae::generate::loadings", size_t(factors) * latent);
  if (factors > 0) {
    auto host = Kokkos::create_mirror_view(loadings);
    std::copy(model.cell_loadings(r.cell), model.cell_loadings(r.cell) + size_t(factors) * latent, host.data());
    Kokkos::deep_copy(loadings, host);
  }
  const int64_t first_block = calendar_block(origin, p0);
  View3 z_sampled("climvae::generate::z_sampled", batch, sampled, latent);
  View3 z = p0 == s0 ? z_sampled : View3("climvae::generate::z", batch, steps, latent);
  View3 decoded("climvae::generate::decoded", batch, hours_decoded, 1);
  auto decoded_host = Kokkos::create_mirror_view(decoded);
  float noise_sd = 0;
  if (r.add_noise) {
    const auto& s = vae.params().layout.find("noise_log_var");
    Real nlv = 0;
    Kokkos::deep_copy(nlv, Kokkos::subview(vae.params().values, s.offset));
    noise_sd = std::exp(0.5f * nlv);
  }

  std::vector<float> out(size_t(chunk_hours) * r.members);
  const bool calibrated = r.calibrated && !cell.calibration.empty();
  std::vector<float> weather_noise(calibrated ? size_t(chunk_hours) : 0);
  for (int m0 = 0; m0 < r.members; m0 += batch) {
    const int nb = std::min(batch, r.members - m0);
    // One stream per (seed, cell, member, start): counters index latent values (global step *
    // latent + feature), then noise (hour of the trace).
    const uint64_t seed = r.seed, cell_id = static_cast<uint64_t>(r.cell);
    const uint64_t start_id = static_cast<uint64_t>(r.start_hour);
    const uint64_t first_counter = static_cast<uint64_t>(p0) * latent;
    const int member0 = r.first_member + m0;
    Real* e = eps.data();
    const int per_member = sampled * latent;
    // With spatial factors, a step's innovation is sum_k L_k xi_k + sqrt(1 - sum_k L_k^2) own, the
    // factors xi keyed by (seed, member, calendar block) alone: shared by every cell of the member.
    const Real* load = loadings.data();
    Kokkos::parallel_for(
        "climvae::generate::draw_eps", RangePolicy(0, batch * per_member), KOKKOS_LAMBDA(const int i) {
          const int b = i / per_member, j = i % per_member;
          const uint64_t key = stream_key(stream_key(stream_key(seed, cell_id), start_id), uint64_t(member0 + b));
          const Real own = standard_normal(key, first_counter + uint64_t(j));
          if (factors == 0) {
            e[i] = own;
            return;
          }
          const uint64_t shared = stream_key(stream_key(seed, kSharedWeatherStream), uint64_t(member0 + b));
          const uint64_t block = static_cast<uint64_t>(first_block + j / latent);
          const Real* l = load + (j % latent) * factors;
          Real acc = 0, communality = 0;
          for (int k = 0; k < factors; ++k) {
            acc += l[k] * standard_normal(shared, block * uint64_t(factors) + uint64_t(k));
            communality += l[k] * l[k];
          }
          e[i] = acc + kx::sqrt(communality < Real(1) ? Real(1) - communality : Real(0)) * own;
        });
    vae.sample_prior(season, cells, eps, z_sampled);
    if (p0 != s0)
      Kokkos::deep_copy(z, Kokkos::subview(z_sampled, Kokkos::ALL, Kokkos::make_pair(int(s0 - p0), sampled), Kokkos::ALL));
    const auto zb = Kokkos::subview(z, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const auto db = Kokkos::subview(decoded, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const CellIndices cells_b = Kokkos::subview(cells, Kokkos::make_pair(0, nb));
    vae.decode(View3(zb), cells_b, View3(db));
    Kokkos::deep_copy(decoded_host, decoded);
    for (int b = 0; b < nb; ++b) {
      const uint64_t member_key = stream_key(stream_key(stream_key(r.seed, cell_id), start_id), uint64_t(member0 + b));
      const uint64_t noise_key = stream_key(member_key, 0x0B5E47ULL);
      if (calibrated) calibration_noise_of(model, r, member0 + b, member_key, first_hour, weather_noise);
      for (int64_t t = 0; t < chunk_hours; ++t) {
        double v = decoded_host(b, first_decoded + t, 0);
        if (calibrated) v = calibrated_value(cell.calibration, v, weather_noise[t], local_start + first_hour + t);
        if (r.add_noise) v += noise_sd * standard_normal(noise_key, static_cast<uint64_t>(first_hour + t));
        out[size_t(t) * r.members + m0 + b] = static_cast<float>(cell.offset_k + cell.scale_k * v);
      }
    }
  }
  apply_scenario(r.scenario, model, r.cell, r.start_hour + first_hour, chunk_hours, r.members, out.data());
  return out;
}

}  // namespace climvae
