// 8 threads x 200 requests on one handle equal the same requests made serially; the host
// initialised Kokkos itself, so the library must neither re-initialise nor finalise it.
#include <Kokkos_Core.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>
#include <vector>

#include "climvae.hpp"

using climvae::plugin::Model;

namespace {

constexpr int kThreads = 8, kPerThread = 200;

// Request i: varied cell, start, length, members, seed, units; every 10th conditions.
climvae_request request(int i) {
  climvae_request r = climvae::plugin::default_request();
  r.cell = i % 2;
  r.start_hour = 455000 + 37 * i;
  r.hours = 24 + (i * 13) % 200;
  r.members = 1 + i % 3;
  r.seed = 1000 + i;
  r.units = i % 3;
  r.condition_iterations = 2;
  return r;
}

std::vector<float> run(const Model& m, int i) {
  const climvae_request r = request(i);
  if (i % 10 != 0) return m.generate(r);
  // 280 K in the request's units (K, degC, degF): a value outside any climate is now refused.
  const float known_value = r.units == 0 ? 280.0f : r.units == 1 ? 280.0f - 273.15f : (280.0f - 273.15f) * 1.8f + 32.0f;
  std::vector<float> known(static_cast<size_t>(r.hours / 2), known_value);
  known[1] = std::nanf("");
  return m.condition(r, known);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  Kokkos::ScopeGuard kokkos;
  int failures = 0;
  {
    const Model model(argv[1]);
    std::vector<std::vector<float>> serial(kThreads * kPerThread), parallel(kThreads * kPerThread);
    for (int i = 0; i < kThreads * kPerThread; ++i) serial[i] = run(model, i);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        try {  // thread t takes requests t, t + 8, ... so neighbours in time differ in shape
          for (int k = 0; k < kPerThread; ++k) parallel[t + kThreads * k] = run(model, t + kThreads * k);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "thread %d: %s\n", t, e.what());
          ++errors;
        }
      });
    for (auto& th : threads) th.join();
    for (int i = 0; i < kThreads * kPerThread; ++i)
      if (serial[i] != parallel[i]) {
        if (++failures <= 5) std::fprintf(stderr, "request %d differs between serial and threaded runs\n", i);
      }
    failures += errors;
    std::printf("test_concurrency: %d threads x %d requests, %d differ from serial\n", kThreads, kPerThread, failures);
  }
  if (!Kokkos::is_initialized()) {
    std::fprintf(stderr, "the library finalised the host's Kokkos\n");
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}
