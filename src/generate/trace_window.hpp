// What generation and conditioning share about a trace: the window the network decodes it in,
// and the random streams of each member.
#pragma once
#include <cstdint>

#include "engine/random.hpp"
#include "model/model_file.hpp"
#include "model/vae.hpp"

namespace climvae {

// The model learned windows that start at local solar midnight: a trace is decoded in whole
// latent steps from the local midnight at or before its first hour, and the hours before that
// first hour are dropped.
struct DecodeWindow {
  int64_t local_start = 0;  // the trace's first hour in the cell's local solar time
  int64_t origin = 0;       // the local midnight at or before it: the first decoded hour
  int64_t skip = 0;         // hours decoded before the trace's first hour
  int64_t steps = 0;        // latent steps that cover the trace
  int64_t hours() const { return steps * Vae::kHoursPerStep; }
};
DecodeWindow decode_window(const ModelCell& cell, int64_t start_hour, int64_t hours);
// The most latent steps decode_window gives `hours` hours, whatever the start (up to 23 hours
// before the first hour decoded too): for sizing memory before the cell and start are known.
inline int64_t most_decode_steps(int64_t hours) { return (23 + hours + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep; }

// Random streams. Member m of a trace owns the stream keyed by (seed, cell, start hour, m), so
// its values depend on nothing else (not on how many members are asked for or how they are
// batched); its latent innovations use the stream itself, its other draws sub-streams of it.
// With spatial factors, the weather every cell of member m shares is keyed by (seed, m) alone.
constexpr uint64_t kObservationNoiseStream = 0x0B5E47ULL;  // sub-stream: the learned observation noise
constexpr uint64_t kCalibrationStream = 0xCA11B8A7EULL;    // sub-stream (and shared part): calibration noise
constexpr uint64_t kCalibrationShortStream = 0x5C0A7ULL;   // the same for its short (hourly) part
constexpr uint64_t kCalibrationDiurnalStream = 0xD1D1ULL;  // the same for its diurnal mode
constexpr uint64_t kConditioningStream = 0xC0D1710ULL;     // sub-stream: conditioning's posterior draws
constexpr uint64_t kSharedWeatherStream = 0x5BA7EDULL;

KOKKOS_INLINE_FUNCTION uint64_t member_stream(uint64_t seed, int cell, int64_t start_hour, int member) {
  return stream_key(stream_key(stream_key(seed, static_cast<uint64_t>(cell)), static_cast<uint64_t>(start_hour)),
                    static_cast<uint64_t>(member));
}

// The shared weather of member `member`: its latent factors (part 0) or its calibration noise's
// factors (part kCalibrationStream).
KOKKOS_INLINE_FUNCTION uint64_t shared_weather_stream(uint64_t seed, int member, uint64_t part = 0) {
  return stream_key(stream_key(seed, kSharedWeatherStream ^ part), static_cast<uint64_t>(member));
}

}  // namespace climvae
