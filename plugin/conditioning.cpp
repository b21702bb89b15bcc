#include "conditioning.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "engine/random.hpp"
#include "model/seasonal.hpp"

namespace climvae::plugin {

namespace {

int64_t floor_to_day(int64_t hour) { return hour - ((hour % 24) + 24) % 24; }

// The decoder gives a mean; where it misses a known hour, the miss (residual) is autocorrelated
// weather that continues into the neighbouring unknown hours. Carried with this e-folding time:
constexpr double kResidualHours = 24;

}  // namespace

std::vector<float> condition_traces(Vae& vae, const ModelFile& model, const TraceRequest& r,
                                    const std::vector<float>& known_k, int iterations, std::mutex& encoder_lock) {
  require(static_cast<int64_t>(known_k.size()) <= r.hours, "more known hours than requested hours");
  require(iterations >= 1, "conditioning needs at least one iteration");
  const ModelCell& cell = model.cells.at(r.cell);
  const int latent = vae.config().latent;

  // The same decode window as generate_traces: from the local midnight at or before the start.
  const int64_t local_start = r.start_hour + cell.utc_offset_hours;
  const int64_t skip = local_start - floor_to_day(local_start);
  const int steps = static_cast<int>((skip + r.hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep);
  const int64_t length = int64_t(steps) * Vae::kHoursPerStep;

  // Known hours, standardised as the model saw its training data (scenario warming removed).
  std::vector<float> warming(size_t(r.hours), 0.0f);
  apply_scenario(r.scenario, model, r.cell, r.start_hour, r.hours, 1, warming.data());
  std::vector<float> known(size_t(length), std::numeric_limits<float>::quiet_NaN());
  for (size_t t = 0; t < known_k.size(); ++t)
    if (std::isfinite(known_k[t]))
      known[size_t(skip) + t] = static_cast<float>((known_k[t] - warming[t] - cell.offset_k) / cell.scale_k);

  // Round 0: a prior sample of the whole decode window, reference-year climate, no noise.
  TraceRequest whole = r;
  whole.start_hour = r.start_hour - skip;
  whole.hours = length;
  whole.scenario = Scenario();
  whole.add_noise = false;
  const std::vector<float> prior_k = generate_traces(vae, model, whole);

  float noise_sd = 0;
  if (r.add_noise) {
    Real nlv = 0;
    Kokkos::deep_copy(nlv, Kokkos::subview(vae.params().values, vae.params().layout.find("noise_log_var").offset));
    noise_sd = std::exp(0.5f * nlv);
  }

  const int batch = std::min(r.members, generation_batch_size(vae.config(), steps));
  View2 x("climvae::condition::x", batch, length);
  View3 season("climvae::condition::season", batch, steps, kSeasonalFeatures);
  View3 eps("climvae::condition::eps", batch, steps, latent);
  CellIndices cells("climvae::condition::cells", batch);  // this cell's embedding row, prior and decoder
  Kokkos::deep_copy(cells, r.cell);
  auto x_host = Kokkos::create_mirror_view(x);
  auto eps_host = Kokkos::create_mirror_view(eps);
  Kokkos::View<Real***, Kokkos::LayoutRight, Kokkos::HostSpace> decoded_host("climvae::condition::decoded", batch,
                                                                            length, 1);
  {
    std::vector<float> features(size_t(steps) * kSeasonalFeatures);
    seasonal_features(local_start - skip, steps, features.data(), cell.season_shift_days);
    auto host = Kokkos::create_mirror_view(season);
    for (int b = 0; b < batch; ++b) std::copy(features.begin(), features.end(), &host(b, 0, 0));
    Kokkos::deep_copy(season, host);
  }

  std::vector<float> out(size_t(r.hours) * r.members);
  const uint64_t cell_id = static_cast<uint64_t>(r.cell), start_id = static_cast<uint64_t>(r.start_hour);
  for (int m0 = 0; m0 < r.members; m0 += batch) {
    const int nb = std::min(batch, r.members - m0);
    for (int b = 0; b < batch; ++b)
      for (int64_t i = 0; i < length; ++i) {
        const int member = std::min(m0 + b, r.members - 1);  // pad a short last batch
        x_host(b, i) = std::isfinite(known[i]) ? known[i]
                                               : static_cast<float>((prior_k[size_t(i) * r.members + member] -
                                                                     cell.offset_k) / cell.scale_k);
      }
    for (int round = 0; round < iterations; ++round) {
      // Member m's posterior draws: a stream keyed like generation's, one counter block per round.
      for (int b = 0; b < batch; ++b) {
        const uint64_t key = stream_key(stream_key(stream_key(stream_key(r.seed, cell_id), start_id),
                                                   uint64_t(m0 + b)), 0xC0D1710ULL);
        for (int j = 0; j < steps * latent; ++j)
          eps_host(b, j / latent, j % latent) = standard_normal(key, uint64_t(round) * steps * latent + j);
      }
      Kokkos::deep_copy(x, x_host);
      Kokkos::deep_copy(eps, eps_host);
      {
        std::lock_guard<std::mutex> lock(encoder_lock);
        vae.forward_backward(x, season, cells, eps, false);
      }
      Kokkos::deep_copy(decoded_host, vae.reconstruction());
      for (int b = 0; b < batch; ++b)
        for (int64_t i = 0; i < length; ++i) x_host(b, i) = std::isfinite(known[i]) ? known[i] : decoded_host(b, i, 0);
    }
    // Nearest known hour on each side of every position (-1: none).
    std::vector<int64_t> before(size_t(length), -1), after(size_t(length), -1);
    for (int64_t i = 0, last = -1; i < length; ++i) before[i] = last = std::isfinite(known[i]) ? i : last;
    for (int64_t i = length - 1, next = -1; i >= 0; --i) after[i] = next = std::isfinite(known[i]) ? i : next;
    for (int b = 0; b < nb; ++b) {
      const int member = m0 + b;
      // Bridge the residuals of the nearest known hours into the gap, so it joins them smoothly.
      auto bridged = [&](int64_t i) {
        double sum = 0, weights = 0;
        for (int64_t k : {before[i], after[i]})
          if (k >= 0) {
            const double w = std::exp(-std::fabs(double(i - k)) / kResidualHours);
            sum += w * (known[k] - decoded_host(b, k, 0));
            weights += w;
          }
        return decoded_host(b, i, 0) + sum / std::max(1.0, weights);
      };
      const uint64_t noise_key =
          stream_key(stream_key(stream_key(stream_key(r.seed, cell_id), start_id), uint64_t(member)), 0x0B5E47ULL);
      for (int64_t t = 0; t < r.hours; ++t) {
        const size_t i = size_t(skip + t);
        if (t < static_cast<int64_t>(known_k.size()) && std::isfinite(known_k[t])) {
          out[size_t(t) * r.members + member] = known_k[t];
          continue;
        }
        double v = bridged(static_cast<int64_t>(i));
        if (r.add_noise) v += noise_sd * standard_normal(noise_key, static_cast<uint64_t>(t));
        out[size_t(t) * r.members + member] = static_cast<float>(cell.offset_k + cell.scale_k * v + warming[t]);
      }
    }
  }
  return out;
}

}  // namespace climvae::plugin
