#include "engine/strided_conv.hpp"

#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#if CLIMVAE_ISA_DISPATCH
#include <immintrin.h>
#endif

namespace climvae {

StridedGeometry same_padding(int long_len, int kernel, int stride) {
  require(long_len > 0 && kernel > 0 && stride > 0, "strided convolution: lengths must be positive");
  StridedGeometry g;
  g.long_len = long_len;
  g.short_len = (long_len + stride - 1) / stride;
  g.kernel = kernel;
  g.stride = stride;
  const int pad_total = std::max((g.short_len - 1) * stride + kernel - long_len, 0);
  g.pad_left = pad_total / 2;
  return g;
}

namespace {

// Outputs per work item of the kernels below: two rows of 40 accumulators fill ten of AVX2's 16
// vector registers. Four rows need 20, and the spills made the forward and transposed kernels
// 15-30 % slower (measured).
constexpr int kTile = 2;

// The samples strided_weight_grad takes at a time on a CPU: their long and short rows fit in a
// core's L2 with room to spare.
constexpr size_t kWeightGradBlockBytes = size_t(512) << 10;

// The transposed kernel of a layer with one long channel (the decoder's output) is laid out
// (short channels, kTapLanes) with the taps zero-padded, for up_one_channel's tap lanes.
constexpr int kTapLanes = 8;
bool one_channel_layout(int long_channels, int kernel) { return long_channels == 1 && kernel <= kTapLanes; }

// The kernels, compiled for the build's baseline instruction set and, in a portable x86-64 build
// with GCC (CLIMVAE_ISA_DISPATCH), again for x86-64-v3 (AVX2+FMA) and x86-64-v4 (AVX-512); the
// copy for the best level the CPU supports is picked at run time. Only the kernels' own functions
// get the target: Kokkos' inline functions stay baseline, so no AVX code leaks into shared symbols.
namespace isa_baseline {
#include "engine/strided_conv_kernels.inc"
}  // namespace isa_baseline
#if CLIMVAE_ISA_DISPATCH
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
namespace isa_avx2 {
#include "engine/strided_conv_kernels.inc"
#include "engine/strided_conv_avx2.inc"
#include "engine/strided_conv_one_channel.inc"
}  // namespace isa_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4", "prefer-vector-width=512")
namespace isa_avx512 {
// AVX-512 has 32 vector registers: eight rows of 40 accumulators take 24 and each kernel row loaded
// serves eight outputs (Intel Xeon with AVX-512: generation +17 %, training +3 % against four rows;
// docs/benchmarks.md). The outputs' bits do not depend on the tile.
constexpr int kTile = 8;
#include "engine/strided_conv_kernels.inc"
#include "engine/strided_conv_avx512.inc"
#include "engine/strided_conv_one_channel.inc"
}  // namespace isa_avx512
#pragma GCC pop_options
#endif

enum class Isa { baseline, avx2, avx512 };
constexpr const char* kIsaNames[] = {"baseline", "avx2", "avx512"};

Isa best_isa() {
#if CLIMVAE_ISA_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return Isa::avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return Isa::avx2;
#endif
  return Isa::baseline;
}

Isa isa_named(const std::string& name, const char* where) {
  for (int i = 0; i < 3; ++i)
    if (name == kIsaNames[i]) {
      const Isa isa = static_cast<Isa>(i);
      require(isa <= best_isa(), where, name, ": this CPU or build runs at most the ",
              kIsaNames[static_cast<int>(best_isa())], " kernels");
      return isa;
    }
  detail::fail(where, name, ": expected baseline, avx2 or avx512");
}

// The copy in use: the best one, or the one CLIMVAE_KERNELS names.
Isa& active_isa() {
  static Isa isa = [] {
    const char* env = std::getenv("CLIMVAE_KERNELS");
    return env && *env ? isa_named(env, "CLIMVAE_KERNELS=") : best_isa();
  }();
  return isa;
}

// The channel pairs (long, short) with kernels specialised at compile time: the seed VAE's
// layers (encoder.0 and decoder.5: 1 and f = 40; the hidden layers: 40, 40; encoder.5: 40 -> 2z =
// 20; decoder.0: z = 10 -> 40). Any other pair runs the run-time kernels, StridedKernels<0, 0>.
template <int CL, int CS>
struct ChannelPair {};
template <class... Pairs>
struct ChannelPairs {};
using Specialised = ChannelPairs<ChannelPair<40, 40>, ChannelPair<1, 40>, ChannelPair<40, 20>, ChannelPair<40, 10>>;

template <int... CL, int... CS>
bool is_specialised(ChannelPairs<ChannelPair<CL, CS>...>, int cl, int cs) {
  return ((cl == CL && cs == CS) || ...);
}

// Calls f(Kernels<CL, CS>()) for the specialised pair (cl, cs), or f(Kernels<0, 0>()).
template <template <int, int> class Kernels, int... CL, int... CS, class F>
void call_kernels(ChannelPairs<ChannelPair<CL, CS>...>, int cl, int cs, F& f) {
  const bool specialised = ((cl == CL && cs == CS && (f(Kernels<CL, CS>()), true)) || ...);
  if (!specialised) f(Kernels<0, 0>());
}

template <class F>
void dispatch(int cl, int cs, F&& f) {
  require(cl > 0 && cs > 0 && cl <= kMaxChannels && cs <= kMaxChannels,
          "strided convolution: channel counts must be 1..", kMaxChannels, ", got ", cl, " and ", cs);
  const Isa isa = active_isa();
#if CLIMVAE_ISA_DISPATCH
  if (isa == Isa::avx512) return call_kernels<isa_avx512::StridedKernels>(Specialised(), cl, cs, f);
  if (isa == Isa::avx2) return call_kernels<isa_avx2::StridedKernels>(Specialised(), cl, cs, f);
#endif
  (void)isa;
  call_kernels<isa_baseline::StridedKernels>(Specialised(), cl, cs, f);
}

}  // namespace

const char* strided_kernel_isa() { return kIsaNames[static_cast<int>(active_isa())]; }

void use_strided_kernels(const std::string& isa) { active_isa() = isa_named(isa, "strided kernels "); }

bool strided_kernel_specialised(int cl, int cs) { return is_specialised(Specialised(), cl, cs); }

void strided_down(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_in, const Real* w,
                  const Real* bias, Real* short_out, bool relu, const Real* gate) {
  dispatch(cl, cs, [&](auto k) { k.down(g, batch, cl, cs, long_in, w, bias, short_out, relu, gate); });
}

void transpose_for_up(int kernel, int cl, int cs, const Real* w, View1& w_transposed) {
  const bool one_channel = one_channel_layout(cl, kernel);
  const size_t n = one_channel ? static_cast<size_t>(cs) * kTapLanes : static_cast<size_t>(kernel) * cl * cs;
  if (w_transposed.extent(0) < n) w_transposed = View1("climvae::strided_conv::w_transposed", n);
  Real* wt = w_transposed.data();
  if (one_channel) {
    Kokkos::parallel_for(
        "climvae::strided_conv::tap_lanes", RangePolicy(0, static_cast<int>(n)), KOKKOS_LAMBDA(const int i) {
          const int s = i / kTapLanes, t = i % kTapLanes;  // w is (kernel, 1, cs)
          wt[i] = t < kernel ? w[static_cast<size_t>(t) * cs + s] : Real(0);
        });
  } else {
    Kokkos::parallel_for(
        "climvae::strided_conv::transpose_kernel", RangePolicy(0, static_cast<int>(n)), KOKKOS_LAMBDA(const int i) {
          const int t = i / (cl * cs), r = i % (cl * cs), l = r / cs, s = r % cs;
          wt[(static_cast<size_t>(t) * cs + s) * cl + l] = w[i];
        });
  }
}

void strided_up_transposed(const StridedGeometry& g, int batch, int cl, int cs, const Real* short_in,
                           const Real* w_transposed, const Real* bias, Real* long_out, bool relu, const Real* gate) {
  dispatch(cl, cs, [&](auto k) { k.up(g, batch, cl, cs, short_in, w_transposed, bias, long_out, relu, gate); });
}

void strided_up(const StridedGeometry& g, int batch, int cl, int cs, const Real* short_in, const Real* w,
                const Real* bias, Real* long_out, bool relu, View1& w_transposed, const Real* gate) {
  transpose_for_up(g.kernel, cl, cs, w, w_transposed);
  strided_up_transposed(g, batch, cl, cs, short_in, w_transposed.data(), bias, long_out, relu, gate);
}

void strided_weight_grad(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_side,
                         const Real* short_side, Real* dw, View1& partials) {
  const int rows = g.kernel * cl;
  // Enough independent work items for the backend, without exceeding one chunk per sample.
  const int items = g.kernel * ((cl + kTile - 1) / kTile);
  const int chunks = std::max(1, std::min(batch, ExecSpace().concurrency() / items));
  if (chunks == 1) {
    // A few samples at a time, every (tap, tile) item over them before the next samples, so that
    // their rows are still in cache for the next item (one pass over the batch per item streamed
    // it from memory K * CL / tile times). Each output stays one chain over (b, m) in order: the
    // same bits for any block. A GPU takes the batch in one launch.
    const size_t sample_bytes = (static_cast<size_t>(g.long_len) * cl + static_cast<size_t>(g.short_len) * cs) * sizeof(Real);
    const int block = Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible
                          ? static_cast<int>(std::clamp<size_t>(kWeightGradBlockBytes / sample_bytes, 1, size_t(batch)))
                          : batch;
    dispatch(cl, cs, [&](auto k) {
      for (int first = 0; first < batch; first += block)
        k.weight_grad(g, first, std::min(batch, first + block), cl, cs, long_side, short_side, dw, 1, first > 0);
    });
    return;
  }
  const size_t per_chunk = static_cast<size_t>(rows) * cs;
  if (partials.extent(0) < per_chunk * chunks) partials = View1("climvae::strided_conv::partials", per_chunk * chunks);
  Real* part = partials.data();
  dispatch(cl, cs, [&](auto k) { k.weight_grad(g, 0, batch, cl, cs, long_side, short_side, part, chunks, false); });
  Kokkos::parallel_for(
      "climvae::strided_conv::sum_partials", RangePolicy(0, static_cast<int>(per_chunk)), KOKKOS_LAMBDA(const int i) {
        Real sum = 0;
        for (int c = 0; c < chunks; ++c) sum += part[c * per_chunk + i];
        dw[i] = sum;
      });
}

void column_sums(int rows, int cols, const Real* x, Real* out, View1& partials) {
  require(rows >= 0 && cols > 0 && cols <= kMaxChannels, "column_sums: columns must be 1..", kMaxChannels, ", got ", cols);
  // Blocks of rows, each summed in row order: x is read once, in memory order (a column at a time
  // strides through all of x once per column). One block on a serial backend; the block sums are
  // then added in block order, so a result depends on the backend's concurrency only.
  const int chunks = std::max(1, std::min({rows, ExecSpace().concurrency(), 256}));
  const size_t need = static_cast<size_t>(chunks) * cols;
  if (chunks > 1 && partials.extent(0) < need) partials = View1("climvae::strided_conv::partials", need);
  Real* part = chunks > 1 ? partials.data() : out;
  Kokkos::parallel_for(
      "climvae::column_sums", RangePolicy(0, chunks), KOKKOS_LAMBDA(const int chunk) {
        const int r0 = static_cast<int>(static_cast<long>(rows) * chunk / chunks);
        const int r1 = static_cast<int>(static_cast<long>(rows) * (chunk + 1) / chunks);
        Real acc[kMaxChannels];
        for (int c = 0; c < cols; ++c) acc[c] = Real(0);
        for (int r = r0; r < r1; ++r) {
          const Real* xr = x + static_cast<size_t>(r) * cols;
          for (int c = 0; c < cols; ++c) acc[c] += xr[c];
        }
        for (int c = 0; c < cols; ++c) part[static_cast<size_t>(chunk) * cols + c] = acc[c];
      });
  if (chunks == 1) return;
  Kokkos::parallel_for(
      "climvae::column_sums_blocks", RangePolicy(0, cols), KOKKOS_LAMBDA(const int c) {
        Real sum = 0;
        for (int k = 0; k < chunks; ++k) sum += part[static_cast<size_t>(k) * cols + c];
        out[c] = sum;
      });
}

void relu_backward(size_t n, const Real* y, Real* g) {
  Kokkos::parallel_for(
      "climvae::relu_backward", Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<size_t>>(0, n),
      KOKKOS_LAMBDA(const size_t i) {
        // A select, not a conditional store: vectorises with any SSE (a conditional store needs
        // AVX masked stores, so a portable build would run it scalar).
        g[i] = y[i] > Real(0) ? g[i] : Real(0);
      });
}

}  // namespace climvae
