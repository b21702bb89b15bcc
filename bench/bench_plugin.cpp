// The plugin's request cost through the C ABI, next to the same work done directly:
// (a) latency of a one-year (8760 h), one-cell, one-member climvae_generate;
// (b) throughput of a one-year, 50-member request, in traces/s;
// each printed with generate_traces called directly (the plugin's overhead) and with the
// LibTorch twin's prior + sample + decode of the same shape (torch::NoGradGuard, one thread).
//
// Usage: bench_plugin [--seconds S (2)]   (run with OMP_NUM_THREADS=1, as bench/run_engine.sh)
#include <unistd.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "bench_timing.hpp"
#include "climvae.h"
#include "common/calendar.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "reference/torch_vae.hpp"

namespace {

constexpr int kHours = 8760, kMembers = 50;

// Median seconds per call of each of `calls`, made in turn (one of each per round) for about
// `seconds` after one warm-up round: every call sees the same machine, so a neighbour's load
// or a frequency change moves them together and their ratio stays put.
std::vector<double> median_seconds(double seconds, const std::vector<std::function<void()>>& calls) {
  using clock = std::chrono::steady_clock;
  for (const auto& call : calls) call();
  std::vector<std::vector<double>> times(calls.size());
  const auto end = clock::now() + std::chrono::duration<double>(seconds);
  do {
    for (size_t i = 0; i < calls.size(); ++i) {
      const auto t0 = clock::now();
      calls[i]();
      times[i].push_back(std::chrono::duration<double>(clock::now() - t0).count());
    }
  } while (clock::now() < end || times[0].size() < 5);
  std::vector<double> medians;
  for (const auto& t : times) medians.push_back(climvae::bench::median(t));
  return medians;
}

void check(climvae_status s, const climvae_model* h) {
  if (s != CLIMVAE_OK) throw std::runtime_error(climvae_last_error(h));
}

int run(double seconds) {
  torch::set_num_threads(1);
  climvae::Vae vae;
  vae.initialize(3);  // speed does not depend on the weights
  climvae::ModelFile model;
  model.config = vae.config();
  model.parameters = climvae::parameters_of(vae);
  model.reference_year = 2022;
  model.cells.push_back({48.82, 2.29, 0, 0.05, 285.0, 6.5});
  const std::string path = "/tmp/bench_plugin_" + std::to_string(::getpid()) + ".model";
  climvae::save_model(model, path, true);
  climvae_model* h = nullptr;
  check(climvae_open(path.c_str(), CLIMVAE_ABI_VERSION, &h), nullptr);
  std::remove(path.c_str());

  climvae_request r;
  climvae_request_defaults(&r);
  r.cell = 0;
  r.start_hour = climvae::parse_iso_hour("2022-01-01");
  r.hours = kHours;
  std::vector<float> out(size_t(kHours) * kMembers);
  climvae::TraceRequest direct;
  direct.start_hour = r.start_hour;
  direct.hours = kHours;

  // LibTorch: the same prior + sample + decode (92 latent steps) for a batch of n.
  climvae::reference::TorchVae twin(vae.config());
  twin.load_keras_flat(model.parameters, vae.params().layout);
  const int steps = (kHours + climvae::Vae::kHoursPerStep - 1) / climvae::Vae::kHoursPerStep;
  std::vector<float> features(size_t(steps) * climvae::kSeasonalFeatures);
  climvae::seasonal_features(r.start_hour, steps, features.data());
  const torch::Tensor season1 =
      torch::from_blob(features.data(), {1, steps, climvae::kSeasonalFeatures}, torch::kFloat32).clone();
  torch::NoGradGuard no_grad;
  auto torch_decode = [&](int n) {
    const torch::Tensor p = twin.prior(season1.expand({n, steps, climvae::kSeasonalFeatures}));
    const int nz = vae.config().latent;
    twin.decode(p.narrow(2, 0, nz) + torch::exp(0.5 * p.narrow(2, nz, nz)) * torch::randn({n, steps, nz}));
  };

  std::printf("bench_plugin: one cell, one-year traces (%d h, %d latent steps), %.1f s per measurement, medians of calls made in turn\n",
              kHours, steps, seconds);
  r.members = direct.members = 1;
  const std::vector<double> lat = median_seconds(seconds, {[&] { check(climvae_generate(h, &r, out.data(), kHours), h); },
                                                           [&] { climvae::generate_traces(vae, model, direct); },
                                                           [&] { torch_decode(1); }});
  const double lat_plugin = lat[0], lat_direct = lat[1], lat_torch = lat[2];
  std::printf("(a) latency, 1 member x 1 year\n");
  std::printf("  climvae_generate (C ABI)   %8.2f ms\n", 1e3 * lat_plugin);
  std::printf("  generate_traces (direct)   %8.2f ms   (C ABI overhead %+.1f %%)\n", 1e3 * lat_direct,
              100 * (lat_plugin / lat_direct - 1));
  std::printf("  LibTorch prior+decode      %8.2f ms   (LibTorch / C ABI = %.2f)\n", 1e3 * lat_torch,
              lat_torch / lat_plugin);

  r.members = direct.members = kMembers;
  const std::vector<double> thr = median_seconds(seconds, {[&] { check(climvae_generate(h, &r, out.data(), out.size()), h); },
                                                           [&] { climvae::generate_traces(vae, model, direct); },
                                                           [&] { torch_decode(kMembers); }});
  const double thr_plugin = thr[0], thr_direct = thr[1], thr_torch = thr[2];
  std::printf("(b) throughput, %d members x 1 year in one request\n", kMembers);
  std::printf("  climvae_generate (C ABI)   %8.1f traces/s  (%.1f ms per request)\n", kMembers / thr_plugin,
              1e3 * thr_plugin);
  std::printf("  generate_traces (direct)   %8.1f traces/s\n", kMembers / thr_direct);
  std::printf("  LibTorch prior+decode      %8.1f traces/s  (C ABI / LibTorch = %.2f)\n", kMembers / thr_torch,
              thr_torch / thr_plugin);
  check(climvae_close(h), nullptr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  try {
    if (!climvae::bench::parse_options(argc, argv, "bench_plugin", {{"--seconds", &seconds}},
                                       "Usage: bench_plugin [--seconds S (2)]\n"))
      return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  Kokkos::ScopeGuard kokkos;
  try {
    return run(seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_plugin: error: %s\n", e.what());
    return 1;
  }
}
