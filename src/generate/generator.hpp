// Sampling traces: seasonal prior -> z -> decoder -> undo standardisation -> re-apply the trend.
#pragma once
#include <cstdint>
#include <vector>

#include "data/store.hpp"
#include "generate/scenario.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

struct TraceRequest {
  int cell = 0;
  int64_t start_hour = 0;  // UTC, hours since 1970-01-01T00:00
  int64_t hours = 0;       // any length >= 1
  int members = 1;
  int first_member = 0;    // members first_member .. first_member + members - 1 (a slice of an ensemble)
  uint64_t seed = 0;
  Scenario scenario;       // default: the model's reference-year climate
  bool add_noise = false;  // add the learned observation noise to the decoder mean
  bool spatial = true;     // share weather with the model's other cells (when it has spatial factors)
  bool calibrated = true;  // add what the decoded mean misses (when the model is calibrated)
};

// Returns tas in kelvin, with the scenario's warming applied, as (time, member): out[t * members + m], t = 0 is request.start_hour.
// Member m's trace depends only on (seed, cell, member, start) -- not on the number of members
// requested or how they are batched. Decodes each member in one piece, so traces have no seams.
std::vector<float> generate_traces(Vae& vae, const ModelFile& model, const TraceRequest& request);

// Traces of this rank's store cell c (global store.first_cell + c) over the store's period, hour
// for hour beside its observed series: what the fits and checks after training compare with it.
TraceRequest store_period_request(const Store& store, int c, int members, uint64_t seed);

// Hours [first_hour, first_hour + chunk_hours) of the same traces, as (time, member), bit-identical
// to those hours of generate_traces: the chunk's latent steps are decoded with a margin of
// kChunkMarginSteps on each side (more than the decoder's reach), so chunks written one after
// another join without a seam while memory stays bounded by the chunk length.
std::vector<float> generate_trace_chunk(Vae& vae, const ModelFile& model, const TraceRequest& request,
                                        int64_t first_hour, int64_t chunk_hours);
constexpr int kChunkMarginSteps = 2;

// The shared weather's normals (a model with spatial factors) are the same for every cell of a
// member; the host's threads keep the last few members' in caches of this size together (a
// thread that is not one of Kokkos' host threads, e.g. a plugin host's, keeps its own share). A
// caller that generates many cells does best taking them for this many members at a time
// (INT_MAX: no shared weather, any order).
constexpr size_t kSharedNormalsCacheBytes = size_t(48) << 20;
int shared_weather_members_at_once(const ModelFile& model, bool spatial, int64_t chunk_hours);

// Checks a request without generating anything; throws Error naming the problem.
void validate_request(const ModelFile& model, const TraceRequest& request);

// About the most memory generate_traces takes for `members` traces of `hours` hours of one cell,
// in bytes: the traces, the network's workspace and views for one batch of members, and the host
// threads' calibration noise. A caller that must bound its memory checks this before asking (an
// upper bound: a CPU decodes a batch a few members at a time).
size_t generation_bytes(const VaeConfig& config, int64_t hours, int members);

// The largest memory budget any caller takes (--memory-mib, climvae_set_memory_limit, BMI
// memory_mib), MiB: 1 PiB, beyond which a byte count would overflow.
constexpr int64_t kMaxMemoryMiB = int64_t(1) << 30;

// Largest decode batch that keeps the decoder workspace under `budget_bytes`.
int generation_batch_size(const VaeConfig& config, int steps, size_t budget_bytes = size_t(512) << 20);

}  // namespace climvae
