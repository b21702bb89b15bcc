// The strided-convolution kernels alone: multiply-adds per second of forward, input gradient and
// weight gradient (kernel 3, stride 2, batch 32, 368 long positions), for each specialised
// channel pair of the default network beside a nearby pair that takes the generic kernels, and
// the decoder's output layer at its own shape.
// Usage: bench_kernels [--seconds S (1)]   (one thread: OMP_NUM_THREADS=1 with an OpenMP Kokkos)
#include <Kokkos_Core.hpp>
#include <cstdio>

#include "bench_options.hpp"
#include "bench_timing.hpp"
#include "engine/strided_conv.hpp"

namespace {

using namespace climvae;

constexpr int kBatch = 32, kLong = 368;

// Which kernels a measurement runs.
enum Kernels { kDown = 1, kUp = 2, kWeightGrad = 4, kAll = 7 };

// Billions of multiply-adds per second of the chosen kernels among strided_down, strided_up and
// strided_weight_grad.
double gmacs(int cl, int cs, double seconds, int kernels = kAll, int long_len = kLong, int kernel = 3, int stride = 2,
             int batch = kBatch) {
  const StridedGeometry g = same_padding(long_len, kernel, stride);
  View1 x("x", size_t(batch) * long_len * cl), w("w", size_t(kernel) * cl * cs), bias("bias", cl > cs ? cl : cs);
  View1 y("y", size_t(batch) * g.short_len * cs), back("back", size_t(batch) * long_len * cl);
  View1 dw("dw", size_t(kernel) * cl * cs), w_transposed, partials;
  Kokkos::deep_copy(x, Real(0.5));
  Kokkos::deep_copy(w, Real(0.25));
  Kokkos::deep_copy(y, Real(0.5));
  const double macs = __builtin_popcount(kernels) * double(batch) * g.short_len * g.kernel * cl * cs;
  return macs / 1e9 * bench::rate(seconds, [&] {
           if (kernels & kDown) strided_down(g, batch, cl, cs, x.data(), w.data(), bias.data(), y.data(), true);
           if (kernels & kUp) strided_up(g, batch, cl, cs, y.data(), w.data(), bias.data(), back.data(), true, w_transposed);
           if (kernels & kWeightGrad) strided_weight_grad(g, batch, cl, cs, x.data(), y.data(), dw.data(), partials);
           Kokkos::fence();
         });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    double seconds = 1;
    if (!bench::parse_options(argc, argv, "bench_kernels", {{"--seconds", &seconds}},
                              "Usage: bench_kernels [--seconds S (1)]\n"))
      return 0;
    Kokkos::ScopeGuard kokkos;
    std::printf("bench_kernels: strided kernels (%s), batch %d, %d long positions, kernel 3, stride 2\n",
                strided_kernel_isa(), kBatch, kLong);
    const int pairs[][2] = {{40, 40}, {40, 39}, {40, 20}, {40, 21}, {40, 10}, {40, 14}, {1, 40}, {2, 40}};
    for (const auto& p : pairs)
      std::printf("  %2d x %-2d  %-11s  %6.2f GMAC/s\n", p[0], p[1],
                  strided_kernel_specialised(p[0], p[1]) ? "specialised" : "generic", gmacs(p[0], p[1], seconds));
    std::printf("  40 x 40  by kernel: forward %.2f, transposed %.2f, weight gradient %.2f GMAC/s\n",
                gmacs(40, 40, seconds, kDown), gmacs(40, 40, seconds, kUp), gmacs(40, 40, seconds, kWeightGrad));
    // The decoder's output layer as generation runs it: one-year traces (8832 hours from 2944
    // positions of 40 channels, kernel 5, stride 3), 8 at a time (Vae::decode's group: its input
    // in cache).
    std::printf("   1 x 40  the decoder's output layer (kernel 5, stride 3, 8 x 8832 hours), transposed: %.2f GMAC/s\n",
                gmacs(1, 40, seconds, kUp, 8832, 5, 3, 8));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: error: %s\n", e.what());
    return 1;
  }
}
