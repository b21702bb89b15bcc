#include "generate/generator.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>
#include <string>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "common/linear_solve.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"
#include "generate/trace_window.hpp"
#include "model/seasonal.hpp"
#include "model/standardise.hpp"

namespace climvae {

namespace {

// The latent steps one chunk of a trace needs (see generate_trace_chunk).
struct ChunkSteps {
  int64_t s0 = 0, s1 = 0;     // decoded: the chunk's steps and a margin on each side
  int64_t p0 = 0;             // sampled from (s0, or 0 when the prior's chains must be replayed)
  int64_t first_decoded = 0;  // the chunk's first hour in the decoded piece
  int steps() const { return static_cast<int>(s1 - s0); }
  int sampled() const { return static_cast<int>(s1 - p0); }
};

ChunkSteps chunk_steps(const DecodeWindow& w, PriorKind prior, int64_t first_hour, int64_t chunk_hours) {
  constexpr int64_t H = Vae::kHoursPerStep;
  const int64_t h0 = w.skip + first_hour, h1 = w.skip + first_hour + chunk_hours;  // decoded hours
  ChunkSteps c;
  // Latent steps [s0, s1) are decoded: the chunk's steps and kChunkMarginSteps whole steps on
  // each side, more than the decoder's reach, so no hour of the chunk sees the piece's edges. Any
  // whole step may start the piece: at every decoder layer a step spans a multiple of the layer's
  // stride (2, 4, ..., 32 positions, then 96 hours), so each hour keeps its phase and meets the
  // same taps as in a decode of the whole trace; the prior's numbers are keyed by global step.
  c.s0 = std::max<int64_t>(0, h0 / H - kChunkMarginSteps);
  c.s1 = std::min(w.steps, (h1 + H - 1) / H + kChunkMarginSteps);
  c.first_decoded = h0 - c.s0 * H;
  // The temporal prior's chains start at the trace's first step, so a chunk replays them from
  // there (10 numbers a step) to continue exactly where the whole trace is; the seasonal prior's
  // steps are independent.
  c.p0 = prior == PriorKind::temporal ? 0 : c.s0;
  return c;
}

// (I - L L^T)^1/2 of the cell's loadings L (latent x factors), row-major, its eigenvalues floored
// at 0 (ModelFile::whitened_mixing): computed in double on the host, the same for every chunk.
std::vector<float> own_mixing(const ModelFile& model, int cell, int factors, int latent) {
  const float* l = model.cell_loadings(cell);
  std::vector<double> rest(size_t(latent) * latent, 0.0), w, v;
  for (int i = 0; i < latent; ++i)
    for (int j = 0; j < latent; ++j) {
      double shared = 0;
      for (int k = 0; k < factors; ++k) shared += double(l[i * factors + k]) * l[j * factors + k];
      rest[i * latent + j] = (i == j ? 1.0 : 0.0) - shared;
    }
  symmetric_eigen(rest, latent, w, v);
  std::vector<float> out(size_t(latent) * latent);
  for (int i = 0; i < latent; ++i)
    for (int j = 0; j < latent; ++j) {
      double root = 0;
      for (int e = 0; e < latent; ++e) root += v[i * latent + e] * std::sqrt(std::max(0.0, w[e])) * v[j * latent + e];
      out[i * latent + j] = static_cast<float>(root);
    }
  return out;
}

View1 device_copy(const std::string& label, const std::vector<float>& values) {
  View1 out(label, values.size());
  auto host = Kokkos::create_mirror_view(out);
  std::copy(values.begin(), values.end(), host.data());
  Kokkos::deep_copy(out, host);
  return out;
}

// Device views of one chunk's decode, for batches of `batch` members of one cell.
struct ChunkViews {
  View3 season;       // (batch, sampled, 6): the seasonal features, alike for every member
  CellIndices cells;  // (batch): every member samples and decodes this cell
  View1 loadings;     // (factors x latent): the cell's loadings on the shared weather
  View1 own_mixing;   // (latent x latent): (I - L L^T)^1/2 with whitened mixing, else empty
  View3 eps, z_sampled, z, decoded;
  View3::HostMirror decoded_host;
};

ChunkViews chunk_views(const ModelFile& model, const TraceRequest& r, const DecodeWindow& w, const ChunkSteps& c,
                       int batch, int factors, int latent) {
  const ModelCell& cell = model.cells[r.cell];
  const int sampled = c.sampled();
  ChunkViews v;
  std::vector<float> features(size_t(c.s1) * kSeasonalFeatures);
  seasonal_features(w.origin, static_cast<int>(c.s1), features.data(), cell.season_shift_days);
  v.season = View3("climvae::generate::season", batch, sampled, kSeasonalFeatures);
  auto season_host = Kokkos::create_mirror_view(v.season);
  for (int b = 0; b < batch; ++b)
    std::copy(features.begin() + c.p0 * kSeasonalFeatures, features.end(), &season_host(b, 0, 0));
  Kokkos::deep_copy(v.season, season_host);
  v.cells = CellIndices("climvae::generate::cells", batch);
  Kokkos::deep_copy(v.cells, r.cell);
  const float* l = model.cell_loadings(r.cell);
  v.loadings = device_copy("climvae::generate::loadings", std::vector<float>(l, l + (factors > 0 ? size_t(factors) * latent : 0)));
  if (factors > 0 && model.whitened_mixing)
    v.own_mixing = device_copy("climvae::generate::own_mixing", own_mixing(model, r.cell, factors, latent));
  v.eps = View3("climvae::generate::eps", batch, sampled, latent);
  v.z_sampled = View3("climvae::generate::z_sampled", batch, sampled, latent);
  v.z = c.p0 == c.s0 ? v.z_sampled : View3("climvae::generate::z", batch, c.steps(), latent);
  v.decoded = View3("climvae::generate::decoded", batch, int64_t(c.steps()) * Vae::kHoursPerStep, 1);
  v.decoded_host = Kokkos::create_mirror_view(v.decoded);
  return v;
}

// The latent innovations of members [member0, member0 + batch) over the sampled steps: each
// member's own stream, counters = global step * latent + feature. With spatial factors, a
// step's innovation is sum_k L_k xi_k + sqrt(1 - sum_k L_k^2) own (diagonal mixing) or
// sum_k L_k xi_k + sum_g M_g own_g over the step's features g (whitened: M = own_mixing), the
// factors xi keyed by (seed, member, calendar block) alone: shared by every cell of the member.
void draw_innovations(const TraceRequest& r, int member0, const DecodeWindow& w, const ChunkSteps& c, int factors,
                      const View1& loadings, const View1& own_mixing, const View3& eps) {
  const int batch = static_cast<int>(eps.extent(0)), latent = static_cast<int>(eps.extent(2));
  const uint64_t seed = r.seed;
  const int cell = r.cell;
  const int64_t start_hour = r.start_hour;
  const uint64_t first_counter = static_cast<uint64_t>(c.p0) * latent;
  const int64_t first_block = calendar_block(w.origin, c.p0);
  const int per_member = c.sampled() * latent;
  Real* e = eps.data();
  const Real* load = loadings.data();
  const Real* mix = own_mixing.extent(0) > 0 ? own_mixing.data() : nullptr;
  Kokkos::parallel_for(
      "climvae::generate::draw_eps", RangePolicy(0, batch * per_member), KOKKOS_LAMBDA(const int i) {
        const int b = i / per_member, j = i % per_member;
        const Real own = standard_normal(member_stream(seed, cell, start_hour, member0 + b), first_counter + uint64_t(j));
        if (factors == 0) {
          e[i] = own;
          return;
        }
        const uint64_t shared = shared_weather_stream(seed, member0 + b);
        const uint64_t block = static_cast<uint64_t>(first_block + j / latent);
        const Real* l = load + (j % latent) * factors;
        Real acc = 0, communality = 0;
        for (int k = 0; k < factors; ++k) {
          acc += l[k] * standard_normal(shared, block * uint64_t(factors) + uint64_t(k));
          communality += l[k] * l[k];
        }
        if (!mix) {
          e[i] = acc + kx::sqrt(communality < Real(1) ? Real(1) - communality : Real(0)) * own;
          return;
        }
        const int f = j % latent;
        const uint64_t stream = member_stream(seed, cell, start_hour, member0 + b);
        for (int g = 0; g < latent; ++g)
          acc += mix[f * latent + g] * standard_normal(stream, first_counter + uint64_t(j - f + g));
        e[i] = acc;
      });
}

// The calibration noise (model/calibration.hpp) of hours [first_hour, first_hour + out.size()) of
// member `member`'s trace, whose first hour is local hour `local_start`. Its normals mix, like the
// latent innovations, factors shared by the cells of the member (keyed by UTC hour, loaded as the
// model's most shared latent feature) with the cell's own; the short part and the diurnal mode
// draw their own normals (sub-streams kCalibrationShortStream, kCalibrationDiurnalStream).
// The shared weather's normals of a stream key, standard_normal(key, utc * factors + k) for factor
// k: every cell of a member draws the same ones (only its loadings differ), so a thread keeps those
// of the last few (member, stream) pairs, in windows of kSpan hours drawn as they are first read.
// The values are standard_normal's own: the cache changes how often they are drawn, not a bit.
// (With 16 factors, 17 normals an hour per stream and cell were three quarters of a four-cell
// generation, measured.) The host's threads share kSharedNormalsCacheBytes (generator.hpp): each
// calibrates its own members (generate_trace_chunk), so each holds its share.
class SharedNormals {
 public:
  static constexpr int64_t kSpan = 4096;

  const float* hour(uint64_t key, int factors, int64_t utc) {
    Window* w = last_;
    if (!w || w->key != key || w->factors != factors || utc < w->utc0 || utc >= w->utc0 + kSpan)
      w = last_ = &window(key, factors, utc);
    const int64_t h = utc - w->utc0;
    float* v = w->values.data() + h * factors;
    if (!w->drawn[size_t(h)]) {
      for (int k = 0; k < factors; ++k)
        v[k] = standard_normal(key, static_cast<uint64_t>(utc) * uint64_t(factors) + uint64_t(k));
      w->drawn[size_t(h)] = 1;
    }
    return v;
  }

 private:
  struct Window {
    uint64_t key = 0;
    int factors = 0;
    int64_t utc0 = 0;
    uint64_t used = 0;
    std::vector<float> values;  // (hour, factor)
    std::vector<char> drawn;    // per hour
  };

  Window& window(uint64_t key, int factors, int64_t utc) {
    const int64_t utc0 = utc - ((utc % kSpan) + kSpan) % kSpan;
    Window* oldest = nullptr;
    for (const auto& w : windows_) {
      if (w->key == key && w->factors == factors && w->utc0 == utc0) return touch(*w);
      if (!oldest || w->used < oldest->used) oldest = w.get();
    }
    const size_t window_bytes = size_t(kSpan) * factors * sizeof(float);
    const size_t threads = static_cast<size_t>(std::max(1, Kokkos::DefaultHostExecutionSpace().concurrency()));
    const size_t capacity = std::max<size_t>(1, kSharedNormalsCacheBytes / threads / window_bytes);
    if (windows_.size() < capacity) {
      windows_.push_back(std::make_unique<Window>());
      oldest = windows_.back().get();
    }
    Window& w = *oldest;
    w.key = key;
    w.factors = factors;
    w.utc0 = utc0;
    w.values.resize(size_t(kSpan) * factors);
    w.drawn.assign(size_t(kSpan), 0);
    return touch(w);
  }
  Window& touch(Window& w) {
    w.used = ++clock_;
    return w;
  }

  std::vector<std::unique_ptr<Window>> windows_;  // pointers stay valid as windows are added
  Window* last_ = nullptr;
  uint64_t clock_ = 0;
};

void calibration_noise_of(const ModelFile& model, const TraceRequest& r, int member, int64_t local_start,
                          int64_t first_hour, std::vector<float>& out) {
  const Calibration& cal = model.cells[r.cell].calibration;
  const int factors = r.spatial ? model.spatial_factors : 0;
  const float* l = factors > 0 ? model.cell_loadings(r.cell) + model.noise_feature * factors : nullptr;
  double communality = 0;
  for (int k = 0; k < factors; ++k) communality += double(l[k]) * l[k];
  const double own_weight = std::sqrt(std::max(0.0, 1.0 - communality));
  thread_local SharedNormals shared_normals;
  SharedNormals* shared = &shared_normals;
  const auto normals = [&](uint64_t part) {  // t: hours from the trace's start
    const uint64_t own_key = stream_key(member_stream(r.seed, r.cell, r.start_hour, member), part);
    const uint64_t shared_key = shared_weather_stream(r.seed, member, part);
    return [=](int64_t t) {
      double e = own_weight * standard_normal(own_key, static_cast<uint64_t>(t));
      if (factors == 0) return e;
      const float* n = shared->hour(shared_key, factors, r.start_hour + t);
      for (int k = 0; k < factors; ++k) e += l[k] * n[k];
      return e;
    };
  };
  const int64_t count = static_cast<int64_t>(out.size());
  staged_noise(cal.noise_phi, cal.noise_stages, first_hour, count, normals(kCalibrationStream), out.data());
  if (!cal.smooth_skew.empty()) {  // the skew by local hour (model/calibration.hpp)
    std::vector<SkewedNormal> skew;  // once for every hour of the chunk
    for (float g : cal.smooth_skew) skew.emplace_back(g);
    const int first_local_hour = hour_of_day(local_start + first_hour);
    for (size_t t = 0; t < out.size(); ++t) out[t] = static_cast<float>(skew[(first_local_hour + t) % 24](out[t]));
  }
  if (cal.noise_short_share <= 0 && cal.noise_diurnal_share <= 0) return;
  const float smooth_weight = static_cast<float>(std::sqrt(1 - cal.noise_short_share - cal.noise_diurnal_share));
  if (cal.noise_short_share > 0) {
    std::vector<float> rough(out.size());
    calibration_noise(cal.noise_short_phi, first_hour, count, normals(kCalibrationShortStream), rough.data());
    const float short_weight = static_cast<float>(std::sqrt(cal.noise_short_share));
    for (size_t t = 0; t < out.size(); ++t) out[t] = smooth_weight * out[t] + short_weight * rough[t];
  } else {
    for (float& v : out) v *= smooth_weight;
  }
  if (cal.noise_diurnal_share <= 0) return;
  std::vector<float> amplitude(out.size());
  staged_noise(cal.noise_diurnal_phi, 2, first_hour, count, normals(kCalibrationDiurnalStream), amplitude.data());
  float weighted_shape[24];  // sqrt(share) x shape, once for every hour of the chunk
  for (int h = 0; h < 24; ++h) weighted_shape[h] = static_cast<float>(std::sqrt(cal.noise_diurnal_share) * cal.diurnal_shape[h]);
  const int first_local_hour = hour_of_day(local_start + first_hour);
  for (size_t t = 0; t < out.size(); ++t) out[t] += weighted_shape[(first_local_hour + t) % 24] * amplitude[t];
}

// Member `member`'s hours [first_hour, first_hour + out hours) from its decoded mean `decoded`:
// the calibration (`hours`: each hour's member-independent part; empty: none), the observation
// noise, then back to kelvin. out: every `stride`-th value.
void finish_member(const ModelFile& model, const TraceRequest& r, const DecodeWindow& w, int member, Real noise_sd,
                   int64_t first_hour, int64_t chunk_hours, const std::vector<CalibratedHour>& hours,
                   const Real* decoded, float* out, int stride) {
  const ModelCell& cell = model.cells[r.cell];
  const bool calibrated = !hours.empty();
  std::vector<float> weather_noise(calibrated ? size_t(chunk_hours) : 0);
  if (calibrated) calibration_noise_of(model, r, member, w.local_start, first_hour, weather_noise);
  const uint64_t noise_key = stream_key(member_stream(r.seed, r.cell, r.start_hour, member), kObservationNoiseStream);
  for (int64_t t = 0; t < chunk_hours; ++t) {
    double v = decoded[t];
    if (calibrated) v = calibrated_value(cell.calibration, hours[size_t(t)], v, weather_noise[t]);
    if (r.add_noise) v += noise_sd * standard_normal(noise_key, static_cast<uint64_t>(first_hour + t));
    out[size_t(t) * stride] = static_cast<float>(unstandardise(cell, v));
  }
}

}  // namespace

int shared_weather_members_at_once(const ModelFile& model, bool spatial, int64_t chunk_hours) {
  if (!spatial || model.spatial_factors == 0) return INT_MAX;
  // Three calibration streams a member, each over the chunk, the noise's lead-in (at most two
  // stages of 720 hours and a block) and a window's slack on each side.
  const int64_t hours = chunk_hours + 2 * 720 + 64 + 2 * SharedNormals::kSpan;
  const size_t per_member = 3 * size_t(hours) * model.spatial_factors * sizeof(float);
  return static_cast<int>(std::max<size_t>(1, kSharedNormalsCacheBytes / per_member));
}

int generation_batch_size(const VaeConfig& config, int steps, size_t budget_bytes) {
  // Two widest decoder activations (32k x filters) dominate the workspace of one member.
  const size_t per_member = size_t(steps) * Vae::kHoursPerStep / 3 * config.filters * sizeof(Real) * 4;
  return static_cast<int>(std::clamp<size_t>(budget_bytes / std::max<size_t>(per_member, 1), 1, 32));
}

size_t generation_bytes(const VaeConfig& config, int64_t hours, int members) {
  const int64_t steps = most_decode_steps(hours);
  const double s = double(steps), decoded_hours = s * Vae::kHoursPerStep, f = config.filters, z = config.latent;
  // One member of a batch: the network's encoder and decoder activations (each about 62 x steps x
  // filters values) and two gradient buffers (32 x steps x filters each, allocated for decoding
  // too), its 96-hour output, and this file's views: decoded hours, seasonal features, eps and z.
  const double per_member = sizeof(Real) * (188 * s * f + 2 * decoded_hours + s * (kSeasonalFeatures + 3 * z));
  const int batch = std::min(members, generation_batch_size(config, static_cast<int>(steps)));
  const int threads = std::min(batch, std::max(1, Kokkos::DefaultHostExecutionSpace().concurrency()));
  // The traces (time, member), the batch, three calibration noise streams per host thread and the
  // calibration's member-independent hours.
  const double bytes = sizeof(float) * (double(hours) * members + 3.0 * double(hours) * threads) +
                       sizeof(CalibratedHour) * double(hours) + batch * per_member;
  return static_cast<size_t>(bytes);
}

void validate_request(const ModelFile& model, const TraceRequest& r) {
  require(r.hours >= 1, "number of hours must be at least 1, got " + std::to_string(r.hours));
  require(r.members >= 1, "number of members must be at least 1, got " + std::to_string(r.members));
  require(r.first_member >= 0, "first member must not be negative, got " + std::to_string(r.first_member));
  require(r.cell >= 0 && r.cell < static_cast<int>(model.cells.size()),
          "cell " + std::to_string(r.cell) + " is not in the model (it has " + std::to_string(model.cells.size()) + ")");
  require(r.hours <= 24LL * 366 * 1000, "number of hours is absurdly large: " + std::to_string(r.hours));
  // The calendar (and the time axis of our files) covers years 1..9999.
  require(r.start_hour >= calendar_first_hour() && r.start_hour + r.hours <= calendar_end_hour(),
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

TraceRequest store_period_request(const Store& store, int c, int members, uint64_t seed) {
  TraceRequest r;
  r.cell = store.first_cell + c;
  r.start_hour = store.start_hour;
  r.hours = store.num_hours;
  r.members = members;
  r.seed = seed;
  return r;
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
  const DecodeWindow w = decode_window(model.cells[r.cell], r.start_hour, r.hours);
  const ChunkSteps c = chunk_steps(w, vae.config().prior, first_hour, chunk_hours);
  const int batch = std::min(r.members, generation_batch_size(vae.config(), c.steps()));
  const int factors = r.spatial ? model.spatial_factors : 0;
  ChunkViews v = chunk_views(model, r, w, c, batch, factors, vae.config().latent);
  const Real noise_sd = r.add_noise ? vae.noise_sd() : Real(0);

  std::vector<float> out(size_t(chunk_hours) * r.members);
  const Calibration& calibration = model.cells[r.cell].calibration;
  std::vector<CalibratedHour> hours;  // the same for every member
  if (r.calibrated && !calibration.empty())
    for (int64_t t = 0; t < chunk_hours; ++t) hours.push_back(calibrated_hour(calibration, w.local_start + first_hour + t));
  for (int m0 = 0; m0 < r.members; m0 += batch) {
    const int nb = std::min(batch, r.members - m0);
    const int member0 = r.first_member + m0;
    draw_innovations(r, member0, w, c, factors, v.loadings, v.own_mixing, v.eps);
    vae.sample_prior(v.season, v.cells, v.eps, v.z_sampled);
    if (c.p0 != c.s0)
      Kokkos::deep_copy(v.z, Kokkos::subview(v.z_sampled, Kokkos::ALL, Kokkos::make_pair(int(c.s0 - c.p0), c.sampled()),
                                             Kokkos::ALL));
    const auto zb = Kokkos::subview(v.z, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const auto db = Kokkos::subview(v.decoded, Kokkos::make_pair(0, nb), Kokkos::ALL, Kokkos::ALL);
    const CellIndices cells_b = Kokkos::subview(v.cells, Kokkos::make_pair(0, nb));
    vae.decode(View3(zb), cells_b, View3(db));
    Kokkos::deep_copy(v.decoded_host, v.decoded);
    // The members' calibration (most of a calibrated generation's time) on the host's threads: a
    // member's values do not depend on its thread. An error is carried out of the threads.
    std::vector<std::string> failed(static_cast<size_t>(nb));
    Kokkos::parallel_for(
        "climvae::finish_members", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, nb), [&](const int b) {
          try {
            finish_member(model, r, w, member0 + b, noise_sd, first_hour, chunk_hours, hours,
                          &v.decoded_host(b, c.first_decoded, 0), out.data() + m0 + b, r.members);
          } catch (const std::exception& e) {
            failed[size_t(b)] = e.what();
          }
        });
    for (const std::string& message : failed) require(message.empty(), message);
  }
  apply_scenario(r.scenario, model, r.cell, r.start_hour + first_hour, chunk_hours, r.members, out.data());
  return out;
}

}  // namespace climvae
