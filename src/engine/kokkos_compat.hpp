// Where the Kokkos API moved between the 3.x that Debian ships and a user's 4.x.
#pragma once
#include <Kokkos_Core.hpp>

#if KOKKOS_VERSION >= 40000
#define CLIMVAE_KOKKOS_MATH_NS Kokkos
#else
#define CLIMVAE_KOKKOS_MATH_NS Kokkos::Experimental
#endif

// Unrolls the next loop completely on GCC, which otherwise keeps a kernel's accumulators in memory
// (measured: up_one_channel 1.7 times slower); other compilers unroll such loops themselves.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && !defined(__HIPCC__)
#define CLIMVAE_UNROLL_8 _Pragma("GCC unroll 8")
#else
#define CLIMVAE_UNROLL_8
#endif

namespace climvae::kx {

// Device-callable math (Kokkos::Experimental:: in 3.x, Kokkos:: in 4.x).
KOKKOS_INLINE_FUNCTION float exp(float x) { return CLIMVAE_KOKKOS_MATH_NS::exp(x); }
KOKKOS_INLINE_FUNCTION float log(float x) { return CLIMVAE_KOKKOS_MATH_NS::log(x); }
KOKKOS_INLINE_FUNCTION float sqrt(float x) { return CLIMVAE_KOKKOS_MATH_NS::sqrt(x); }
KOKKOS_INLINE_FUNCTION float cos(float x) { return CLIMVAE_KOKKOS_MATH_NS::cos(x); }
KOKKOS_INLINE_FUNCTION float tanh(float x) { return CLIMVAE_KOKKOS_MATH_NS::tanh(x); }
KOKKOS_INLINE_FUNCTION float log1p(float x) { return CLIMVAE_KOKKOS_MATH_NS::log1p(x); }
KOKKOS_INLINE_FUNCTION float fabs(float x) { return CLIMVAE_KOKKOS_MATH_NS::fabs(x); }
KOKKOS_INLINE_FUNCTION double exp(double x) { return CLIMVAE_KOKKOS_MATH_NS::exp(x); }
KOKKOS_INLINE_FUNCTION double log(double x) { return CLIMVAE_KOKKOS_MATH_NS::log(x); }
KOKKOS_INLINE_FUNCTION double sqrt(double x) { return CLIMVAE_KOKKOS_MATH_NS::sqrt(x); }
KOKKOS_INLINE_FUNCTION double cos(double x) { return CLIMVAE_KOKKOS_MATH_NS::cos(x); }
// a * b + c rounded once. Kokkos 3.x has no fma; its Debian build is host-only, where GCC's
// builtin is the FMA instruction (or glibc's exact software fma on a CPU without one).
KOKKOS_INLINE_FUNCTION float fma(float a, float b, float c) {
#if KOKKOS_VERSION >= 40000
  return Kokkos::fma(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}

// Labelled fences exist only from Kokkos 3.6 on.
inline void fence(const char* label) {
#if KOKKOS_VERSION >= 30600
  Kokkos::fence(label);
#else
  (void)label;
  Kokkos::fence();
#endif
}

}  // namespace climvae::kx
