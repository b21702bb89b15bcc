// The strided-convolution kernels against a plain double-precision convolution at every edge
// (lengths that do not divide, sequences shorter than the kernel, one long channel, generic
// channel counts), and every instruction-set copy this CPU runs against the others, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "engine/random.hpp"
#include "engine/strided_conv.hpp"

using namespace climvae;

namespace {

struct Case {
  int long_len, kernel, stride, cl, cs;
};

// The decoder's and encoder's layer shapes (specialised kernels), the one-channel output layer
// (with 2 to 8 taps and stride 1: the tap counts of its AVX2 kernel),
// generic pairs, and 40 x 40 with more taps (a kernel of 9 runs the generic path in the AVX2
// copy), at lengths from below the kernel to a few latent steps.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (int n : {1, 2, 3, 4, 5, 7, 11, 96, 97, 290})
    for (const Case& c : {Case{0, 5, 3, 1, 40}, Case{0, 3, 2, 40, 40}, Case{0, 3, 2, 40, 10}, Case{0, 5, 3, 1, 7},
                          Case{0, 3, 2, 3, 5}, Case{0, 5, 3, 2, 40}, Case{0, 9, 2, 1, 6}, Case{0, 7, 2, 40, 40},
                          Case{0, 9, 3, 40, 40}, Case{0, 8, 3, 1, 40}, Case{0, 2, 3, 1, 40}, Case{0, 3, 1, 1, 40}})
      out.push_back({n, c.kernel, c.stride, c.cl, c.cs});
  return out;
}

std::string name_of(const Case& c) {
  return "N=" + std::to_string(c.long_len) + " K=" + std::to_string(c.kernel) + " S=" + std::to_string(c.stride) +
         " " + std::to_string(c.cl) + "x" + std::to_string(c.cs);
}

std::vector<Real> values(size_t n, uint64_t key) {
  std::vector<Real> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<Real>(standard_normal(key, i));
  return v;
}

View1 device(const std::vector<Real>& v) {
  View1 d("d", v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}

std::vector<Real> host(const View1& d) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), d);
  return std::vector<Real>(h.data(), h.data() + h.extent(0));
}

// One case's three kernels: down (with bias and ReLU), up (with bias, with and without ReLU: the
// decoder's output layer is linear), weight gradient.
struct Outputs {
  std::vector<Real> down, up, up_linear, dw;
};

constexpr int kBatch = 3;

Outputs run(const Case& c) {
  const StridedGeometry g = same_padding(c.long_len, c.kernel, c.stride);
  const size_t nl = size_t(kBatch) * c.long_len * c.cl, ns = size_t(kBatch) * g.short_len * c.cs;
  const View1 x_long = device(values(nl, 1)), x_short = device(values(ns, 2));
  const View1 w = device(values(size_t(c.kernel) * c.cl * c.cs, 3));
  const View1 bias_long = device(values(c.cl, 4)), bias_short = device(values(c.cs, 5));
  View1 down("down", ns), up("up", nl), up_linear("up_linear", nl), dw("dw", size_t(c.kernel) * c.cl * c.cs);
  View1 scratch, partials;
  strided_down(g, kBatch, c.cl, c.cs, x_long.data(), w.data(), bias_short.data(), down.data(), true);
  strided_up(g, kBatch, c.cl, c.cs, x_short.data(), w.data(), bias_long.data(), up.data(), true, scratch);
  strided_up(g, kBatch, c.cl, c.cs, x_short.data(), w.data(), bias_long.data(), up_linear.data(), false, scratch);
  strided_weight_grad(g, kBatch, c.cl, c.cs, x_long.data(), x_short.data(), dw.data(), partials);
  return {host(down), host(up), host(up_linear), host(dw)};
}

// The same in double precision, straight from the definitions in strided_conv.hpp.
Outputs naive(const Case& c) {
  const StridedGeometry g = same_padding(c.long_len, c.kernel, c.stride);
  const int N = c.long_len, M = g.short_len, K = c.kernel, S = c.stride, P = g.pad_left;
  const std::vector<Real> xl = values(size_t(kBatch) * N * c.cl, 1), xs = values(size_t(kBatch) * M * c.cs, 2);
  const std::vector<Real> w = values(size_t(K) * c.cl * c.cs, 3), bl = values(c.cl, 4), bs = values(c.cs, 5);
  auto W = [&](int t, int l, int s) { return double(w[(size_t(t) * c.cl + l) * c.cs + s]); };
  std::vector<double> down(size_t(kBatch) * M * c.cs), up(size_t(kBatch) * N * c.cl, 0.0), dw(w.size(), 0.0);
  for (int b = 0; b < kBatch; ++b) {
    for (int m = 0; m < M; ++m)
      for (int s = 0; s < c.cs; ++s) {
        double sum = bs[s];
        for (int t = 0; t < K; ++t) {
          const int n = m * S + t - P;
          if (n < 0 || n >= N) continue;
          for (int l = 0; l < c.cl; ++l) sum += double(xl[(size_t(b) * N + n) * c.cl + l]) * W(t, l, s);
        }
        down[(size_t(b) * M + m) * c.cs + s] = std::max(sum, 0.0);
      }
    for (int n = 0; n < N; ++n)
      for (int l = 0; l < c.cl; ++l) up[(size_t(b) * N + n) * c.cl + l] = bl[l];
    for (int m = 0; m < M; ++m)
      for (int t = 0; t < K; ++t) {
        const int n = m * S + t - P;
        if (n < 0 || n >= N) continue;
        for (int l = 0; l < c.cl; ++l)
          for (int s = 0; s < c.cs; ++s) {
            up[(size_t(b) * N + n) * c.cl + l] += double(xs[(size_t(b) * M + m) * c.cs + s]) * W(t, l, s);
            dw[(size_t(t) * c.cl + l) * c.cs + s] +=
                double(xl[(size_t(b) * N + n) * c.cl + l]) * double(xs[(size_t(b) * M + m) * c.cs + s]);
          }
      }
  }
  const std::vector<double> up_linear = up;
  for (double& v : up) v = std::max(v, 0.0);
  auto to_real = [](const std::vector<double>& v) { return std::vector<Real>(v.begin(), v.end()); };
  return {to_real(down), to_real(up), to_real(up_linear), to_real(dw)};
}

void expect_near(const std::vector<Real>& got, const std::vector<Real>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 2e-5 * (1 + std::fabs(want[i]))) << what << " at " << i;
}

// The kernel copy named, for the duration of a scope; the best one again afterwards.
struct KernelCopy {
  explicit KernelCopy(const std::string& isa) { use_strided_kernels(isa); }
  ~KernelCopy() { use_strided_kernels(best()); }
  static const std::string& best() {
    static const std::string isa = strided_kernel_isa();  // read before any test changes it
    return isa;
  }
};

}  // namespace

TEST(StridedKernels, MatchAPlainConvolutionAtEveryEdge) {
  for (const Case& c : cases()) {
    const Outputs got = run(c), want = naive(c);
    expect_near(got.down, want.down, "down " + name_of(c));
    expect_near(got.up, want.up, "up " + name_of(c));
    expect_near(got.up_linear, want.up_linear, "linear up " + name_of(c));
    expect_near(got.dw, want.dw, "weight gradient " + name_of(c));
  }
}

// Every product is an explicit fused multiply-add and every sum has one order, so the AVX-512,
// AVX2 and baseline copies agree to the bit (the baseline copy runs glibc's exact fmaf).
TEST(StridedKernels, EveryInstructionSetCopyGivesTheSameBits) {
  const std::string best = KernelCopy::best();
  std::vector<std::string> copies;
  for (const std::string isa : {"baseline", "avx2", "avx512"}) {
    copies.push_back(isa);
    if (isa == best) break;
  }
  if (copies.size() < 2) GTEST_SKIP() << "this CPU or build runs only the " << best << " kernels";
  std::vector<Outputs> reference;
  for (const Case& c : cases()) reference.push_back(run(c));
  for (const std::string& isa : copies) {
    const KernelCopy copy(isa);
    EXPECT_EQ(strided_kernel_isa(), isa);
    const std::vector<Case> all = cases();
    for (size_t i = 0; i < all.size(); ++i) {
      const Outputs got = run(all[i]);
      EXPECT_EQ(got.down, reference[i].down) << isa << " down " << name_of(all[i]);
      EXPECT_EQ(got.up, reference[i].up) << isa << " up " << name_of(all[i]);
      EXPECT_EQ(got.up_linear, reference[i].up_linear) << isa << " linear up " << name_of(all[i]);
      EXPECT_EQ(got.dw, reference[i].dw) << isa << " weight gradient " << name_of(all[i]);
    }
  }
}

// On a CPU the weight gradient takes a few samples at a time (their rows stay in cache), going on
// with each output's chain from the samples before: every output is still one chain of FMAs over
// (sample, position) in order. Long enough samples here (1 MB each) for one sample per block.
TEST(StridedKernels, WeightGradientIsOneChainInOrderForAnyBlockOfSamples) {
  const Case c{6000, 3, 2, 40, 40};
  const StridedGeometry g = same_padding(c.long_len, c.kernel, c.stride);
  const int N = c.long_len, M = g.short_len, K = c.kernel, S = c.stride, P = g.pad_left;
  if (Kokkos::DefaultExecutionSpace().concurrency() >= K * ((c.cl + 1) / 2))
    GTEST_SKIP() << "this backend splits the batch into chunks summed afterwards";
  const std::vector<Real> xl = values(size_t(kBatch) * N * c.cl, 1), xs = values(size_t(kBatch) * M * c.cs, 2);
  std::vector<Real> want(size_t(K) * c.cl * c.cs, Real(0));
  for (int b = 0; b < kBatch; ++b)
    for (int m = 0; m < M; ++m)
      for (int t = 0; t < K; ++t) {
        const int n = m * S + t - P;
        if (n < 0 || n >= N) continue;
        for (int l = 0; l < c.cl; ++l)
          for (int s = 0; s < c.cs; ++s) {
            Real& acc = want[(size_t(t) * c.cl + l) * c.cs + s];
            acc = std::fma(xl[(size_t(b) * N + n) * c.cl + l], xs[(size_t(b) * M + m) * c.cs + s], acc);
          }
      }
  View1 dw("dw", want.size()), partials;
  strided_weight_grad(g, kBatch, c.cl, c.cs, device(xl).data(), device(xs).data(), dw.data(), partials);
  EXPECT_EQ(host(dw), want);
}

// The gate fuses ReLU's backward into the kernel that computes a gradient: the same bits as the
// kernel followed by relu_backward, in every copy, with zero, -0 and NaN in the gate (all zero the
// output, as y > 0 ? g : 0 does).
TEST(StridedKernels, AGateEqualsReluBackwardAfterTheKernel) {
  auto gate_values = [](size_t n) {
    std::vector<Real> v = values(n, 6);
    for (size_t i = 0; i < n; i += 5) v[i] = Real(0);
    for (size_t i = 3; i < n; i += 7) v[i] = -Real(0);
    for (size_t i = 4; i < n; i += 11) v[i] = std::nan("");
    return v;
  };
  const std::string best = KernelCopy::best();
  for (const std::string isa : {"baseline", "avx2", "avx512"}) {
    const KernelCopy copy(isa);
    for (const Case& c : cases()) {
      const StridedGeometry g = same_padding(c.long_len, c.kernel, c.stride);
      const size_t nl = size_t(kBatch) * c.long_len * c.cl, ns = size_t(kBatch) * g.short_len * c.cs;
      const View1 x_long = device(values(nl, 1)), x_short = device(values(ns, 2));
      const View1 w = device(values(size_t(c.kernel) * c.cl * c.cs, 3));
      const View1 gate_short = device(gate_values(ns)), gate_long = device(gate_values(nl));
      View1 down("down", ns), down_gated("down_gated", ns), up("up", nl), up_gated("up_gated", nl), scratch;
      strided_down(g, kBatch, c.cl, c.cs, x_long.data(), w.data(), nullptr, down.data(), false);
      relu_backward(ns, gate_short.data(), down.data());
      strided_down(g, kBatch, c.cl, c.cs, x_long.data(), w.data(), nullptr, down_gated.data(), false, gate_short.data());
      EXPECT_EQ(host(down_gated), host(down)) << isa << " down " << name_of(c);
      strided_up(g, kBatch, c.cl, c.cs, x_short.data(), w.data(), nullptr, up.data(), false, scratch);
      relu_backward(nl, gate_long.data(), up.data());
      strided_up(g, kBatch, c.cl, c.cs, x_short.data(), w.data(), nullptr, up_gated.data(), false, scratch,
                 gate_long.data());
      EXPECT_EQ(host(up_gated), host(up)) << isa << " up " << name_of(c);
    }
    if (isa == best) break;
  }
}

// ReLU is v < 0 ? 0 : v in every copy: a NaN output stays NaN and a -0 stays -0 (a vector max
// with its operands the wrong way round returns 0 for both). Sample 0 gives -0 everywhere (zero
// inputs times negative weights added to a -0 bias), sample 1 NaN where its NaN input reaches.
TEST(StridedKernels, ReluKeepsNanAndNegativeZeroInEveryCopy) {
  auto bits = [](const std::vector<Real>& v) {
    std::vector<uint32_t> out(v.size());
    std::memcpy(out.data(), v.data(), v.size() * sizeof(Real));
    return out;
  };
  for (const Case& c : {Case{40, 3, 2, 40, 40}, Case{96, 5, 3, 1, 40}}) {
    const StridedGeometry g = same_padding(c.long_len, c.kernel, c.stride);
    const size_t nl = size_t(2) * c.long_len * c.cl, ns = size_t(2) * g.short_len * c.cs;
    std::vector<Real> x_long(nl, Real(0)), x_short(ns, Real(0));
    x_long[nl / 2 + c.cl * 7] = x_short[ns / 2 + c.cs * 3] = std::nan("");  // in sample 1
    const View1 w = device(std::vector<Real>(size_t(c.kernel) * c.cl * c.cs, Real(-1)));
    const View1 bias = device(std::vector<Real>(std::max(c.cl, c.cs), -Real(0)));
    const View1 xl = device(x_long), xs = device(x_short);
    std::vector<uint32_t> first_down, first_up;
    for (const std::string isa : {"baseline", "avx2", "avx512"}) {
      const KernelCopy copy(isa);
      View1 down("down", ns), up("up", nl), scratch;
      strided_down(g, 2, c.cl, c.cs, xl.data(), w.data(), bias.data(), down.data(), true);
      strided_up(g, 2, c.cl, c.cs, xs.data(), w.data(), bias.data(), up.data(), true, scratch);
      const std::vector<Real> d = host(down), u = host(up);
      auto negative_zeros = [](const Real* v, size_t n) {
        return std::count_if(v, v + n, [](Real e) { return e == 0 && std::signbit(e); });
      };
      auto nans = [](const Real* v, size_t n) { return std::count_if(v, v + n, [](Real e) { return std::isnan(e); }); };
      EXPECT_EQ(negative_zeros(d.data(), ns / 2), long(ns / 2)) << isa << " down " << name_of(c);
      // (The one-channel kernel adds the bias to tap sums that start from +0: +0 there.)
      if (c.cl > 1) EXPECT_EQ(negative_zeros(u.data(), nl / 2), long(nl / 2)) << isa << " up " << name_of(c);
      EXPECT_GT(nans(d.data() + ns / 2, ns / 2), 0) << isa << " down " << name_of(c);
      EXPECT_GT(nans(u.data() + nl / 2, nl / 2), 0) << isa << " up " << name_of(c);
      if (first_down.empty()) first_down = bits(d), first_up = bits(u);
      EXPECT_EQ(bits(d), first_down) << isa << " down " << name_of(c);
      EXPECT_EQ(bits(u), first_up) << isa << " up " << name_of(c);
      if (isa == KernelCopy::best()) break;
    }
  }
}

TEST(StridedKernels, RefuseAnUnknownOrUnavailableCopyNamingIt) {
  try {
    use_strided_kernels("sse9");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "strided kernels sse9: expected baseline, avx2 or avx512");
  }
  EXPECT_EQ(strided_kernel_isa(), KernelCopy::best());
  if (KernelCopy::best() != "avx512") EXPECT_THROW(use_strided_kernels("avx512"), Error);
}
