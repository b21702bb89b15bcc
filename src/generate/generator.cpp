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

int64_t floor_to_day(int64_t hour) { return hour - ((hour % 24) + 24) % 24; }

}  // namespace

int generation_batch_size(const VaeConfig& config, int steps, size_t budget_bytes) {
  // Two widest decoder activations (32k x filters) dominate the workspace of one member.
  const size_t per_member = size_t(steps) * Vae::kHoursPerStep / 3 * config.filters * sizeof(Real) * 4;
  return static_cast<int>(std::clamp<size_t>(budget_bytes / std::max<size_t>(per_member, 1), 1, 32));
}

std::vector<float> generate_traces(Vae& vae, const ModelFile& model, const TraceRequest& r) {
  require(r.hours >= 1, "number of hours must be at least 1, got " + std::to_string(r.hours));
  require(r.members >= 1, "number of members must be at least 1, got " + std::to_string(r.members));
  require(r.cell >= 0 && r.cell < static_cast<int>(model.cells.size()),
          "cell " + std::to_string(r.cell) + " is not in the model (it has " + std::to_string(model.cells.size()) + ")");
  require(r.hours <= 24LL * 366 * 1000, "number of hours is absurdly large: " + std::to_string(r.hours));
  const ModelCell& cell = model.cells[r.cell];
  const int latent = vae.config().latent;

  // The model learned windows that start at local solar midnight: decode from the local
  // midnight at or before the requested start and drop the hours before it.
  const int64_t local_start = r.start_hour + cell.utc_offset_hours;
  const int64_t origin = floor_to_day(local_start);
  const int64_t skip = local_start - origin;
  const int steps = static_cast<int>((skip + r.hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep);
  const int64_t hours_decoded = int64_t(steps) * Vae::kHoursPerStep;

  std::vector<float> features(size_t(steps) * kSeasonalFeatures);
  seasonal_features(origin, steps, features.data(), cell.season_shift_days);
  const int batch = std::min(r.members, generation_batch_size(vae.config(), steps));
  View3 season("climvae::generate::season", batch, steps, kSeasonalFeatures);
  {
    auto host = Kokkos::create_mirror_view(season);
    for (int b = 0; b < batch; ++b)
      std::copy(features.begin(), features.end(), &host(b, 0, 0));
    Kokkos::deep_copy(season, host);
  }
  CellIndices cells("climvae::generate::cells", batch);  // every member samples this cell's prior
  Kokkos::deep_copy(cells, r.cell);
  View3 prior_out("climvae::generate::prior", batch, steps, 2 * latent);
  vae.prior(season, cells, prior_out);
  View3 z("climvae::generate::z", batch, steps, latent);
  View3 decoded("climvae::generate::decoded", batch, hours_decoded, 1);
  auto decoded_host = Kokkos::create_mirror_view(decoded);
  float noise_sd = 0;
  if (r.add_noise) {
    const auto& s = vae.params().layout.find("noise_log_var");
    Real nlv = 0;
    Kokkos::deep_copy(nlv, Kokkos::subview(vae.params().values, s.offset));
    noise_sd = std::exp(0.5f * nlv);
  }

  std::vector<float> out(size_t(r.hours) * r.members);
  for (int m0 = 0; m0 < r.members; m0 += batch) {
    const int nb = std::min(batch, r.members - m0);
    // One stream per (seed, cell, member, start): counters index latent values, then noise.
    const uint64_t seed = r.seed, cell_id = static_cast<uint64_t>(r.cell);
    const uint64_t start_id = static_cast<uint64_t>(r.start_hour);
    const Real* p = prior_out.data();
    Real* zz = z.data();
    const int per_member = steps * latent;
    Kokkos::parallel_for(
        "climvae::generate::sample_prior", RangePolicy(0, nb * per_member), KOKKOS_LAMBDA(const int i) {
          const int b = i / per_member, j = i % per_member;
          const int step = j / latent, f = j % latent;
          const uint64_t key = stream_key(stream_key(stream_key(seed, cell_id), start_id), uint64_t(m0 + b));
          const int base = (b * steps + step) * 2 * latent;
          zz[i] = p[base + f] + kx::exp(Real(0.5) * p[base + latent + f]) * standard_normal(key, uint64_t(j));
        });
    const auto zb = Kokkos::subview(z, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const auto db = Kokkos::subview(decoded, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const CellIndices cells_b = Kokkos::subview(cells, Kokkos::make_pair(0, nb));
    vae.decode(View3(zb), cells_b, View3(db));
    Kokkos::deep_copy(decoded_host, decoded);
    for (int b = 0; b < nb; ++b) {
      const int member = m0 + b;
      const uint64_t noise_key = stream_key(stream_key(stream_key(stream_key(r.seed, cell_id), start_id), uint64_t(member)),
                                            0x0B5E47ULL);
      for (int64_t t = 0; t < r.hours; ++t) {
        double v = decoded_host(b, skip + t, 0);
        if (r.add_noise) v += noise_sd * standard_normal(noise_key, static_cast<uint64_t>(t));
        out[size_t(t) * r.members + member] = static_cast<float>(cell.offset_k + cell.scale_k * v);
      }
    }
  }
  apply_scenario(r.scenario, model, r.cell, r.start_hour, r.hours, r.members, out.data());
  return out;
}

}  // namespace climvae
