// The Kokkos engine against LibTorch on the same model, batch and thread count, in one run:
// (a) training windows/s (forward, backward, Adam) on 64-day windows, batch 32;
// (b) generation one-year traces/s (prior, sample, decode of 92 latent steps), sub-batches of 32.
// Prints each figure, the Kokkos/LibTorch ratio and the fraction of the FMA peak of the threads used.
// With --threads N > 1 (needs a Kokkos with the OpenMP backend) it also measures Kokkos at one
// thread, in a child process since Kokkos starts its thread pool once, and prints the speedup.
//
// Usage: bench_engine [--threads N] [--blas-threads M] [--seconds S]   (see bench/run_engine.sh)
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_timing.hpp"
#include "kernel_paths.hpp"
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
constexpr int kRounds = 5;  // measurements alternate the engines this many times

struct Options {
  int threads = 1;
  int blas_threads = 0;  // 0: leave OpenBLAS's own choice
  bool torch_onednn = true;
  double seconds = 3.0;
  bool kokkos_only = false;  // the child that measures Kokkos at one thread
};

Options parse(int argc, char** argv) {
  Options o;
  bool no_onednn = false;
  const bool run = climvae::bench::parse_options(
      argc, argv, "bench_engine",
      {{"--threads", &o.threads}, {"--blas-threads", &o.blas_threads}, {"--seconds", &o.seconds},
       {"--no-onednn", &no_onednn}, {"--kokkos-only", &o.kokkos_only}},
      "Usage: bench_engine [--threads N (1)] [--blas-threads M (OpenBLAS's default)] [--no-onednn]\n"
      "                    [--seconds S (3)]\n"
      "  --threads N       Kokkos threads and LibTorch intra-op threads; N > 1 needs a Kokkos built with\n"
      "                    the OpenMP backend, and adds Kokkos at 1 thread for the speedup\n"
      "  --blas-threads M  OpenBLAS threads for LibTorch's matrix products (openblas_set_num_threads)\n"
      "  --no-onednn       LibTorch without oneDNN (mkldnn): its convolutions then use im2col + BLAS\n"
      "  --seconds S       seconds per measurement after warm-up\n"
      "  --kokkos-only     print only Kokkos' two figures on one line (used for the 1-thread run)\n");
  if (!run) std::exit(0);
  o.torch_onednn = !no_onednn;
  climvae::require(o.threads >= 1 && o.seconds > 0, "bench_engine: --threads and --seconds must be positive");
  climvae::require(o.blas_threads >= 0, "bench_engine: --blas-threads must be positive");
  return o;
}

using climvae::bench::median;
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

#if defined(__AVX512F__)
constexpr int kBuildSimdFloats = 16;
constexpr const char* kBuildSimdName = "AVX-512";
#elif defined(__AVX2__)
constexpr int kBuildSimdFloats = 8;
constexpr const char* kBuildSimdName = "AVX2";
#else
constexpr int kBuildSimdFloats = 4;
constexpr const char* kBuildSimdName = "SSE";
#endif
constexpr int kFmaPerCycle = 2;  // two FMA pipes per core (Intel server cores, AMD Zen 4)

// The vector width the kernels run with: the copy picked at run time in a portable build (which
// is compiled for SSE but runs AVX2 or AVX-512 kernels), else the build's own flags.
struct Simd {
  int floats;
  const char* name;
};
Simd kernel_simd() {
  const std::string isa = climvae::strided_kernel_isa();
  if (isa == "avx512") return {16, "AVX-512"};
  if (isa == "avx2") return {8, "AVX2"};
  return {kBuildSimdFloats, kBuildSimdName};
}

// The FMA rate one core sustains at the kernels' vector width, measured: twelve independent chains
// of vector FMAs for 0.2 s. /proc/cpuinfo gives the nominal clock, and a core under load may run
// well above it (the 2026-12-06 development container: 2.6 GHz nominal, about 3.9 sustained), so
// the nominal peak can understate the real one by half. 0 where it cannot be measured.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
typedef float V8 __attribute__((vector_size(32)));
typedef float V16 __attribute__((vector_size(64)));
// One function per width, each compiled for its instruction set (the FMAs must inline).
#define CLIMVAE_FMA_CHAINS(name, isa, V, floats, fma)                               \
  __attribute__((target(isa))) double name() {                                      \
    V acc[12], b, c;                                                                 \
    for (int i = 0; i < floats; ++i) b[i] = 1.0f - 1e-7f, c[i] = 1e-7f;             \
    for (auto& a : acc) a = b;                                                       \
    long rounds = 0;                                                                 \
    double dt = 0;                                                                   \
    const auto t0 = std::chrono::steady_clock::now();                                \
    do {                                                                             \
      for (int r = 0; r < 100000; ++r)                                               \
        _Pragma("GCC unroll 12") for (auto& a : acc) a = fma;                        \
      rounds += 100000;                                                              \
      dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); \
    } while (dt < 0.2);                                                              \
    volatile float sink = 0;                                                         \
    for (auto& a : acc) sink = sink + a[0];                                          \
    return 12.0 * rounds * floats / dt;                                              \
  }
CLIMVAE_FMA_CHAINS(fma_rate_avx2, "avx2,fma", V8, 8, __builtin_ia32_vfmaddps256(a, b, c))
CLIMVAE_FMA_CHAINS(fma_rate_avx512, "avx512f", V16, 16,
                   __builtin_ia32_vfmaddps512_mask(a, b, c, static_cast<__mmask16>(-1), 4))
#undef CLIMVAE_FMA_CHAINS
double measured_fma_peak(int floats) {
  if (floats == 8) return fma_rate_avx2();
  if (floats == 16) return fma_rate_avx512();
  return 0;
}
#else
double measured_fma_peak(int) { return 0; }
#endif

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

void report(const char* what, const char* unit, double kokkos, double torch_rate, double ratio, double macs_per_item,
            double peak_fma_per_s, double measured_peak) {
  std::printf("%s\n", what);
  auto line = [&](const char* engine, double rate) {
    std::printf("  %-8s %10.1f %s/s   %6.2f GFLOP/s   %5.1f%% of FMA peak", engine, rate, unit,
                2 * macs_per_item * rate / 1e9, 100 * macs_per_item * rate / peak_fma_per_s);
    if (measured_peak > 0) std::printf(" (%.1f%% of the measured)", 100 * macs_per_item * rate / measured_peak);
    std::printf("\n");
  };
  line("Kokkos", kokkos);
  line("LibTorch", torch_rate);
  std::printf("  Kokkos/LibTorch = %.2f\n", ratio);
}

// OpenBLAS's thread count, looked up at run time: LibTorch may be linked to another BLAS.
int openblas_threads() {
  using Get = int (*)();
  const auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : -1;
}

void set_openblas_threads(int n) {
  using Set = void (*)(int);
  const auto set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  climvae::require(set != nullptr, "bench_engine: --blas-threads given, but no OpenBLAS is loaded");
  set(n);
}

// Training windows/s and generation traces/s of one engine.
struct Figures {
  double train = 0;
  double train_temporal = 0;  // the same windows with the temporal prior (climvae train's default)
  double generate = 0;
};

// The inputs both engines see: the same windows, noise and seasons.
struct Inputs {
  std::vector<float> x, eps, season, gen_season;
};

Figures measure_kokkos(Vae& vae, const Inputs& in, double seconds) {
  const int nz = vae.config().latent, hours = kTrainSteps * Vae::kHoursPerStep;
  Figures f;
  // (a) Training: same data, same eps every step. The weights move; generation starts from a copy.
  const auto start_params = Kokkos::create_mirror_view_and_copy(climvae::MemSpace(), vae.params().values);
  climvae::View2 kx("x", kBatch, hours);
  climvae::View3 kseason("season", kBatch, kTrainSteps, climvae::kSeasonalFeatures);
  climvae::View3 keps("eps", kBatch, kTrainSteps, nz);
  fill(kx, in.x);
  fill(kseason, in.season);
  fill(keps, in.eps);
  climvae::Adam adam(vae.params().layout.total());
  f.train = kBatch * rate(seconds, [&] {
              vae.forward_backward(kx, kseason, keps, true);
              adam.step(vae.params().values, vae.params().grads);
              climvae::kx::fence("bench::train");
            });

  {
    climvae::VaeConfig config = vae.config();
    config.prior = climvae::PriorKind::temporal;
    Vae temporal(config);
    temporal.initialize(1);
    climvae::Adam temporal_adam(temporal.params().layout.total());
    f.train_temporal = kBatch * rate(seconds, [&] {
                         temporal.forward_backward(kx, kseason, keps, true);
                         temporal_adam.step(temporal.params().values, temporal.params().grads);
                         climvae::kx::fence("bench::train_temporal");
                       });
  }

  // (b) Generation of one-year traces, 32 at a time, drawing its own normals.
  Kokkos::deep_copy(vae.params().values, start_params);
  climvae::View3 gseason("season", kBatch, kYearSteps, climvae::kSeasonalFeatures);
  fill(gseason, in.gen_season);
  climvae::View3 gprior("prior", kBatch, kYearSteps, 2 * nz);
  climvae::View3 gz("z", kBatch, kYearSteps, nz);
  climvae::View3 gout("out", kBatch, kYearSteps * Vae::kHoursPerStep, 1);
  uint64_t draw = 0;
  f.generate = kBatch * rate(seconds, [&] {
                 vae.prior(gseason, gprior);
                 const uint64_t key = climvae::stream_key(7, draw++);
                 const Real* p = gprior.data();
                 Real* z = gz.data();
                 Kokkos::parallel_for(
                     "bench::sample", climvae::RangePolicy(0, static_cast<int>(gz.size())), KOKKOS_LAMBDA(const int i) {
                       const int r = i / nz, c = i % nz;
                       z[i] = p[r * 2 * nz + c] +
                              climvae::kx::exp(Real(0.5) * p[r * 2 * nz + nz + c]) * climvae::standard_normal(key, i);
                     });
                 vae.decode(gz, gout);
                 climvae::kx::fence("bench::generate");
               });
  return f;
}

Figures measure_torch(climvae::reference::TorchVae& model, const std::vector<float>& params,
                      const climvae::ParamLayout& layout, int nz, const Inputs& in, double seconds) {
  auto tensor = [](const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
  };
  Figures f;
  model.load_keras_flat(params, layout);
  const torch::Tensor tx = tensor(in.x, {kBatch, kTrainSteps * Vae::kHoursPerStep});
  const torch::Tensor tseason = tensor(in.season, {kBatch, kTrainSteps, climvae::kSeasonalFeatures});
  const torch::Tensor teps = tensor(in.eps, {kBatch, kTrainSteps, nz});
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-3).eps(1e-7));
  f.train = kBatch * rate(seconds, [&] {
              optimizer.zero_grad();
              model.forward(tx, tseason, teps).total_loss.backward();
              optimizer.step();
            });

  model.load_keras_flat(params, layout);  // same weights again after the training steps
  const torch::Tensor tgen_season = tensor(in.gen_season, {kBatch, kYearSteps, climvae::kSeasonalFeatures});
  torch::NoGradGuard no_grad;
  f.generate = kBatch * rate(seconds, [&] {
                 const torch::Tensor p = model.prior(tgen_season);
                 const torch::Tensor z =
                     p.narrow(2, 0, nz) + torch::exp(0.5 * p.narrow(2, nz, nz)) * torch::randn({kBatch, kYearSteps, nz});
                 model.decode(z);
               });
  return f;
}

// The medians over rounds of each figure, and of the rounds' Kokkos / LibTorch ratios.
struct Medians {
  Figures kokkos, torch, ratio;
};

Medians medians(const std::vector<Figures>& k, const std::vector<Figures>& t) {
  Medians m;
  for (double Figures::*field : {&Figures::train, &Figures::train_temporal, &Figures::generate}) {
    std::vector<double> kv, tv, rv;
    for (size_t r = 0; r < k.size(); ++r) {
      kv.push_back(k[r].*field);
      tv.push_back(t[r].*field);
      rv.push_back(t[r].*field > 0 ? k[r].*field / (t[r].*field) : 0);
    }
    m.kokkos.*field = median(kv);
    m.torch.*field = median(tv);
    m.ratio.*field = median(rv);
  }
  return m;
}

// Kokkos at one thread, measured by this program itself in a child process with --kokkos-only.
Figures kokkos_one_thread(double seconds) {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  climvae::require(n > 0, "bench_engine: cannot find its own executable (/proc/self/exe)");
  self[n] = '\0';
  const std::string command =
      "'" + std::string(self) + "' --threads 1 --kokkos-only --seconds " + std::to_string(seconds);
  std::unique_ptr<FILE, int (*)(FILE*)> child(popen(command.c_str(), "r"), pclose);
  climvae::require(child != nullptr, "bench_engine: cannot start " + command);
  Figures f;
  char line[512];
  bool found = false;
  while (std::fgets(line, sizeof line, child.get()))
    found = found || std::sscanf(line, "kokkos-only: %lf %lf", &f.train, &f.generate) == 2;
  climvae::require(found, "bench_engine: the 1-thread run (" + command + ") printed no figures");
  return f;
}

int run(const Options& o) {
  const int kokkos_threads = climvae::ExecSpace().concurrency();
  climvae::require(kokkos_threads == o.threads,
                   "bench_engine: --threads " + std::to_string(o.threads) + " needs Kokkos with a threaded host "
                   "backend (OpenMP), but this build's Kokkos runs " + climvae::ExecSpace::name() + " with " +
                   std::to_string(kokkos_threads) + " thread(s). Configure climvae with -DKokkos_ROOT=<a Kokkos "
                   "built with -DKokkos_ENABLE_OPENMP=ON>; jobscripts/test-openmp.sh builds one into "
                   "build-kokkos-openmp/install (docs/benchmarks.md)");
  torch::set_num_threads(o.threads);
  if (o.blas_threads > 0) set_openblas_threads(o.blas_threads);
  at::globalContext().setUserEnabledMkldnn(o.torch_onednn);
  std::mt19937 rng(42);
  Vae vae;
  vae.initialize(1);
  const climvae::ParamLayout& layout = vae.params().layout;
  const auto host_params = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.params().values);
  const std::vector<float> params(host_params.data(), host_params.data() + host_params.size());
  const int nz = vae.config().latent, hours = kTrainSteps * Vae::kHoursPerStep;
  Inputs in;
  in.x = normals(static_cast<size_t>(kBatch) * hours, rng);
  in.eps = normals(static_cast<size_t>(kBatch) * kTrainSteps * nz, rng);
  in.season = season_of(kBatch, kTrainSteps, rng);
  in.gen_season = season_of(kBatch, kYearSteps, rng);

  if (o.kokkos_only) {
    const Figures k = measure_kokkos(vae, in, o.seconds);
    std::printf("kokkos-only: %.3f %.3f\n", k.train, k.generate);
    return 0;
  }

  const double ghz = cpu_ghz();
  const Simd simd = kernel_simd();
  const double peak = o.threads * ghz * 1e9 * kFmaPerCycle * simd.floats;  // FMA per second
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const char* omp = std::getenv("OMP_NUM_THREADS");
  std::printf("bench_engine: batch %d, training windows of %d h (k=%d), one-year traces of k=%d steps\n", kBatch,
              hours, kTrainSteps, kYearSteps);
  std::printf("  threads: Kokkos %s concurrency %d, torch::get_num_threads() %d, OpenBLAS threads %d, "
              "OMP_NUM_THREADS=%s\n",
              climvae::ExecSpace::name(), kokkos_threads, torch::get_num_threads(), openblas_threads(),
              omp ? omp : "(unset)");
  std::printf("  LibTorch oneDNN (mkldnn) convolutions %s\n",
              at::globalContext().userEnabledMkldnn() ? "enabled" : "disabled (im2col + BLAS)");
  std::printf("  GLIBC_TUNABLES=%s\n", tunables ? tunables : "(unset)");
  std::printf("  BLAS loaded: %s\n", loaded_blas().c_str());
  std::printf("  FMA peak assumed: %d thread(s) x %.3f GHz (/proc/cpuinfo) x %d FMA/cycle x %d floats (%s) = %.1f GFMA/s\n",
              o.threads, ghz, kFmaPerCycle, simd.floats, simd.name, peak / 1e9);
  const double measured_peak = o.threads * measured_fma_peak(simd.floats);
  if (measured_peak > 0)
    std::printf("  FMA peak measured: %d thread(s) x %.1f GFMA/s of %s FMAs in independent chains (%.2f GHz x %d FMA/cycle)\n",
                o.threads, measured_peak / o.threads / 1e9, simd.name,
                measured_peak / o.threads / 1e9 / kFmaPerCycle / simd.floats, kFmaPerCycle);
  climvae::bench::print_kernel_paths(vae);
  std::printf("  %.1f s per measurement after warm-up, in %d rounds that alternate the engines (medians)\n\n",
              o.seconds, kRounds);

  climvae::reference::TorchVae model(vae.config());
  // The engines take turns, kRounds rounds of a part of --seconds each: a change of the machine's
  // load or clock between them moves both, and the median of the rounds' ratios stays put.
  std::vector<Figures> ks, ts;
  for (int r = 0; r < kRounds; ++r) {
    ks.push_back(measure_kokkos(vae, in, o.seconds / kRounds));
    ts.push_back(measure_torch(model, params, layout, nz, in, o.seconds / kRounds));
  }
  const Medians m = medians(ks, ts);
  const Figures& k = m.kokkos;
  const Figures& t = m.torch;
  // Forward, weight gradients and input gradients of every layer but the first (no data gradient).
  const auto& first = vae.encoder().front();
  const double first_macs =
      double((hours + first.stride - 1) / first.stride) * first.kernel * first.long_channels * first.short_channels;
  const double train_macs = 3 * conv_macs(vae, kTrainSteps, true, true) - first_macs;
  const double gen_macs = conv_macs(vae, kYearSteps, false, true);
  report("(a) training: forward + backward + Adam, 64-day windows", "windows", k.train, t.train, m.ratio.train,
         train_macs, peak, measured_peak);
  std::printf("  Kokkos with the temporal prior %8.1f windows/s: %+.1f%% time per window against the seasonal prior\n",
              k.train_temporal, 100 * (k.train / k.train_temporal - 1));
  report("(b) generation: prior + sample + decode, one-year traces", "traces", k.generate, t.generate, m.ratio.generate,
         gen_macs, peak, measured_peak);

  if (o.threads > 1) {
    const Figures one = kokkos_one_thread(o.seconds);
    std::printf("(c) Kokkos at %d threads against Kokkos at 1 thread (a child process)\n", o.threads);
    std::printf("  training   %10.1f -> %10.1f windows/s   speedup %.2f (%.0f%% parallel efficiency)\n", one.train,
                k.train, k.train / one.train, 100 * k.train / one.train / o.threads);
    std::printf("  generation %10.1f -> %10.1f traces/s    speedup %.2f (%.0f%% parallel efficiency)\n", one.generate,
                k.generate, k.generate / one.generate, 100 * k.generate / one.generate / o.threads);
  }
  return 0;
}

// Kokkos starts its thread pool once, at initialisation: ask for the benchmark's thread count.
#if KOKKOS_VERSION >= 30700
Kokkos::InitializationSettings kokkos_settings(int threads) {
  return Kokkos::InitializationSettings().set_num_threads(threads);
}
#else
Kokkos::InitArguments kokkos_settings(int threads) {
  Kokkos::InitArguments args;
  args.num_threads = threads;
  return args;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    Kokkos::ScopeGuard kokkos(kokkos_settings(options.threads));
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine: error: %s\n", e.what());
    return 1;
  }
}
