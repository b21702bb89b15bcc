#include "generate/conditioning.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "engine/random.hpp"
#include "generate/trace_window.hpp"
#include "model/standardise.hpp"

namespace climvae {

namespace {

// The decoder gives a mean; where it misses a known hour, the miss (residual) is autocorrelated
// weather that continues into the neighbouring unknown hours. Carried with this e-folding time:
constexpr double kResidualHours = 24;

// One request's conditioning: what every batch of members shares.
struct Conditioning {
  const ModelCell& cell;
  const TraceRequest& r;
  DecodeWindow window;             // the same decode window as generate_traces
  std::vector<float> warming;      // the scenario's warming of each requested hour
  std::vector<float> known;        // over the decode window, standardised; NaN where unknown
  std::vector<float> prior_k;      // round 0: a prior sample of the decode window, (time, member)
  std::vector<int64_t> before, after;  // nearest known hour on each side of every position (-1: none)
};

// Known hours, standardised as the model saw its training data (scenario warming removed), and
// round 0: a prior sample of the whole decode window, reference-year climate, no noise.
Conditioning prepare(Vae& vae, const ModelFile& model, const TraceRequest& r, const std::vector<float>& known_k) {
  const ModelCell& cell = model.cells.at(r.cell);
  Conditioning c{cell, r, decode_window(cell, r.start_hour, r.hours), {}, {}, {}, {}, {}};
  const int64_t length = c.window.hours();
  c.warming.assign(size_t(r.hours), 0.0f);
  apply_scenario(r.scenario, model, r.cell, r.start_hour, r.hours, 1, c.warming.data());
  c.known.assign(size_t(length), std::numeric_limits<float>::quiet_NaN());
  for (size_t t = 0; t < known_k.size(); ++t)
    if (std::isfinite(known_k[t]))
      c.known[size_t(c.window.skip) + t] = static_cast<float>(standardise(c.cell, known_k[t] - c.warming[t]));
  TraceRequest whole = r;
  whole.start_hour = r.start_hour - c.window.skip;
  whole.hours = length;
  whole.scenario = Scenario();
  whole.add_noise = false;
  c.prior_k = generate_traces(vae, model, whole);
  c.before.assign(size_t(length), -1);
  c.after.assign(size_t(length), -1);
  for (int64_t i = 0, last = -1; i < length; ++i) c.before[i] = last = std::isfinite(c.known[i]) ? i : last;
  for (int64_t i = length - 1, next = -1; i >= 0; --i) c.after[i] = next = std::isfinite(c.known[i]) ? i : next;
  return c;
}

// Device views and host mirrors for one batch of members.
struct BatchViews {
  View2 x;         // (batch, hours): the known hours and the current fill
  View3 eps;       // (batch, steps, latent): posterior draws
  View3 decoded;   // (batch, hours, 1)
  CellIndices cells;  // this cell's embedding row and decoder
  View2::HostMirror x_host;
  View3::HostMirror eps_host, decoded_host;
};

BatchViews batch_views(const Conditioning& c, int batch, int latent) {
  BatchViews v;
  const int steps = static_cast<int>(c.window.steps);
  v.x = View2("climvae::condition::x", batch, c.window.hours());
  v.eps = View3("climvae::condition::eps", batch, steps, latent);
  v.decoded = View3("climvae::condition::decoded", batch, c.window.hours(), 1);
  v.cells = CellIndices("climvae::condition::cells", batch);
  Kokkos::deep_copy(v.cells, c.r.cell);
  v.x_host = Kokkos::create_mirror_view(v.x);
  v.eps_host = Kokkos::create_mirror_view(v.eps);
  v.decoded_host = Kokkos::create_mirror_view(v.decoded);
  return v;
}

// Pseudo-Gibbs rounds for members m0 .. m0 + batch - 1 (a short last batch repeats its last
// member): start from the prior sample, then `iterations` times put the known hours in, encode,
// draw z from the posterior and decode. Leaves the last decode in v.decoded_host.
void impute(Vae& vae, const Conditioning& c, int m0, int iterations, BatchViews& v) {
  const int batch = static_cast<int>(v.x.extent(0)), latent = static_cast<int>(v.eps.extent(2));
  const int steps = static_cast<int>(c.window.steps);
  const int64_t length = c.window.hours();
  const int members = c.r.members;
  for (int b = 0; b < batch; ++b)
    for (int64_t i = 0; i < length; ++i) {
      const int member = std::min(m0 + b, members - 1);  // pad a short last batch
      v.x_host(b, i) = std::isfinite(c.known[i])
                           ? c.known[i]
                           : static_cast<float>(standardise(c.cell, c.prior_k[size_t(i) * members + member]));
    }
  for (int round = 0; round < iterations; ++round) {
    // Member m's posterior draws: a sub-stream of its own stream, one counter block per round.
    for (int b = 0; b < batch; ++b) {
      const uint64_t key = stream_key(member_stream(c.r.seed, c.r.cell, c.r.start_hour, m0 + b), kConditioningStream);
      for (int j = 0; j < steps * latent; ++j)
        v.eps_host(b, j / latent, j % latent) = standard_normal(key, uint64_t(round) * steps * latent + j);
    }
    Kokkos::deep_copy(v.x, v.x_host);
    Kokkos::deep_copy(v.eps, v.eps_host);
    vae.encode_sample_decode(v.x, v.cells, v.eps, v.decoded);
    Kokkos::deep_copy(v.decoded_host, v.decoded);
    for (int b = 0; b < batch; ++b)
      for (int64_t i = 0; i < length; ++i) v.x_host(b, i) = std::isfinite(c.known[i]) ? c.known[i] : v.decoded_host(b, i, 0);
  }
}

// Member `member` (row b of the batch) into out: known hours unchanged, the rest the last decode
// plus the residuals of the nearest known hours bridged into the gap, so it joins them smoothly.
void write_member(const Conditioning& c, const BatchViews& v, int b, int member, const std::vector<float>& known_k,
                  Real noise_sd, std::vector<float>& out) {
  const TraceRequest& r = c.r;
  auto bridged = [&](int64_t i) {
    double sum = 0, weights = 0;
    for (int64_t k : {c.before[i], c.after[i]})
      if (k >= 0) {
        const double w = std::exp(-std::fabs(double(i - k)) / kResidualHours);
        sum += w * (c.known[k] - v.decoded_host(b, k, 0));
        weights += w;
      }
    return v.decoded_host(b, i, 0) + sum / std::max(1.0, weights);
  };
  const uint64_t noise_key = stream_key(member_stream(r.seed, r.cell, r.start_hour, member), kObservationNoiseStream);
  for (int64_t t = 0; t < r.hours; ++t) {
    if (t < static_cast<int64_t>(known_k.size()) && std::isfinite(known_k[t])) {
      out[size_t(t) * r.members + member] = known_k[t];
      continue;
    }
    double v_t = bridged(c.window.skip + t);
    if (r.add_noise) v_t += noise_sd * standard_normal(noise_key, static_cast<uint64_t>(t));
    out[size_t(t) * r.members + member] = static_cast<float>(unstandardise(c.cell, v_t) + c.warming[t]);
  }
}

}  // namespace

size_t conditioning_bytes(const VaeConfig& config, int64_t hours, int members) {
  const int64_t window = most_decode_steps(hours) * Vae::kHoursPerStep;
  const int batch = std::min(members, generation_batch_size(config, static_cast<int>(window / Vae::kHoursPerStep)));
  // Round 0's generation, the traces, per window hour the known value and two nearest-known
  // indices, and per batch member x, decoded (device and host) and eps.
  const double bytes = double(generation_bytes(config, window, members)) + sizeof(float) * double(hours) * members +
                       double(window) * (sizeof(float) + 2 * sizeof(int64_t)) +
                       double(batch) * window * sizeof(Real) * 5;
  return static_cast<size_t>(bytes);
}

std::vector<float> condition_traces(Vae& vae, const ModelFile& model, const TraceRequest& r,
                                    const std::vector<float>& known_k, int iterations) {
  require(static_cast<int64_t>(known_k.size()) <= r.hours, "more known hours than requested hours");
  require(iterations >= 1, "conditioning needs at least one iteration");
  const Conditioning c = prepare(vae, model, r, known_k);
  const Real noise_sd = r.add_noise ? vae.noise_sd() : Real(0);
  const int batch = std::min(r.members, generation_batch_size(vae.config(), static_cast<int>(c.window.steps)));
  BatchViews v = batch_views(c, batch, vae.config().latent);
  std::vector<float> out(size_t(r.hours) * r.members);
  for (int m0 = 0; m0 < r.members; m0 += batch) {
    impute(vae, c, m0, iterations, v);
    for (int b = 0; b < std::min(batch, r.members - m0); ++b) write_member(c, v, b, m0 + b, known_k, noise_sd, out);
  }
  return out;
}

}  // namespace climvae
