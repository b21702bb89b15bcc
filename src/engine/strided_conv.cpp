#include "engine/strided_conv.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"

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

// Kernels are templated on the channel counts so that the inner channel loops have a
// compile-time trip count (vectorised, accumulators in registers). A template argument of 0
// means "given at run time" (any count up to kMaxChannels). Each work item computes a tile of
// kTile outputs (positions in down and weight_grad, batch samples in up) so that every kernel
// row loaded is used kTile times, with kTile independent accumulation chains.
constexpr int kTile = 4;

template <int CL_, int CS_>
struct StridedKernels {
  static constexpr int kLongMax = CL_ > 0 ? CL_ : kMaxChannels;
  static constexpr int kShortMax = CS_ > 0 ? CS_ : kMaxChannels;

  static void down(const StridedGeometry& g, int batch, int cl_rt, int cs_rt, const Real* x, const Real* w,
                   const Real* bias, Real* y, bool relu) {
    const int CL = CL_ > 0 ? CL_ : cl_rt, CS = CS_ > 0 ? CS_ : cs_rt;
    const int N = g.long_len, M = g.short_len, K = g.kernel, S = g.stride, P = g.pad_left;
    const int tiles = (M + kTile - 1) / kTile;
    Kokkos::parallel_for(
        "climvae::strided_conv::down", RangePolicy(0, batch * tiles), KOKKOS_LAMBDA(const int i) {
          const int b = i / tiles, m0 = (i % tiles) * kTile;
          const int count = M - m0 < kTile ? M - m0 : kTile;
          Real acc[kTile][kShortMax];
          for (int p = 0; p < kTile; ++p)
            for (int c = 0; c < CS; ++c) acc[p][c] = bias ? bias[c] : Real(0);
          const Real* xb = x + static_cast<size_t>(b) * N * CL;
          for (int t = 0; t < K; ++t) {
            const Real* xr[kTile];
            for (int p = 0; p < kTile; ++p) {
              const int n = (m0 + p) * S + t - P;  // zero padding outside [0, N)
              xr[p] = (p < count && n >= 0 && n < N) ? xb + static_cast<size_t>(n) * CL : nullptr;
            }
            const Real* wt = w + static_cast<size_t>(t) * CL * CS;
            for (int l = 0; l < CL; ++l) {
              const Real* wr = wt + l * CS;
              for (int p = 0; p < kTile; ++p) {
                const Real xv = xr[p] ? xr[p][l] : Real(0);
                for (int c = 0; c < CS; ++c) acc[p][c] += xv * wr[c];
              }
            }
          }
          for (int p = 0; p < count; ++p) {
            Real* yr = y + (static_cast<size_t>(b) * M + m0 + p) * CS;
            for (int c = 0; c < CS; ++c) yr[c] = (relu && acc[p][c] < Real(0)) ? Real(0) : acc[p][c];
          }
        });
  }

  // wt: (K, CS, CL), the kernel transposed so the inner loop runs over contiguous CL.
  // One work item per (group of kTile samples, long position).
  static void up(const StridedGeometry& g, int batch, int cl_rt, int cs_rt, const Real* x, const Real* wt,
                 const Real* bias, Real* y, bool relu) {
    const int CL = CL_ > 0 ? CL_ : cl_rt, CS = CS_ > 0 ? CS_ : cs_rt;
    const int N = g.long_len, M = g.short_len, K = g.kernel, S = g.stride, P = g.pad_left;
    const int groups = (batch + kTile - 1) / kTile;
    Kokkos::parallel_for(
        "climvae::strided_conv::up", RangePolicy(0, groups * N), KOKKOS_LAMBDA(const int i) {
          const int b0 = (i / N) * kTile, n = i % N;
          Real acc[kTile][CL_ > 0 ? CL_ : kMaxChannels];
          for (int j = 0; j < kTile; ++j)
            for (int c = 0; c < CL; ++c) acc[j][c] = bias ? bias[c] : Real(0);
          for (int t = 0; t < K; ++t) {
            const int q = n + P - t;  // = m*S when tap t of short position m lands on n
            if (q < 0 || q % S != 0) continue;
            const int m = q / S;
            if (m >= M) continue;
            const Real* xr[kTile];
            for (int j = 0; j < kTile; ++j)
              xr[j] = b0 + j < batch ? x + (static_cast<size_t>(b0 + j) * M + m) * CS : nullptr;
            const Real* wtt = wt + static_cast<size_t>(t) * CS * CL;
            for (int s = 0; s < CS; ++s) {
              const Real* wr = wtt + s * CL;
              for (int j = 0; j < kTile; ++j) {
                const Real xv = xr[j] ? xr[j][s] : Real(0);
                for (int c = 0; c < CL; ++c) acc[j][c] += xv * wr[c];
              }
            }
          }
          for (int j = 0; j < kTile && b0 + j < batch; ++j) {
            Real* yr = y + (static_cast<size_t>(b0 + j) * N + n) * CL;
            for (int c = 0; c < CL; ++c) yr[c] = (relu && acc[j][c] < Real(0)) ? Real(0) : acc[j][c];
          }
        });
  }

  // One work item per (chunk of the batch, tap, tile of long channels): kTile rows of dw.
  static void weight_grad(const StridedGeometry& g, int batch, int cl_rt, int cs_rt, const Real* xl,
                          const Real* ys, Real* out, int chunks) {
    const int CL = CL_ > 0 ? CL_ : cl_rt, CS = CS_ > 0 ? CS_ : cs_rt;
    const int N = g.long_len, M = g.short_len, K = g.kernel, S = g.stride, P = g.pad_left;
    const int ltiles = (CL + kTile - 1) / kTile;
    const int items = K * ltiles;
    Kokkos::parallel_for(
        "climvae::strided_conv::weight_grad", RangePolicy(0, chunks * items), KOKKOS_LAMBDA(const int i) {
          const int chunk = i / items, t = (i % items) / ltiles, l0 = (i % ltiles) * kTile;
          const int count = CL - l0 < kTile ? CL - l0 : kTile;
          const int b0 = static_cast<int>(static_cast<long>(batch) * chunk / chunks);
          const int b1 = static_cast<int>(static_cast<long>(batch) * (chunk + 1) / chunks);
          Real acc[kTile][kShortMax];
          for (int p = 0; p < kTile; ++p)
            for (int c = 0; c < CS; ++c) acc[p][c] = Real(0);
          // Only short positions whose tap t lands inside the long side contribute.
          const int m_first = P - t > 0 ? (P - t + S - 1) / S : 0;
          const int last = N - 1 + P - t;  // m*S <= last keeps the tap inside the long side
          const int m_end = last < 0 ? 0 : (last / S + 1 < M ? last / S + 1 : M);
          for (int b = b0; b < b1; ++b) {
            const Real* xb = xl + static_cast<size_t>(b) * N * CL + l0;
            const Real* yb = ys + static_cast<size_t>(b) * M * CS;
            for (int m = m_first; m < m_end; ++m) {
              const Real* xr = xb + static_cast<size_t>(m * S + t - P) * CL;
              const Real* yr = yb + static_cast<size_t>(m) * CS;
              for (int p = 0; p < kTile; ++p) {
                const Real xv = p < count ? xr[p] : Real(0);
                for (int c = 0; c < CS; ++c) acc[p][c] += xv * yr[c];
              }
            }
          }
          Real* o = out + (static_cast<size_t>(chunk) * K * CL + static_cast<size_t>(t) * CL + l0) * CS;
          for (int p = 0; p < count; ++p)
            for (int c = 0; c < CS; ++c) o[p * CS + c] = acc[p][c];
        });
  }
};

// Calls f(kernels) with the specialisation for (cl, cs), or the run-time one.
template <class F>
void dispatch(int cl, int cs, F&& f) {
  require(cl > 0 && cs > 0 && cl <= kMaxChannels && cs <= kMaxChannels,
          "strided convolution: channel counts must be 1.." + std::to_string(kMaxChannels) + ", got " +
              std::to_string(cl) + " and " + std::to_string(cs));
  if (cl == 40 && cs == 40) return f(StridedKernels<40, 40>());
  if (cl == 1 && cs == 40) return f(StridedKernels<1, 40>());
  if (cl == 40 && cs == 20) return f(StridedKernels<40, 20>());
  if (cl == 40 && cs == 10) return f(StridedKernels<40, 10>());
  return f(StridedKernels<0, 0>());
}

}  // namespace

void strided_down(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_in, const Real* w,
                  const Real* bias, Real* short_out, bool relu) {
  dispatch(cl, cs, [&](auto k) { k.down(g, batch, cl, cs, long_in, w, bias, short_out, relu); });
}

void strided_up(const StridedGeometry& g, int batch, int cl, int cs, const Real* short_in, const Real* w,
                const Real* bias, Real* long_out, bool relu, View1& w_transposed) {
  const size_t n = static_cast<size_t>(g.kernel) * cl * cs;
  if (w_transposed.extent(0) < n) w_transposed = View1("climvae::strided_conv::w_transposed", n);
  Real* wt = w_transposed.data();
  Kokkos::parallel_for(
      "climvae::strided_conv::transpose_kernel", RangePolicy(0, static_cast<int>(n)), KOKKOS_LAMBDA(const int i) {
        const int t = i / (cl * cs), r = i % (cl * cs), l = r / cs, s = r % cs;
        wt[(static_cast<size_t>(t) * cs + s) * cl + l] = w[i];
      });
  dispatch(cl, cs, [&](auto k) { k.up(g, batch, cl, cs, short_in, wt, bias, long_out, relu); });
}

void strided_weight_grad(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_side,
                         const Real* short_side, Real* dw, View1& partials) {
  const int rows = g.kernel * cl;
  // Enough independent work items for the backend, without exceeding one chunk per sample.
  const int items = g.kernel * ((cl + kTile - 1) / kTile);
  const int chunks = std::max(1, std::min(batch, ExecSpace().concurrency() / items));
  if (chunks == 1) {
    dispatch(cl, cs, [&](auto k) { k.weight_grad(g, batch, cl, cs, long_side, short_side, dw, 1); });
    return;
  }
  const size_t per_chunk = static_cast<size_t>(rows) * cs;
  if (partials.extent(0) < per_chunk * chunks) partials = View1("climvae::strided_conv::partials", per_chunk * chunks);
  Real* part = partials.data();
  dispatch(cl, cs, [&](auto k) { k.weight_grad(g, batch, cl, cs, long_side, short_side, part, chunks); });
  Kokkos::parallel_for(
      "climvae::strided_conv::sum_partials", RangePolicy(0, static_cast<int>(per_chunk)), KOKKOS_LAMBDA(const int i) {
        Real sum = 0;
        for (int c = 0; c < chunks; ++c) sum += part[c * per_chunk + i];
        dw[i] = sum;
      });
}

void column_sums(int rows, int cols, const Real* x, Real* out) {
  Kokkos::parallel_for(
      "climvae::column_sums", RangePolicy(0, cols), KOKKOS_LAMBDA(const int c) {
        Real sum = 0;
        for (int r = 0; r < rows; ++r) sum += x[static_cast<size_t>(r) * cols + c];
        out[c] = sum;
      });
}

void relu_backward(size_t n, const Real* y, Real* g) {
  Kokkos::parallel_for(
      "climvae::relu_backward", Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<size_t>>(0, n),
      KOKKOS_LAMBDA(const size_t i) {
        if (!(y[i] > Real(0))) g[i] = Real(0);
      });
}

}  // namespace climvae
