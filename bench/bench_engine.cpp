// The Kokkos engine against LibTorch on the same model, batch and thread count, in one run:
// (a) training windows/s (forward, backward, Adam) on 64-day windows, batch 32;
// (b) generation one-year traces/s (prior, sample, decode of 92 latent steps), sub-batches of 32.
// Prints each figure, the Kokkos/LibTorch ratio and the fraction of the core's FMA peak.
//
// Usage: bench_engine [--threads N] [--seconds S]   (see bench/run_engine.sh for the tuned run)
#include <dlfcn.h>
#include <link.h>

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench_timing.hpp"
#include "common/error.hpp"
#include "engine/adam.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"
#include "engine/strided_conv.hpp"
#include "model/seasonal.hpp"
#include "model/vae.hpp"
#include "reference/torch_vae.hpp"

namespace {

using climvae::Real;
using climvae::Vae;

constexpr int kBatch = 32;
constexpr int kTrainSteps = 16;                                       // 64-day windows
constexpr int kYearSteps = (8760 + Vae::kHoursPerStep - 1) / Vae::kHoursPerStep;  // 92

struct Options {
  int threads = 1;
  double seconds = 3.0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      o.threads = std::atoi(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      o.seconds = std::atof(argv[++i]);
    } else if (a == "--help" || a == "-h") {
      std::printf("Usage: bench_engine [--threads N (1)] [--seconds S per measurement (3)]\n");
      std::exit(0);
    } else {
      throw climvae::Error("bench_engine: unknown argument '" + a + "' (see --help)");
    }
  }
  climvae::require(o.threads >= 1 && o.seconds > 0, "bench_engine: --threads and --seconds must be positive");
  return o;
}

using climvae::bench::rate;

// Multiply-adds of one forward pass through the strided layers for k latent steps, counted on
// the short side (every tap of every short position, padding included, as the kernels do).
double conv_macs(const Vae& vae, int steps, bool encoder, bool decoder) {
  double macs = 0;
  auto count = [&](const climvae::StridedLayer& l, int short_len) {
    macs += double(short_len) * l.kernel * l.long_channels * l.short_channels;
  };
  int len = steps * Vae::kHoursPerStep;
  for (const auto& l : vae.encoder()) {
    len = (len + l.stride - 1) / l.stride;
    if (encoder) count(l, len);
  }
  for (const auto& l : vae.decoder()) {
    if (decoder) count(l, len);
    len *= l.stride;
  }
  return macs;
}

double cpu_ghz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("cpu MHz", 0) == 0) return std::atof(line.substr(line.find(':') + 1).c_str()) / 1000.0;
  return 0;
}

// SIMD width of the convolution kernels: the instruction set they were dispatched to at run
// time (portable builds), else the build's own flags (-DCLIMVAE_NATIVE=ON, non-x86).
struct Simd {
  int floats;
  const char* name;
};
Simd kernel_simd() {
  const std::string isa = climvae::strided_kernel_isa();
  if (isa == "avx512") return {16, "AVX-512"};
  if (isa == "avx2") return {8, "AVX2"};
#if defined(__AVX512F__)
  return {16, "AVX-512"};
#elif defined(__AVX2__)
  return {8, "AVX2"};
#else
  return {4, "SSE"};
#endif
}
constexpr int kFmaPerCycle = 2;  // two FMA pipes per core (Intel server cores, AMD Zen 4)

// Every loaded shared object whose name mentions blas, as resolved on disk.
std::string loaded_blas() {
  std::set<std::string> found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("blas") != std::string::npos) {
          char resolved[4096];
          const char* real = realpath(name.c_str(), resolved);
          static_cast<std::set<std::string>*>(data)->insert(name + (real ? " -> " + std::string(real) : ""));
        }
        return 0;
      },
      &found);
  std::string s;
  for (const auto& f : found) s += (s.empty() ? "" : ", ") + f;
  return s.empty() ? "(none loaded)" : s;
}

std::vector<float> normals(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

template <class View>
void fill(const View& view, const std::vector<float>& values) {
  auto host = Kokkos::create_mirror_view(view);
  std::copy(values.begin(), values.end(), host.data());
  Kokkos::deep_copy(view, host);
}

std::vector<float> season_of(int batch, int steps, std::mt19937& rng) {
  std::vector<float> s(static_cast<size_t>(batch) * steps * climvae::kSeasonalFeatures);
  std::uniform_int_distribution<int64_t> start(0, 40LL * 8760);
  for (int b = 0; b < batch; ++b)
    climvae::seasonal_features(start(rng), steps, s.data() + static_cast<size_t>(b) * steps * climvae::kSeasonalFeatures);
  return s;
}

void report(const char* what, const char* unit, double kokkos, double torch_rate, double macs_per_item,
            double peak_fma_per_s) {
  std::printf("%s\n", what);
  std::printf("  Kokkos   %10.1f %s/s   %6.2f GFLOP/s   %5.1f%% of FMA peak\n", kokkos, unit,
              2 * macs_per_item * kokkos / 1e9, 100 * macs_per_item * kokkos / peak_fma_per_s);
  std::printf("  LibTorch %10.1f %s/s   %6.2f GFLOP/s   %5.1f%% of FMA peak\n", torch_rate, unit,
              2 * macs_per_item * torch_rate / 1e9, 100 * macs_per_item * torch_rate / peak_fma_per_s);
  std::printf("  Kokkos/LibTorch = %.2f\n", kokkos / torch_rate);
}

int run(const Options& o) {
  torch::set_num_threads(o.threads);
  std::mt19937 rng(42);
  Vae vae;
  vae.initialize(1);
  const climvae::ParamLayout& layout = vae.params().layout;
  const auto host_params = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.params().values);
  const std::vector<float> params(host_params.data(), host_params.data() + host_params.size());
  climvae::reference::TorchVae model(vae.config());
  model.load_keras_flat(params, layout);
  const int nz = vae.config().latent, hours = kTrainSteps * Vae::kHoursPerStep;

  const double ghz = cpu_ghz();
  const Simd simd = kernel_simd();
  const double peak = o.threads * ghz * 1e9 * kFmaPerCycle * simd.floats;  // FMA per second
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const char* omp = std::getenv("OMP_NUM_THREADS");
  std::printf("bench_engine: batch %d, training windows of %d h (k=%d), one-year traces of k=%d steps\n", kBatch,
              hours, kTrainSteps, kYearSteps);
  std::printf("  threads: Kokkos %s concurrency %d, torch::get_num_threads() %d, OMP_NUM_THREADS=%s\n",
              climvae::ExecSpace::name(), climvae::ExecSpace().concurrency(), torch::get_num_threads(),
              omp ? omp : "(unset)");
  std::printf("  GLIBC_TUNABLES=%s\n", tunables ? tunables : "(unset)");
  std::printf("  BLAS loaded: %s\n", loaded_blas().c_str());
  std::printf("  convolution kernels: %s (src/engine/strided_conv.cpp)\n", climvae::strided_kernel_isa());
  std::printf("  FMA peak assumed: %d thread(s) x %.3f GHz (/proc/cpuinfo) x %d FMA/cycle x %d floats (%s) = %.1f GFMA/s\n",
              o.threads, ghz, kFmaPerCycle, simd.floats, simd.name, peak / 1e9);
  std::printf("  %.1f s per measurement after warm-up\n\n", o.seconds);

  // (a) Training: same data, same eps every step, for both.
  const std::vector<float> x = normals(static_cast<size_t>(kBatch) * hours, rng);
  const std::vector<float> eps = normals(static_cast<size_t>(kBatch) * kTrainSteps * nz, rng);
  const std::vector<float> season = season_of(kBatch, kTrainSteps, rng);
  climvae::View2 kx("x", kBatch, hours);
  climvae::View3 kseason("season", kBatch, kTrainSteps, climvae::kSeasonalFeatures);
  climvae::View3 keps("eps", kBatch, kTrainSteps, nz);
  fill(kx, x);
  fill(kseason, season);
  fill(keps, eps);
  climvae::Adam adam(layout.total());
  const double kokkos_train = kBatch * rate(o.seconds, [&] {
                                vae.forward_backward(kx, kseason, keps, true);
                                adam.step(vae.params().values, vae.params().grads);
                                climvae::kx::fence("bench::train");
                              });

  auto tensor = [](const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
  };
  const torch::Tensor tx = tensor(x, {kBatch, hours});
  const torch::Tensor tseason = tensor(season, {kBatch, kTrainSteps, climvae::kSeasonalFeatures});
  const torch::Tensor teps = tensor(eps, {kBatch, kTrainSteps, nz});
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-3).eps(1e-7));
  const double torch_train = kBatch * rate(o.seconds, [&] {
                               optimizer.zero_grad();
                               model.forward(tx, tseason, teps).total_loss.backward();
                               optimizer.step();
                             });
  // Forward, weight gradients and input gradients of every layer but the first (no data gradient).
  const auto& first = vae.encoder().front();
  const double first_macs =
      double((hours + first.stride - 1) / first.stride) * first.kernel * first.long_channels * first.short_channels;
  const double train_macs = 3 * conv_macs(vae, kTrainSteps, true, true) - first_macs;
  report("(a) training: forward + backward + Adam, 64-day windows", "windows", kokkos_train, torch_train, train_macs,
         peak);
  {  // The temporal prior (the default of `climvae train`) on the same windows, in the same run.
    climvae::VaeConfig temporal;
    temporal.prior = climvae::PriorKind::temporal;
    Vae tvae(temporal);
    tvae.initialize(1);
    climvae::Adam tadam(tvae.params().layout.total());
    const double temporal_train = kBatch * rate(o.seconds, [&] {
                                    tvae.forward_backward(kx, kseason, keps, true);
                                    tadam.step(tvae.params().values, tvae.params().grads);
                                    climvae::kx::fence("bench::train_temporal");
                                  });
    std::printf("  Kokkos, temporal prior %10.1f windows/s   cost per window vs the seasonal prior: %+.1f%%\n\n",
                temporal_train, 100 * (kokkos_train / temporal_train - 1));
  }

  // (b) Generation of one-year traces, 32 at a time. Both draw their own normals.
  model.load_keras_flat(params, layout);  // same weights again after the training steps
  Kokkos::deep_copy(vae.params().values, Kokkos::create_mirror_view_and_copy(climvae::MemSpace(), host_params));
  const std::vector<float> gen_season = season_of(kBatch, kYearSteps, rng);
  climvae::View3 gseason("season", kBatch, kYearSteps, climvae::kSeasonalFeatures);
  fill(gseason, gen_season);
  climvae::View3 gprior("prior", kBatch, kYearSteps, 2 * nz);
  climvae::View3 gz("z", kBatch, kYearSteps, nz);
  climvae::View3 gout("out", kBatch, kYearSteps * Vae::kHoursPerStep, 1);
  uint64_t draw = 0;
  const double kokkos_gen = kBatch * rate(o.seconds, [&] {
                              vae.prior(gseason, gprior);
                              const uint64_t key = climvae::stream_key(7, draw++);
                              const Real* p = gprior.data();
                              Real* z = gz.data();
                              Kokkos::parallel_for(
                                  "bench::sample", climvae::RangePolicy(0, static_cast<int>(gz.size())),
                                  KOKKOS_LAMBDA(const int i) {
                                    const int r = i / nz, f = i % nz;
                                    z[i] = p[r * 2 * nz + f] + climvae::kx::exp(Real(0.5) * p[r * 2 * nz + nz + f]) *
                                                                   climvae::standard_normal(key, i);
                                  });
                              vae.decode(gz, gout);
                              climvae::kx::fence("bench::generate");
                            });
  const torch::Tensor tgen_season = tensor(gen_season, {kBatch, kYearSteps, climvae::kSeasonalFeatures});
  double torch_gen = 0;
  {
    torch::NoGradGuard no_grad;
    torch_gen = kBatch * rate(o.seconds, [&] {
                  const torch::Tensor p = model.prior(tgen_season);
                  const torch::Tensor z =
                      p.narrow(2, 0, nz) + torch::exp(0.5 * p.narrow(2, nz, nz)) * torch::randn({kBatch, kYearSteps, nz});
                  model.decode(z);
                });
  }
  report("(b) generation: prior + sample + decode, one-year traces", "traces", kokkos_gen, torch_gen,
         conv_macs(vae, kYearSteps, false, true), peak);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int kokkos_argc = 1;  // our --threads is not Kokkos' --threads=N
  Kokkos::ScopeGuard kokkos(kokkos_argc, argv);
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine: error: %s\n", e.what());
    return 1;
  }
}
