// Strided 1-D convolution between a "long" side and a "short" side, Keras 'same' padding.
// Conv1D maps long -> short (forward = down, input gradient = up); Conv1DTranspose maps
// short -> long (forward = up, input gradient = down). Both store the kernel as
// w: (K, CL, CS) -- Keras' Conv1D (k, in, out) and Conv1DTranspose (k, out, in) alike.
// Activations are (batch, time, channels) with channels contiguous.
#pragma once
#include <string>

#include "engine/types.hpp"

namespace climvae {

struct StridedGeometry {
  int long_len = 0;   // N
  int short_len = 0;  // M = ceil(N / stride)
  int kernel = 0;     // K
  int stride = 0;     // S
  int pad_left = 0;   // long index of short position m, tap t: n = m*S + t - pad_left
};

// Keras 'same': pad_total = max((M-1)*S + K - N, 0), floor(pad_total/2) on the left.
// For the transposed layer the same amount is cropped on the left of the full output.
StridedGeometry same_padding(int long_len, int kernel, int stride);

// Largest channel count the kernels accept.
constexpr int kMaxChannels = 64;

// long: (B, N, CL), w: (K, CL, CS), bias: (CS) or null -> short: (B, M, CS)
// short[b,m,:] = bias + sum_{t,cl} long[b, m*S+t-pad, cl] * w[t,cl,:]   (then ReLU if relu)
// gate: null, or shaped like the output: outputs where gate <= 0 (or NaN) are set to 0, i.e.
// relu_backward(gate, output) fused into the kernel for a gradient through a ReLU'd layer.
void strided_down(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_in, const Real* w,
                  const Real* bias, Real* short_out, bool relu, const Real* gate = nullptr);

// short: (B, M, CS), w: (K, CL, CS), bias: (CL) or null -> long: (B, N, CL)
// long[b,n,:] = bias + sum_{t,m : m*S+t-pad = n} sum_cs short[b,m,cs] * w[t,:,cs]   (then ReLU)
// w_transposed: scratch of K*CS*CL values (reused between calls, resized if needed). gate: as in
// strided_down.
void strided_up(const StridedGeometry& g, int batch, int cl, int cs, const Real* short_in, const Real* w,
                const Real* bias, Real* long_out, bool relu, View1& w_transposed, const Real* gate = nullptr);
// strided_up in two parts, for a caller that runs one kernel over several batches: the kernel w
// laid out for the transposed convolution (w_transposed resized if needed), then the convolution
// with that layout.
void transpose_for_up(int kernel, int cl, int cs, const Real* w, View1& w_transposed);
void strided_up_transposed(const StridedGeometry& g, int batch, int cl, int cs, const Real* short_in,
                           const Real* w_transposed, const Real* bias, Real* long_out, bool relu,
                           const Real* gate = nullptr);

// long: (B, N, CL), short: (B, M, CS) -> dw: (K, CL, CS), overwritten
// dw[t,cl,cs] = sum_{b,m} long[b, m*S+t-pad, cl] * short[b,m,cs]
// partials: scratch for backends with more threads than K*CL (resized if needed).
void strided_weight_grad(const StridedGeometry& g, int batch, int cl, int cs, const Real* long_side,
                         const Real* short_side, Real* dw, View1& partials);

// The instruction set the kernels above run with: "avx512", "avx2" or "baseline" (the build's own
// flags: -march=native builds, non-x86 or non-GCC builds). By default the best this CPU has; the
// environment variable CLIMVAE_KERNELS (or use_strided_kernels) picks a lower one, to compare
// the copies on one machine. Every copy gives the same bits.
const char* strided_kernel_isa();
// Refuses an unknown name and a copy this build or CPU cannot run. Not thread-safe: call it
// before any kernel runs.
void use_strided_kernels(const std::string& isa);

// Whether the kernels for this channel pair (long, short) are specialised at compile time (fixed
// channel loops, vectorised, accumulators in registers). Other pairs run the generic kernels,
// which give the same results more slowly (bench_engine prints the path of each layer).
bool strided_kernel_specialised(int cl, int cs);

// x: (rows, cols) -> out: (cols), out[c] = sum_r x[r,c], overwritten; cols <= kMaxChannels.
// partials: scratch for parallel backends (resized if needed).
void column_sums(int rows, int cols, const Real* x, Real* out, View1& partials);

// g[i] = y[i] > 0 ? g[i] : 0   (ReLU backward through its output y)
void relu_backward(size_t n, const Real* y, Real* g);

}  // namespace climvae
