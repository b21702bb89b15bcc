// Counter-based random numbers: value = f(key, counter), no state, the same on every backend
// and rank. A stream's key mixes a seed with whatever identifies the stream (member, cell, ...).
#pragma once
#include <Kokkos_Core.hpp>
#include <cstdint>

#include "engine/kokkos_compat.hpp"

namespace climvae {

// SplitMix64 finaliser: a bijective 64-bit mixer with full avalanche.
KOKKOS_INLINE_FUNCTION uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

KOKKOS_INLINE_FUNCTION uint64_t stream_key(uint64_t seed, uint64_t stream) { return mix64(seed ^ mix64(stream)); }

// Uniform in (0, 1] from 24 random bits (never 0, so log() is safe).
KOKKOS_INLINE_FUNCTION float uniform01(uint64_t key, uint64_t counter) {
  const uint64_t bits = mix64(key ^ mix64(counter));
  return (static_cast<float>(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
}

// Standard normal via Box-Muller on two independent uniforms of the same counter.
KOKKOS_INLINE_FUNCTION float standard_normal(uint64_t key, uint64_t counter) {
  const uint64_t bits = mix64(key ^ mix64(counter));
  const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
  const float u2 = static_cast<float>((bits >> 16) & 0xFFFFFFULL) * (1.0f / 16777216.0f);
  return kx::sqrt(-2.0f * kx::log(u1)) * kx::cos(6.2831853071795865f * u2);
}

}  // namespace climvae
